// The JWT bearer grant (RFC 7523 §2.1) with an Identity Assertion JWT Authorization Grant: MCP
// enterprise-managed authorization (io.modelcontextprotocol/enterprise-managed-authorization, ext-auth
// §5; draft-ietf-oauth-identity-assertion-authz-grant). A staff assistant's confidential client
// presents the ID-JAG the tenant's enterprise IdP issued for our issuer; we verify it and issue our
// own access token, bound to the tenant's internal endpoint, no refresh token (a new ID-JAG is the
// way to renew). Steps: client authentication → the tenant's enterprise IdP → signature (its keys,
// an asymmetric allow-list, typ) → claims (checks/id-jag.ts) → the client allowed for that IdP →
// resource → the staff member → jti never seen before → scope → token. @node-oauth/oauth2-server
// is not involved: this grant has no code, no refresh and its own client rule.
import { createLocalJWKSet, jwtVerify, type JWTVerifyGetKey } from 'jose';
import type { Request } from 'express';
import { recordAudit } from '../../audit/record.js';
import { withContext, type Tx } from '../../db/context.js';
import type { Services } from '../../services.js';
import { checkIdJag, ID_JAG_CLOCK_SKEW_SECONDS, ID_JAG_TYPE, type IdJag } from '../checks/id-jag.js';
import { checkResource } from '../checks/resource.js';
import { allowedScopes, checkRequestedScope } from '../checks/scope.js';
import { authenticateClient, clientCredentials, type Client } from '../clients.js';
import { InvalidClient, InvalidGrant, InvalidRequest, InvalidScope, InvalidTarget, OAuthError, UnauthorizedClient } from '../errors.js';
import { ID_TOKEN_ALGORITHMS, remoteKeys } from '../federation/relying-party.js';
import { findProvider, type IdentityProvider } from '../federation/upstream-config.js';
import { issuerFor, resourceFor } from '../resources.js';
import { hashSecret, mintAccessToken } from '../tokens.js';
import type { Throttles } from '../throttle.js';
import type { GrantContext } from './context.js';

export const JWT_BEARER = 'urn:ietf:params:oauth:grant-type:jwt-bearer';
const MAX_ASSERTION_LENGTH = 8 * 1024;

/** The enterprise IdP's keys: the inline JWKS, or its JWKS URI (fetched with the SSRF rules, cached). */
function keysOf(services: Services, idp: IdentityProvider): JWTVerifyGetKey {
  if (idp.jwks) return createLocalJWKSet(idp.jwks as never);
  return remoteKeys(idp.jwksUri!, { allowPrivateNetwork: services.config.allowPrivateNetworkFetch });
}

/** RFC 7521 §5.2 + ext-auth §6.4.1: signature by the configured IdP, asymmetric algorithms only, typ. */
async function verifyAssertion(services: Services, idp: IdentityProvider, assertion: string, expect: { audience: string; resource: string; clientId: string }): Promise<IdJag> {
  let verified;
  try {
    verified = await jwtVerify(assertion, keysOf(services, idp), {
      algorithms: ID_TOKEN_ALGORITHMS, typ: ID_JAG_TYPE, issuer: idp.issuer, audience: expect.audience, clockTolerance: ID_JAG_CLOCK_SKEW_SECONDS,
    });
  } catch (e) {
    throw new InvalidGrant(`ID-JAG does not verify: ${(e as Error).message}`);
  }
  return checkIdJag(verified.protectedHeader, verified.payload as Record<string, unknown>, { issuer: idp.issuer, ...expect, now: Math.floor(Date.now() / 1000) });
}

/** ext-auth §4.3 implementation notes: `iss`+`sub` through the tenant's links, or the email claim. */
async function staffFor(tx: Tx, tenantId: string, idp: IdentityProvider, jag: IdJag): Promise<{ id: string; role: string }> {
  const rows = idp.subjectClaim === 'email'
    ? typeof jag.claims.email === 'string'
      ? await tx<{ id: string; role: string }[]>`select id, role::text as role from staff
          where tenant_id = ${tenantId} and email = ${jag.claims.email.toLowerCase()} and disabled_at is null`
      : []
    : await tx<{ id: string; role: string }[]>`select s.id, s.role::text as role from upstream_identities u
        join staff s on s.tenant_id = u.tenant_id and s.id = u.staff_id
        where u.tenant_id = ${tenantId} and u.audience = 'staff' and u.issuer = ${jag.iss} and u.subject = ${jag.sub} and s.disabled_at is null`;
  if (!rows[0]) throw new InvalidGrant('ID-JAG subject is no active staff member here');
  return rows[0];
}

