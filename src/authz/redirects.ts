// Authorization responses to the client's redirect URI (RFC 6749 §4.1.2): always 303 (O10, so a
// browser never re-POSTs the form to the client), always with `iss` (RFC 9207 §2), success or error.
import type { Response } from 'express';
import type { Tx } from '../db/context.js';
import type { OAuthError } from './errors.js';
import type { AuthorizationRequest } from './interactions.js';
import { hashSecret, newSecret } from './tokens.js';

export const CODE_TTL_SECONDS = 60;

export function redirectWith(res: Response, redirectUri: string, params: Record<string, string | null | undefined>): void {
  const u = new URL(redirectUri);
  for (const [k, v] of Object.entries(params)) if (v !== undefined && v !== null) u.searchParams.set(k, v);
  res.set('Cache-Control', 'no-store');
  res.redirect(303, u.toString());
}

/** RFC 6749 §4.1.2.1 + RFC 9207: error, generic description, state, iss. */
export function redirectError(res: Response, issuer: string, redirectUri: string, state: string | null | undefined, error: OAuthError): void {
  redirectWith(res, redirectUri, { error: error.code, error_description: error.description, state, iss: issuer });
}

/** Issues a single-use code (stored hashed) for the signed-in subject. */
export async function issueCode(tx: Tx, tenantId: string, r: AuthorizationRequest, subject: { kind: 'customer' | 'staff'; id: string }, scope: string[]): Promise<string> {
  const code = newSecret('code');
  await tx`
    insert into oauth_authorization_codes (tenant_id, code_hash, client_id, subject_kind, subject_id, redirect_uri,
                                           code_challenge, resource, scope, expires_at)
    values (${tenantId}, ${hashSecret(code)}, ${r.clientId}, ${subject.kind}, ${subject.id}, ${r.redirectUri},
            ${r.codeChallenge}, ${r.resource}, ${scope.join(' ')}, now() + make_interval(secs => ${CODE_TTL_SECONDS}))`;
  return code;
}
