// Liveness (the process answers) and readiness (the database answers).
import { Router } from 'express';
import type { Services } from '../services.js';

export function healthRoutes({ sql }: Pick<Services, 'sql'>): Router {
  const router = Router();
  router.get('/healthz', (_req, res) => {
    res.json({ status: 'ok' });
  });
  router.get('/readyz', async (req, res) => {
    try {
      await Promise.race([
        sql`select 1`,
        new Promise((_, reject) => setTimeout(() => reject(new Error('database check timed out')), 2000).unref()),
      ]);
      res.json({ status: 'ready' });
    } catch (err) {
      req.log?.warn({ err }, 'not ready');
      res.status(503).set('Retry-After', '5').json({ status: 'unavailable' });
    }
  });
  return router;
}
