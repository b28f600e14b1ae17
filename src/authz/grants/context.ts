// What the grant modules share during one token request. @node-oauth/oauth2-server wraps any error
// that is not its own into `server_error`, so a grant that must answer with one of *our* errors
// (invalid_target, a constant-time PKCE failure, …) records it here and throws; the token endpoint
// renders `failure` when it is set.
import type { Services } from '../../services.js';
import type { OAuthError } from '../errors.js';
import type { SubjectKind } from '../tokens.js';

export interface GrantContext {
  services: Services;
  tenantId: string;
  slug: string;
  body: Record<string, unknown>;
  requestId: string;
  failure?: OAuthError;
}

export function fail(ctx: GrantContext, error: OAuthError): never {
  ctx.failure = error;
  throw error;
}

/** The library's opaque `user` object: who the token is for and what it is bound to. */
export interface GrantUser {
  grant: 'authorization_code' | 'refresh_token' | 'client_credentials';
  subjectKind: SubjectKind;
  subjectId: string | null;
  staffRole: string | null;
  resource: string;
  familyId: string | null;
  /** authorization_code: the scope fixed at consent. */
  scope?: string[];
}

export function bodyString(ctx: GrantContext, name: string): string | undefined {
  const v = ctx.body[name];
  return typeof v === 'string' ? v : undefined;
}
