// The ingestion endpoint per tenant: POST {internalUrl}/t/{slug}/internal/ingest with an NDJSON
// body (docs/INGESTION.md), on the internal listener, for an OAuth service client holding a token
// bound to this very resource (RFC 8707) with the scope `ingest:write`; and its protected resource
// metadata (RFC 9728) at /.well-known/oauth-protected-resource/t/{slug}/internal/ingest.
//
// The request reads top to bottom as named steps; each answers and stops, or passes on:
//   checkHost → resolveTenant → allowOnlyPost → refuseQueryToken → requireBearer → checkMediaType →
//   checkDeclaredLength → authorize → ingest
// `authorize` is one short transaction in the tenant's 'auth' context (token, audience, subject
// kind, scope, then the budgets); `ingest` streams the body in chunks, one transaction each, as the
// tenant's service actor.
import { Router, type Request, type RequestHandler, type Response } from 'express';
import { issuerFor, ingestResourceFor, protectedResourceMetadataUrl } from '../authz/resources.js';
import { findActiveAccessToken, type VerifiedToken } from '../authz/tokens.js';
import { ALL_SERVICE_SCOPES } from '../authz/scopes.js';
import { DatabaseBusy, withContext, type Tx } from '../db/context.js';
import { isDatabaseUnavailable } from '../db/errors.js';
import { budgetOverrides, rateLimitHeaders, RateLimitStoreUnavailable } from '../ratelimit/limits.js';
import type { Challenge } from '../servers/mcp/bearer.js';
import { bearerSteps, sendChallenge as sendBearerChallenge, sendJson } from '../servers/mcp/bearer-steps.js';
import { allowedHostsFor, isAllowedHost } from '../servers/mcp/http-checks.js';
import type { Services } from '../services.js';
import type { Tenant } from '../tenants/directory.js';
import { ingestNdjson } from './upload.js';

export const INGEST_SCOPE = 'ingest:write';

/** Uploads cost this much of the token's, client's and tenant's budgets (an MCP write costs 5). */
export const UPLOAD_WEIGHT = 5;

const NDJSON_TYPES = new Set(['application/x-ndjson', 'application/ndjson', 'application/jsonl']);

interface Locals {
  tenant: Tenant;
  resource: string;
  metadataUrl: string;
  token: string;
  verified: VerifiedToken;
}

const locals = (res: Response) => res.locals as Locals;
const CLOSE = { Connection: 'close' };

/** A refusal before the body is read: the connection closes rather than reading an upload for nothing. */
function refuse(res: Response, status: number, error: string, description: string, headers: Record<string, string> = {}): void {
  sendJson(res, status, { error, error_description: description }, { Connection: 'close', ...headers });
}

/** Every challenge closes the connection too: an upload is not read for nothing. */
const sendChallenge = (res: Response, c: Challenge) => sendBearerChallenge(res, c, CLOSE);

/** RFC 6750 §2.1 with RFC 8707: a live token of this tenant, for this resource, of a service client. */
export async function verifyIngestToken(tx: Tx, token: string, tenantId: string, resource: string): Promise<{ ok: true; token: VerifiedToken } | { ok: false; description: string }> {
  const found = await findActiveAccessToken(tx, tenantId, token);
  if (!found) return { ok: false, description: 'The access token is invalid, expired or revoked' };
  // O12: a customer or staff token, or one for another endpoint, is not good here (same answer).
  if (found.resource !== resource || found.subjectKind !== 'service') return { ok: false, description: 'The access token was not issued for this resource' };
  return { ok: true, token: found };
}