/** ext-auth §6.2.1: requested ∩ the ID-JAG's scope ∩ the staff role's; nothing requested: the ID-JAG's (or the role's). */
function grantedScope(requested: string[], jag: IdJag, role: string): string[] {
  const allowed = allowedScopes('internal', role);
  const fromJag = jag.scope.length ? jag.scope : allowed;
  const base = requested.length ? requested.filter((s) => fromJag.includes(s)) : [...fromJag];
  return [...new Set(base.filter((s) => allowed.includes(s)))].sort();
}

export async function jwtBearerGrant(ctx: GrantContext, req: Request, throttles: Throttles): Promise<Record<string, unknown>> {
  const { services, tenantId, slug } = ctx;
  const body = ctx.body;
  // Step: client authentication (ext-auth §5: the client authenticates as registered with us).
  const creds = clientCredentials(req.headers.authorization, body);
  if (!creds.clientId || creds.secret === undefined) throw new InvalidClient('jwt-bearer needs client authentication');
  const key = `${tenantId}:${creds.clientId}`;
  await throttles.clientAuthOpen(key);
  let client: Client;
  try {
    client = await withContext(services.sql, { kind: 'auth', tenantId }, (tx) => authenticateClient(tx, tenantId, creds.clientId!, creds.secret));
  } catch (e) {
    if (e instanceof InvalidClient) await throttles.clientAuthFailed(key);
    throw e;
  }
  if (!client.confidential || !client.grantTypes.includes(JWT_BEARER)) throw new UnauthorizedClient('client may not use the jwt-bearer grant');

  const assertion = body.assertion;
  if (typeof assertion !== 'string' || !assertion || assertion.length > MAX_ASSERTION_LENGTH) throw new InvalidRequest('assertion missing');
  // Step: RFC 8707: if a resource is named, it is this tenant's internal endpoint.
  const internal = resourceFor(services.config, slug, 'internal');
  if (typeof body.resource === 'string') {
    let target;
    try { target = checkResource(services.config, slug, body.resource); } catch (e) { throw e instanceof OAuthError ? e : new InvalidTarget('resource'); }
    if (target.kind !== 'internal') throw new InvalidTarget('ID-JAG tokens are for the internal endpoint only');
  }
  const requested = checkRequestedScope(typeof body.scope === 'string' ? body.scope : undefined, 'internal');

  const idp = await withContext(services.sql, { kind: 'auth', tenantId }, (tx) => findProvider(tx, tenantId, 'enterprise'));
  if (!idp) throw new InvalidGrant('no enterprise IdP configured for this tenant');
  const jag = await verifyAssertion(services, idp, assertion, { audience: issuerFor(services.config, slug), resource: internal, clientId: client.clientId });
  if (!idp.allowedClientIds.includes(client.clientId)) throw new InvalidGrant('client not allowed for this enterprise IdP');

  return withContext(services.sql, { kind: 'auth', tenantId }, async (tx) => {
    const staff = await staffFor(tx, tenantId, idp, jag);
    const scope = grantedScope(requested, jag, staff.role);
    if (!scope.length) throw new InvalidScope('no scope left after the ID-JAG and the role');
    // Step: ext-auth §6.4.2: a jti is accepted once, until the assertion expires.
    await tx`delete from id_jag_replays where tenant_id = ${tenantId} and expires_at < now()`;
    const fresh = await tx`insert into id_jag_replays (tenant_id, issuer, jti, expires_at)
      values (${tenantId}, ${jag.iss}, ${jag.jti}, to_timestamp(${jag.exp + ID_JAG_CLOCK_SKEW_SECONDS}))
      on conflict do nothing returning 1`;
    if (!fresh.length) throw new InvalidGrant('ID-JAG jti replayed');
    const scopeText = scope.join(' ');
    const access = await mintAccessToken(tx, {
      tenantId, familyId: null, clientId: client.clientId, subjectKind: 'staff', subjectId: staff.id,
      resource: internal, scope: scopeText, ttlSeconds: services.config.accessTokenTtlSeconds,
    });
    await tx`update oauth_clients set last_used_at = now() where tenant_id = ${tenantId} and client_id = ${client.clientId}`;
    await recordAudit(tx, { tenantId, event: 'auth.token_issued', outcome: 'ok', actorKind: 'staff', actorId: staff.id, clientId: client.clientId,
      tokenId: access.id, requestId: ctx.requestId, detail: { grant_type: JWT_BEARER, resource: internal, scope: scopeText, assertion_issuer: jag.iss, jti_sha256: hashSecret(jag.jti) } });
    return { access_token: access.token, token_type: 'Bearer', expires_in: access.expiresIn, scope: scopeText };
  });
}
