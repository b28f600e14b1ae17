// The two express applications: the public listener (authorization server, customer MCP endpoints)
// and the internal listener (staff MCP endpoints, ops). Each endpoint module is mounted here.
import { randomUUID } from 'node:crypto';
import express, { type Express } from 'express';
import { pinoHttp } from 'pino-http';
import type { Services } from '../services.js';
import { authorizationServer } from '../authz/router.js';
import { customerEndpoint } from '../servers/customer/router.js';
import { internalEndpoint } from '../servers/internal/router.js';
import { ingestEndpoint } from '../ingest/router.js';
import { approvalConsole } from '../console/router.js';
import { errorHandler, notFound } from './errors.js';
import { healthRoutes } from './health.js';

const REQUEST_ID = /^[\w.:-]{1,64}$/;

function baseApp(services: Services, listener: 'public' | 'internal'): Express {
  const app = express();
  app.use(services.metrics.middleware(listener));
  app.disable('x-powered-by');
  app.set('trust proxy', services.config.trustProxy);
  app.set('query parser', 'simple');
  app.use(
    pinoHttp({
      logger: services.log,
      genReqId: (req, res) => {
        const given = req.headers['x-request-id'];
        const id = typeof given === 'string' && REQUEST_ID.test(given) ? given : randomUUID();
        res.setHeader('X-Request-Id', id);
        return id;
      },
      customLogLevel: (_req, res, err) => (err || res.statusCode >= 500 ? 'error' : 'info'),
      serializers: { req: (req) => ({ id: req.id, method: req.method, url: req.url?.split('?')[0] }) },
    }),
  );
  app.use(healthRoutes(services));
  return app;
}

function finish(app: Express): Express {
  app.use(notFound);
  app.use(errorHandler);
  return app;
}

export interface Apps {
  publicApp: Express;
  internalApp: Express;
}

/** Builds both applications. With `sameListener`, everything is mounted on the public app. */
export function createApps(services: Services, { sameListener = false } = {}): Apps {
  const publicApp = baseApp(services, 'public');
  publicApp.use(authorizationServer(services));
  publicApp.use(customerEndpoint(services));
  if (sameListener) {
    publicApp.use(internalEndpoint(services));
    publicApp.use(ingestEndpoint(services));
    publicApp.use(approvalConsole(services));
    // One listener: metrics are not served at all rather than on the public network.
    return { publicApp: finish(publicApp), internalApp: finish(baseApp(services, 'internal')) };
  }
  const internalApp = baseApp(services, 'internal');
  internalApp.get('/metrics', services.metrics.handler());
  internalApp.use(internalEndpoint(services));
  internalApp.use(ingestEndpoint(services));
  internalApp.use(approvalConsole(services));
  return { publicApp: finish(publicApp), internalApp: finish(internalApp) };
}
