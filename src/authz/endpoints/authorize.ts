// The authorization endpoint (OAuth 2.1 §4.1.1; MCP 2025-11-25 authorization). Read top to bottom:
// until the client and its redirect URI are known good, errors are an error page and never a
// redirect (O3, O4); after that, errors go back to the client's registered URI with `iss` (RFC 9207).
import { Router, type Request, type Response } from 'express';
import { z } from 'zod';
import { withContext } from '../../db/context.js';
import type { Services } from '../../services.js';
import { checkCodeChallenge } from '../checks/pkce.js';
import { mayReuseConsent } from '../checks/remembered-consent.js';
import { matchRedirectUri } from '../checks/redirect-uri.js';
import { audienceMayUse, checkResource } from '../checks/resource.js';
import { checkRequestedScope } from '../checks/scope.js';
import { resolveClient, type Client } from '../clients.js';
import { AccessDenied, InvalidRequest, OAuthError, UnsupportedResponseType, toOAuthError } from '../errors.js';
import { sendErrorPage } from '../html.js';
import { noStore, resolveTenant, tenantOf } from '../http.js';
import { createInteraction, interactionPath, setInteractionCookie, type AuthorizationRequest } from '../interactions.js';
import { redirectError } from '../redirects.js';

const optional = z.string().max(2000).optional();
/** RFC 6749 §3.1: every parameter at most once (a repeated one arrives as an array and fails here). */
const authorizationQuery = z.object({
  client_id: z.string().min(1).max(2000),
  redirect_uri: z.string().min(1).max(2000),
  response_type: optional,
  state: optional,
  code_challenge: optional,
  code_challenge_method: optional,
  resource: optional,
  scope: z.string().max(1000).optional(),
});

type AuthorizationQuery = z.infer<typeof authorizationQuery>;

/** Step 1–3: client and redirect URI, or an error page. */
async function identifyClient(services: Services, tenantId: string, query: Record<string, unknown>): Promise<{ q: AuthorizationQuery; client: Client; redirectUri: string } | string> {
  if (typeof query.client_id !== 'string' || !query.client_id) return 'The request does not name a client.';
  let client: Client | null;
  try {
    client = await resolveClient(services.sql, services.config, tenantId, query.client_id);
  } catch (e) {
    services.log.info({ detail: toOAuthError(e).detail }, 'authorize: client could not be resolved');
    return 'The application could not be identified.';
  }
  if (!client || !client.grantTypes.includes('authorization_code')) return 'The application is not known here.';
  const parsed = authorizationQuery.safeParse(query);
  if (!parsed.success) {
    if (typeof query.redirect_uri !== 'string') return 'The request has no valid redirect URI.';
  }
  const redirectUri = typeof query.redirect_uri === 'string' ? matchRedirectUri(query.redirect_uri, client.redirectUris) : undefined;
  if (!redirectUri) return 'The redirect URI is not registered for this application.';
  if (!parsed.success) return { q: { client_id: client.clientId, redirect_uri: redirectUri }, client, redirectUri };
  return { q: parsed.data, client, redirectUri };
}

/** Steps 4–7: the rest of the request, as OAuth errors redirected to the client. */
function validateRequest(services: Services, slug: string, query: Record<string, unknown>, q: AuthorizationQuery, client: Client, redirectUri: string): AuthorizationRequest {
  if (!authorizationQuery.safeParse(query).success) throw new InvalidRequest('malformed or repeated parameter');
  if (q.response_type !== 'code') throw q.response_type ? new UnsupportedResponseType(q.response_type) : new InvalidRequest('response_type missing');
  const codeChallenge = checkCodeChallenge(q.code_challenge, q.code_challenge_method);
  const target = checkResource(services.config, slug, q.resource);
  if (!audienceMayUse(client.audience, target.kind)) throw new AccessDenied(`client audience ${client.audience} may not use ${target.kind}`);
  const requestedScope = checkRequestedScope(q.scope, target.kind);
  return {
    clientId: client.clientId, clientName: client.name, clientSource: client.source, redirectUri, state: q.state ?? null, codeChallenge,
    resource: target.uri, resourceKind: target.kind, requestedScope, mayReuseConsent: mayReuseConsent(client, redirectUri),
  };
}

export function authorizeEndpoint(services: Services): Router {
  const router = Router();
  const secure = services.config.publicUrl.startsWith('https:');
  router.get('/t/:slug/authorize', resolveTenant(services), noStore, async (req: Request, res: Response) => {
    const { tenant, issuer } = tenantOf(res);
    const query = req.query as Record<string, unknown>;
    const identified = await identifyClient(services, tenant.id, query);
    if (typeof identified === 'string') return sendErrorPage(res, 400, identified);
    const { q, client, redirectUri } = identified;
    const state = typeof query.state === 'string' ? query.state : null;
    let request: AuthorizationRequest;
    try {
      request = validateRequest(services, tenant.slug, query, q, client, redirectUri);
    } catch (e) {
      const err = toOAuthError(e);
      if (!(e instanceof OAuthError)) throw e;
      req.log?.info({ oauthError: err.code, detail: err.detail }, 'authorize rejected');
      return redirectError(res, issuer, redirectUri, state, err);
    }
    const { id, csrf } = await withContext(services.sql, { kind: 'auth', tenantId: tenant.id }, (tx) => createInteraction(tx, tenant.id, request));
    setInteractionCookie(res, secure, tenant.slug, id, csrf);
    res.redirect(303, interactionPath(tenant.slug, id));
  });
  return router;
}
