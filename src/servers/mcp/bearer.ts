// The resource server's bearer-token check, framework-free (the express side is in endpoint.ts).
// Every request is verified against the database: audience = this endpoint, tenant = this
// endpoint's tenant, not expired, not revoked, the subject of the kind this endpoint serves
// (MCP 2025-11-25 Authorization §"Access Token Usage", §"Token Audience Binding and Validation").
import { enterWithAccessToken, type VerifiedToken } from '../../authz/tokens.js';
import type { Tx } from '../../db/context.js';

/** RFC 6750 §2.1: b64token = 1*( ALPHA / DIGIT / "-" / "." / "_" / "~" / "+" / "/" ) *"=" */
const B64TOKEN = /^[A-Za-z0-9\-._~+/]+=*$/;
const MAX_TOKEN_LENGTH = 512;

export type BearerPresented =
  | { kind: 'missing' }
  | { kind: 'malformed' }
  | { kind: 'token'; token: string };

/** RFC 6750 §2.1: `Authorization: Bearer <token>`; the scheme is case-insensitive. */
export function presentedBearer(authorization: string | undefined): BearerPresented {
  if (authorization === undefined || authorization === '') return { kind: 'missing' };
  const match = /^Bearer +(\S+) *$/i.exec(authorization);
  if (!match) return { kind: 'malformed' };
  const token = match[1]!;
  if (token.length > MAX_TOKEN_LENGTH || !B64TOKEN.test(token)) return { kind: 'malformed' };
  return { kind: 'token', token };
}

/** An RFC 6750 §3 challenge. `error` absent when no credentials were sent (§3.1). */
export interface Challenge {
  status: 401 | 403;
  error?: 'invalid_token' | 'insufficient_scope' | 'invalid_request';
  description?: string;
  scope: string;
  resourceMetadata: string;
}

function quote(v: string): string {
  return `"${v.replace(/[\\"]/g, '\\$&')}"`;
}

/** RFC 6750 §3 with RFC 9728 §5.1 `resource_metadata`. */
export function challengeHeader(c: Challenge): string {
  const parts = [];
  if (c.error) parts.push(`error=${quote(c.error)}`);
  if (c.description) parts.push(`error_description=${quote(c.description)}`);
  parts.push(`scope=${quote(c.scope)}`, `resource_metadata=${quote(c.resourceMetadata)}`);
  return `Bearer ${parts.join(', ')}`;
}

export type SubjectKindServed = 'customer' | 'staff';

export interface Verification {
  tenantId: string;
  resource: string;
  subjectKind: SubjectKindServed;
}

export type VerifyResult =
  | { ok: true; token: VerifiedToken & { subjectId: string } }
  | { ok: false; description: string };

/**
 * The token check, one statement (migrations/023): enters the tenant's 'auth' context, looks the
 * token up and, when it is meant for exactly this endpoint, enters its subject's RLS context (the
 * caller's transaction). What comes back is checked here again. The descriptions are generic on
 * purpose: a client learns that the token is not good here, not why another tenant or endpoint
 * would take it.
 */
export async function verifyAndEnter(tx: Tx, token: string, v: Verification & { readOnly: boolean }): Promise<VerifyResult> {
  return meantForThisEndpoint(await enterWithAccessToken(tx, token, v), v);
}

/** RFC 8707 / MCP: the token's audience must be this very endpoint, its subject of the kind it serves. */
function meantForThisEndpoint(found: VerifiedToken | null, v: Verification): VerifyResult {
  if (!found) return { ok: false, description: 'The access token is invalid, expired or revoked' };
  if (found.resource !== v.resource) return { ok: false, description: 'The access token was not issued for this resource' };
  if (found.subjectKind !== v.subjectKind || !found.subjectId) {
    return { ok: false, description: 'The access token was not issued for this resource' };
  }
  if (v.subjectKind === 'staff' && !found.staffRole) return { ok: false, description: 'The access token is invalid, expired or revoked' };
  return { ok: true, token: found as VerifiedToken & { subjectId: string } };
}