export function ingestEndpoint(services: Services): Router {
  const { config, sql, tenants, rateLimits, log } = services;
  const allowedHosts = allowedHostsFor(config.internalUrl);
  const limits = config.ingest;
  const challengeScope = INGEST_SCOPE;

  /** M5: a foreign Host never reaches the endpoint (uploads come from programs, not browsers). */
  const checkHost: RequestHandler = (req, res, next) => {
    if (!isAllowedHost(req.headers.host, allowedHosts)) return refuse(res, 403, 'forbidden', 'Host not allowed');
    if (req.headers.origin !== undefined) return refuse(res, 403, 'forbidden', 'Browsers may not upload here');
    next();
  };

  const resolveTenant: RequestHandler = async (req, res, next) => {
    try {
      const tenant = await tenants.bySlug(String(req.params.slug));
      if (!tenant) return refuse(res, 404, 'not_found', 'No such endpoint');
      const resource = ingestResourceFor(config, tenant.slug);
      Object.assign(res.locals, { tenant, resource, metadataUrl: protectedResourceMetadataUrl(resource) });
      next();
    } catch (error) {
      next(error);
    }
  };

  const allowOnlyPost: RequestHandler = (req, res, next) => {
    if (req.method === 'POST') return next();
    refuse(res, 405, 'method_not_allowed', 'POST an NDJSON body', { Allow: 'POST' });
  };

  const { refuseQueryToken, requireBearer } = bearerSteps(challengeScope, CLOSE);

  const checkMediaType: RequestHandler = (req, res, next) => {
    const type = (req.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase();
    if (NDJSON_TYPES.has(type)) return next();
    refuse(res, 415, 'unsupported_media_type', 'Content-Type must be application/x-ndjson (one JSON record per line)');
  };

  /** A declared length over the cap is refused before anything is read (M7). */
  const checkDeclaredLength: RequestHandler = (req, res, next) => {
    const declared = Number(req.headers['content-length']);
    if (Number.isFinite(declared) && declared > limits.maxBodyBytes) {
      return refuse(res, 413, 'body_too_large', `The body may be at most ${limits.maxBodyBytes} bytes; split the file`);
    }
    next();
  };

  /** The token (audience = this resource, a service client of this tenant), its scope (M6), the budgets. */
  const authorize: RequestHandler = async (req, res, next) => {
    const { tenant, resource, metadataUrl, token } = locals(res);
    try {
      const outcome = await withContext(sql, { kind: 'auth', tenantId: tenant.id }, async (tx) => verifyIngestToken(tx, token, tenant.id, resource));
      if (!outcome.ok) {
        return sendChallenge(res, { status: 401, error: 'invalid_token', description: outcome.description, scope: challengeScope, resourceMetadata: metadataUrl });
      }
      const t = outcome.token;
      if (!t.scopes.includes(INGEST_SCOPE)) {
        return sendChallenge(res, { status: 403, error: 'insufficient_scope', scope: INGEST_SCOPE, resourceMetadata: metadataUrl,
          description: `This request needs the scope "${INGEST_SCOPE}"` });
      }
      // A service client is its own subject (no person stands behind it); its traffic is the staff side's.
      const decision = await rateLimits.consumeCall({ tenantId: tenant.id, kind: 'staff', tokenId: t.id, subjectId: t.clientId, clientId: t.clientId,
        weight: UPLOAD_WEIGHT, overrides: budgetOverrides(t.rateLimits) });
      if (!decision.allowed) {
        return refuse(res, 429, 'rate_limited', `Too many uploads; retry after ${decision.retryAfterSeconds} s`, rateLimitHeaders(decision));
      }
      res.locals.verified = t;
      next();
    } catch (error) {
      unavailable(req, res, error);
    }
  };

  const ingest: RequestHandler = async (req, res) => {
    const { tenant, verified } = locals(res);
    try {
      const report = await ingestNdjson(sql, { kind: 'service', tenantId: tenant.id, clientId: verified.clientId }, req, limits,
        { clientId: verified.clientId, tokenId: verified.id, requestId: String(req.id ?? ''), via: 'http' });
      if (report.stopped) return sendJson(res, 413, report, { Connection: 'close' });
      sendJson(res, 200, report);
    } catch (error) {
      unavailable(req, res, error);
    }
  };

  /** F1/F2: the database cannot answer now (chunks already committed stay; sending again is safe). Anything else: 500. */
  function unavailable(req: Request, res: Response, error: unknown): void {
    if (res.headersSent) return void res.end();
    if (isDatabaseUnavailable(error) || error instanceof RateLimitStoreUnavailable) {
      const retry = error instanceof DatabaseBusy ? error.retryAfterSeconds : 2;
      req.log?.warn({ err: error }, 'upload refused: database unavailable');
      return refuse(res, 503, 'temporarily_unavailable', `The database is busy or unavailable; send the file again after ${retry} s (what was committed comes back unchanged)`,
        { 'Retry-After': String(retry) });
    }
    (req.log ?? log).error({ err: error }, 'upload failed');
    refuse(res, 500, 'server_error', 'The upload failed; what was committed before stays, and sending the file again is safe');
  }

  const router = Router();
  router.get('/.well-known/oauth-protected-resource/t/:slug/internal/ingest', async (req, res, next) => {
    try {
      const tenant = await tenants.bySlug(String(req.params.slug));
      if (!tenant) return sendJson(res, 404, { error: 'not_found', error_description: 'No such resource' });
      sendJson(res, 200, {
        resource: ingestResourceFor(config, tenant.slug), authorization_servers: [issuerFor(config, tenant.slug)],
        scopes_supported: ALL_SERVICE_SCOPES, bearer_methods_supported: ['header'], resource_name: `${tenant.name} data ingestion`,
      }, { 'Cache-Control': 'public, max-age=300' });
    } catch (error) {
      next(error);
    }
  });
  router.all('/t/:slug/internal/ingest', checkHost, resolveTenant, allowOnlyPost, refuseQueryToken, requireBearer, checkMediaType,
    checkDeclaredLength, authorize, ingest);
  return router;
}
