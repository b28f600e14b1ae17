// The two express applications: the public listener (authorization server, customer MCP endpoints)
// and the internal listener (staff MCP endpoints, ops). Each endpoint module is mounted here.
import express, { type Express } from 'express';
import type { Services } from '../services.js';
import { authorizationServer } from '../authz/router.js';
import { customerEndpoint } from '../servers/customer/router.js';
import { internalEndpoint } from '../servers/internal/router.js';
import { ingestEndpoint } from '../ingest/router.js';
import { approvalConsole } from '../console/router.js';
import { errorHandler, notFound } from './errors.js';
import { healthRoutes } from './health.js';
import { observeRequests } from './request-log.js';
import { carrierEvents } from '../webhooks/carrier-events.js';

function baseApp(services: Services, listener: 'public' | 'internal'): Express {
  const app = express();
  app.disable('x-powered-by');
  app.set('trust proxy', services.config.trustProxy);
  app.set('query parser', 'simple');
  // Request id, request log (L1: it names what it writes, nothing else) and request metrics.
  app.use(observeRequests(app, services.log, services.metrics, listener));
  return app;
}

/** Health last of the routes (no other path overlaps it; express walks every layer before the one that answers). */
function finish(app: Express, services: Services): Express {
  app.use(healthRoutes(services));
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
  // The MCP endpoint first: its calls are most of the traffic, and express walks every layer mounted
  // before the one that answers (no path of the authorization server overlaps it).
  publicApp.use(customerEndpoint(services));
  publicApp.use(authorizationServer(services));
  // Carriers are outside: their events come in on the public listener, signed (docs/WEBHOOKS.md).
  publicApp.use(carrierEvents(services));
  if (sameListener) {
    publicApp.use(internalEndpoint(services));
    publicApp.use(ingestEndpoint(services));
    publicApp.use(approvalConsole(services));
    // One listener: metrics are not served at all rather than on the public network.
    return { publicApp: finish(publicApp, services), internalApp: finish(baseApp(services, 'internal'), services) };
  }
  const internalApp = baseApp(services, 'internal');
  internalApp.get('/metrics', services.metrics.handler());
  internalApp.use(internalEndpoint(services));
  internalApp.use(ingestEndpoint(services));
  internalApp.use(approvalConsole(services));
  return { publicApp: finish(publicApp, services), internalApp: finish(internalApp, services) };
}
