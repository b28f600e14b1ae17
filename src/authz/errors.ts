// One error family for the OAuth protocol (one error type per protocol): each class owns its RFC error code
// and HTTP status. The client sees a fixed, generic `error_description` per code; the `detail` goes to
// the log only. Rendered in one place: `sendOAuthError` (JSON endpoints) and the authorize endpoint's
// redirect/error-page renderer (endpoints/authorize.ts).
import type { Response } from 'express';
import { DatabaseBusy } from '../db/context.js';
import { isDatabaseUnavailable } from '../db/errors.js';
import type { Logger } from '../log.js';

/** RFC 6749 §4.1.2.1, §5.2; RFC 7591 §3.2.2; RFC 8707 §2; RFC 7009 §2.2.1. A closed union. */
export type OAuthErrorCode =
  | 'invalid_request'
  | 'invalid_client'
  | 'invalid_grant'
  | 'unauthorized_client'
  | 'unsupported_grant_type'
  | 'unsupported_response_type'
  | 'invalid_scope'
  | 'access_denied'
  | 'invalid_target'
  | 'invalid_redirect_uri'
  | 'invalid_client_metadata'
  | 'unsupported_token_type'
  | 'temporarily_unavailable'
  | 'server_error';

const DESCRIPTIONS: Record<OAuthErrorCode, string> = {
  invalid_request: 'The request is missing a required parameter or is otherwise malformed',
  invalid_client: 'Client authentication failed',
  invalid_grant: 'The grant is invalid, expired or revoked',
  unauthorized_client: 'The client is not allowed to use this grant type',
  unsupported_grant_type: 'The grant type is not supported',
  unsupported_response_type: 'The response type is not supported',
  invalid_scope: 'The requested scope is invalid or exceeds what may be granted',
  access_denied: 'The request was denied',
  invalid_target: 'The requested resource is invalid',
  invalid_redirect_uri: 'A redirect URI is not allowed',
  invalid_client_metadata: 'The client metadata is invalid',
  unsupported_token_type: 'The token type is not supported',
  temporarily_unavailable: 'Too many requests; try again later',
  server_error: 'The server could not complete the request',
};

export class OAuthError extends Error {
  constructor(
    readonly code: OAuthErrorCode,
    readonly status: number,
    /** For the log only, never sent to the client. */
    readonly detail?: string,
  ) {
    super(detail ?? code);
  }
  get description(): string {
    return DESCRIPTIONS[this.code];
  }
}

export class InvalidRequest extends OAuthError { constructor(detail?: string) { super('invalid_request', 400, detail); } }
export class InvalidClient extends OAuthError { constructor(detail?: string) { super('invalid_client', 401, detail); } }
export class InvalidGrant extends OAuthError { constructor(detail?: string) { super('invalid_grant', 400, detail); } }
export class UnauthorizedClient extends OAuthError { constructor(detail?: string) { super('unauthorized_client', 400, detail); } }
export class UnsupportedGrantType extends OAuthError { constructor(detail?: string) { super('unsupported_grant_type', 400, detail); } }
export class UnsupportedResponseType extends OAuthError { constructor(detail?: string) { super('unsupported_response_type', 400, detail); } }
export class InvalidScope extends OAuthError { constructor(detail?: string) { super('invalid_scope', 400, detail); } }
export class AccessDenied extends OAuthError { constructor(detail?: string) { super('access_denied', 403, detail); } }
export class InvalidTarget extends OAuthError { constructor(detail?: string) { super('invalid_target', 400, detail); } }
export class InvalidRedirectUri extends OAuthError { constructor(detail?: string) { super('invalid_redirect_uri', 400, detail); } }
export class InvalidClientMetadata extends OAuthError { constructor(detail?: string) { super('invalid_client_metadata', 400, detail); } }
export class UnsupportedTokenType extends OAuthError { constructor(detail?: string) { super('unsupported_token_type', 400, detail); } }
export class ServerError extends OAuthError { constructor(detail?: string) { super('server_error', 500, detail); } }
/** A4/O11: throttled. RFC 6585 §4: 429 with Retry-After. */
export class TooManyRequests extends OAuthError {
  constructor(readonly retryAfterSeconds: number, detail?: string) { super('temporarily_unavailable', 429, detail); }
}

/** The shared rate-limit store (or another dependency) cannot answer: fail closed, 503. */
export class TemporarilyUnavailable extends OAuthError {
  constructor(readonly retryAfterSeconds: number, detail?: string) { super('temporarily_unavailable', 503, detail); }
}

const LIBRARY_CODES = new Set<string>(Object.keys(DESCRIPTIONS));

/**
 * Maps anything thrown into our family. @node-oauth/oauth2-server's errors carry the RFC code in
 * `name` and the status in `code`; everything unknown becomes server_error.
 */
export function toOAuthError(err: unknown): OAuthError {
  if (err instanceof OAuthError) return err;
  // F1/F2: the database is busy or away — a temporary condition, not a server fault.
  if (isDatabaseUnavailable(err)) return new TemporarilyUnavailable(err instanceof DatabaseBusy ? err.retryAfterSeconds : 2, String(err));
  const e = err as { name?: unknown; code?: unknown; message?: unknown; inner?: unknown } | null;
  if (e && typeof e.name === 'string' && LIBRARY_CODES.has(e.name) && typeof e.code === 'number') {
    const detail = typeof e.message === 'string' ? e.message : undefined;
    if (e.name === 'server_error') return new ServerError(String((e.inner as Error | undefined)?.stack ?? detail));
    return new OAuthError(e.name as OAuthErrorCode, e.code === 401 || e.name === 'invalid_client' ? 401 : e.code, detail);
  }
  return new ServerError(err instanceof Error ? (err.stack ?? err.message) : String(err));
}

/** Renders an OAuth error as the JSON body of RFC 6749 §5.2 (token, registration, revocation, introspection). */
export function sendOAuthError(res: Response, err: unknown, log: Logger | undefined, { basicAuthAttempted = false } = {}): void {
  const e = toOAuthError(err);
  if (e.status >= 500) log?.error({ oauthError: e.code, detail: e.detail }, 'oauth request failed');
  else log?.info({ oauthError: e.code, detail: e.detail }, 'oauth request rejected');
  res.set('Cache-Control', 'no-store');
  res.set('Pragma', 'no-cache');
  if (e instanceof TooManyRequests || e instanceof TemporarilyUnavailable) res.set('Retry-After', String(Math.max(1, Math.ceil(e.retryAfterSeconds))));
  // RFC 6749 §5.2: a client that tried the Authorization header gets 401 and a Basic challenge.
  if (e.code === 'invalid_client' && basicAuthAttempted) res.set('WWW-Authenticate', 'Basic realm="oauth"');
  res.status(e.status).json({ error: e.code, error_description: e.description });
}
