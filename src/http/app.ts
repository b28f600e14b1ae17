// The two express applications: the public listener (authorization server, customer MCP endpoints)
// and the internal listener (staff MCP endpoints, ops). Each endpoint module is mounted here.
import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
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
import { carrierEvents } from '../webhooks/carrier-events.js';

const REQUEST_ID = /^[\w.:-]{1,64}$/;
const MAX_LOGGED_PATH = 256;

/** What the log says about a request: its id, method and path (the query string never: codes and state travel there). */
function requestLine(req: IncomingMessage & { id?: unknown }): { id: unknown; method: string | undefined; path: string } {
  const url = req.url ?? '';
  const q = url.indexOf('?');
  const path = q < 0 ? url : url.slice(0, q);
  return { id: req.id, method: req.method, path: path.length > MAX_LOGGED_PATH ? `${path.slice(0, MAX_LOGGED_PATH)}…` : path };
}

/** What the log says about a response: its status only. */
function responseLine(res: ServerResponse): { statusCode: number } {
  return { statusCode: res.statusCode };
}

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
      // L1: the request log names what it writes and nothing else: no headers either way (cookies,
      // Authorization, Set-Cookie, a Location carrying an authorization code), no query string, no
      // body. The serializers get the raw objects (no pino-std-serializers copies on the hot path).
      wrapSerializers: false,
      serializers: { req: requestLine, res: responseLine },
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
  // Carriers are outside: their events come in on the public listener, signed (docs/WEBHOOKS.md).
  publicApp.use(carrierEvents(services));
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
