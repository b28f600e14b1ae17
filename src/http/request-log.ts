// Every request's id, its line in the log and its timing in the metrics, from one step and one
// listener. Cheaper than pino-http on the hot path (issue 15: ≈ 3.4 points of node's CPU samples
// per MCP call, docs/HOT-PATH.md): no child logger per request (`req.log` is made the first time a
// handler logs, from a getter on the application's request prototype), one `close` listener
// instead of three, no serializer work when the line's level is off.
// L1: the request line names what it writes and nothing else: no headers either way (cookies,
// Authorization, Set-Cookie, a Location carrying an authorization code), no query string, no body.
import { randomUUID } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { performance } from 'node:perf_hooks';
import type { Express, RequestHandler } from 'express';
import type { Logger } from '../log.js';
import type { Metrics } from '../ops/metrics.js';

declare module 'node:http' {
  interface IncomingMessage {
    /** The request's id: the client's X-Request-Id when it is safe to log, else a fresh UUID. */
    id: string;
    /** The log with this request's line (id, method, path) bound; made on first use. */
    log: Logger;
  }
}

const REQUEST_ID = /^[\w.:-]{1,64}$/;
const MAX_LOGGED_PATH = 256;
const OWN_LOG = Symbol('request log');

/** What the log says about a request: its id, method and path (the query string never: codes and state travel there). */
export function requestLine(req: IncomingMessage): { id: string; method: string | undefined; path: string } {
  const url = req.url ?? '';
  const q = url.indexOf('?');
  const path = q < 0 ? url : url.slice(0, q);
  return { id: req.id, method: req.method, path: path.length > MAX_LOGGED_PATH ? `${path.slice(0, MAX_LOGGED_PATH)}…` : path };
}

/**
 * `req.log` for every request of `app`: a child logger with the request line, made when a handler
 * first logs (most requests never do) and kept on the request.
 */
function lazyRequestLogger(app: Express, log: Logger): void {
  Object.defineProperty(app.request, 'log', {
    configurable: true,
    get(this: IncomingMessage & { [OWN_LOG]?: Logger }): Logger {
      return (this[OWN_LOG] ??= log.child({ req: requestLine(this) }));
    },
  });
}

/** The step mounted first on each listener's application. */
export function observeRequests(app: Express, log: Logger, metrics: Metrics, listener: 'public' | 'internal'): RequestHandler {
  lazyRequestLogger(app, log);
  return (req, res, next) => {
    const started = performance.now();
    const given = req.headers['x-request-id'];
    const id = typeof given === 'string' && REQUEST_ID.test(given) ? given : randomUUID();
    req.id = id;
    res.setHeader('X-Request-Id', id);
    // `close` comes once, after `finish` for an answered request and alone for an aborted one.
    res.once('close', () => {
      const ms = performance.now() - started;
      const finished = res.writableFinished;
      if (finished) metrics.observeRequest(listener, req, res.statusCode, ms / 1000);
      const level = res.statusCode >= 500 ? 'error' : 'info';
      if (!log.isLevelEnabled(level)) return;
      const line = { req: requestLine(req), res: { statusCode: res.statusCode }, responseTime: Math.round(ms) };
      log[level](line, !finished ? 'request aborted' : level === 'error' ? 'request errored' : 'request completed');
    });
    next();
  };
}
