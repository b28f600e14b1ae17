// The express side of the bearer check (bearer.ts is the framework-free part): the challenge as an
// HTTP answer, and the two steps every protected resource of ours runs before it looks at a token —
// the MCP endpoints and the ingestion endpoint alike. Both read `res.locals.metadataUrl` (set by
// the resource's own tenant step) and the second leaves the token in `res.locals.token`.
import type { RequestHandler, Response } from 'express';
import { challengeHeader, presentedBearer, type Challenge } from './bearer.js';
import { hasQueryToken } from './http-checks.js';

/**
 * A JSON answer with its length declared: the head and the body then leave in one socket write
 * (without it node frames the body as chunked and writes head, chunk size, body and trailer apart).
 */
export function sendJson(res: Response, status: number, body: unknown, headers?: Record<string, string>): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'Content-Type': 'application/json', 'Cache-Control': 'no-store', ...headers, 'Content-Length': Buffer.byteLength(text) });
  res.end(text);
}

/** RFC 6750 §3: the challenge with its status (400 invalid_request, 403 insufficient_scope, else 401). */
export function sendChallenge(res: Response, c: Challenge, headers: Record<string, string> = {}): void {
  const body: Record<string, string> = {};
  if (c.error) body.error = c.error;
  if (c.description) body.error_description = c.description;
  sendJson(res, c.status === 403 ? 403 : c.error === 'invalid_request' ? 400 : 401, body, { 'WWW-Authenticate': challengeHeader(c), ...headers });
}

/** refuseQueryToken → requireBearer, challenging with `challengeScope` (and `headers` on every refusal). */
export function bearerSteps(challengeScope: string, headers: Record<string, string> = {}): { refuseQueryToken: RequestHandler; requireBearer: RequestHandler } {
  const metadataUrl = (res: Response) => String(res.locals.metadataUrl);

  /** RFC 6750 §2.3 is not offered: a token in the URL ends up in logs and histories. */
  const refuseQueryToken: RequestHandler = (req, res, next) => {
    const q = req.url.indexOf('?');
    if (q >= 0 && hasQueryToken(req.url.slice(q + 1))) {
      return sendChallenge(res, {
        status: 401, error: 'invalid_request', scope: challengeScope, resourceMetadata: metadataUrl(res),
        description: 'Send the access token in the Authorization header, never in the URL',
      }, headers);
    }
    next();
  };

  /** RFC 6750 §3.1: no credentials → a challenge without an error code; garbage → invalid_token. */
  const requireBearer: RequestHandler = (req, res, next) => {
    const presented = presentedBearer(req.headers.authorization);
    if (presented.kind === 'missing') return sendChallenge(res, { status: 401, scope: challengeScope, resourceMetadata: metadataUrl(res) }, headers);
    if (presented.kind === 'malformed') {
      return sendChallenge(res, {
        status: 401, error: 'invalid_token', description: 'Malformed bearer token', scope: challengeScope, resourceMetadata: metadataUrl(res),
      }, headers);
    }
    res.locals.token = presented.token;
    next();
  };

  return { refuseQueryToken, requireBearer };
}
