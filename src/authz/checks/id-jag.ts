// The claims of an Identity Assertion JWT Authorization Grant (ID-JAG), after its signature was
// verified (draft-ietf-oauth-identity-assertion-authz-grant; MCP ext-auth enterprise-managed
// authorization §4.3, §5.1, §6.4; RFC 7523 §3). Pure: the caller gives the expectations and the time.
import { InvalidGrant } from '../errors.js';

export const ID_JAG_TYPE = 'oauth-id-jag+jwt';
/** ext-auth §6.4.2: short-lived, minimal clock skew. */
export const ID_JAG_CLOCK_SKEW_SECONDS = 60;
export const ID_JAG_MAX_LIFETIME_SECONDS = 10 * 60;

export interface IdJagExpectations {
  issuer: string;        // the enterprise IdP configured for the tenant
  audience: string;      // our issuer for the tenant
  resource: string;      // the tenant's internal MCP endpoint
  clientId: string;      // the client that authenticated at our token endpoint
  now: number;           // seconds
}

export interface IdJag {
  iss: string; sub: string; jti: string; exp: number; iat: number; clientId: string; scope: string[]; claims: Record<string, unknown>;
}

/** §5.1 + RFC 7523 §3: typ, iss, aud, resource, client_id, sub, jti, exp, iat. Throws InvalidGrant (detail for the log). */
export function checkIdJag(header: { typ?: unknown }, claims: Record<string, unknown>, x: IdJagExpectations): IdJag {
  if (typeof header.typ !== 'string' || header.typ.toLowerCase() !== ID_JAG_TYPE) throw new InvalidGrant('ID-JAG typ is not oauth-id-jag+jwt');
  if (claims.iss !== x.issuer) throw new InvalidGrant('ID-JAG iss is not the configured enterprise IdP');
  const aud = Array.isArray(claims.aud) ? claims.aud : [claims.aud];
  if (aud.length !== 1 || aud[0] !== x.audience) throw new InvalidGrant('ID-JAG aud is not this issuer');
  if (claims.resource !== x.resource) throw new InvalidGrant('ID-JAG resource is not this tenant\'s internal endpoint');
  if (claims.client_id !== x.clientId) throw new InvalidGrant('ID-JAG client_id differs from the authenticated client');
  if (typeof claims.sub !== 'string' || !claims.sub || claims.sub.length > 255) throw new InvalidGrant('ID-JAG sub missing');
  if (typeof claims.jti !== 'string' || !claims.jti || claims.jti.length > 255) throw new InvalidGrant('ID-JAG jti missing');
  if (typeof claims.exp !== 'number' || typeof claims.iat !== 'number') throw new InvalidGrant('ID-JAG exp or iat missing');
  if (claims.exp <= x.now - ID_JAG_CLOCK_SKEW_SECONDS) throw new InvalidGrant('ID-JAG expired');
  if (claims.iat > x.now + ID_JAG_CLOCK_SKEW_SECONDS) throw new InvalidGrant('ID-JAG issued in the future');
  if (claims.exp - claims.iat > ID_JAG_MAX_LIFETIME_SECONDS) throw new InvalidGrant('ID-JAG lifetime too long');
  if (claims.scope !== undefined && typeof claims.scope !== 'string') throw new InvalidGrant('ID-JAG scope is not a string');
  return {
    iss: claims.iss as string, sub: claims.sub, jti: claims.jti, exp: claims.exp, iat: claims.iat, clientId: x.clientId,
    scope: typeof claims.scope === 'string' ? [...new Set(claims.scope.split(' ').filter(Boolean))] : [], claims,
  };
}
