// One error handler for the HTTP layer: the client sees a status and a generic message, the log sees
// the detail. Never a stack trace (docs/DESIGN.md §7). Protocol-specific errors (OAuth, JSON-RPC) are
// rendered by their own modules before they get here.
import type { ErrorRequestHandler, RequestHandler } from 'express';
import { DatabaseBusy } from '../db/context.js';
import { isDatabaseUnavailable } from '../db/errors.js';

export class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly publicMessage: string,
    readonly headers: Record<string, string> = {},
  ) {
    super(publicMessage);
  }
}

export const notFound: RequestHandler = (_req, res) => {
  res.status(404).json({ error: 'not_found', error_description: 'No such endpoint' });
};

export const errorHandler: ErrorRequestHandler = (err, req, res, _next) => {
  if (isDatabaseUnavailable(err)) {
    req.log?.warn({ err }, 'database unavailable');
    if (res.headersSent) return void res.end();
    res.status(503).set('Retry-After', String(err instanceof DatabaseBusy ? err.retryAfterSeconds : 2))
      .json({ error: 'temporarily_unavailable', error_description: 'The service is busy; retry shortly' });
    return;
  }
  const status: number =
    err instanceof HttpError ? err.status
    : typeof err?.status === 'number' && err.status >= 400 && err.status < 500 ? err.status // body-parser etc.
    : 500;
  if (status >= 500) req.log?.error({ err }, 'request failed');
  // L1: a parse error's message quotes the start of the body (V8: `"password=…" is not valid JSON`).
  else req.log?.info({ err: err?.type === 'entity.parse.failed' ? { type: err.type } : { message: err?.message, type: err?.type } }, 'request rejected');
  if (res.headersSent) return void res.end();
  if (err instanceof HttpError) res.set(err.headers);
  const message =
    err instanceof HttpError ? err.publicMessage
    : status === 413 ? 'Request body too large'
    : status === 400 ? 'Malformed request'
    : status < 500 ? 'Request rejected'
    : 'Internal error';
  res.status(status).json({ error: status >= 500 ? 'server_error' : 'invalid_request', error_description: message });
};
