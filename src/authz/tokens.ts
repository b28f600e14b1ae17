// Opaque bearer tokens. Only their SHA-256 hashes are stored, so a database leak yields no usable
// token; revocation takes effect on the very next request because every request looks its token up
// (self-contained JWTs could not be revoked before they expire).
import { createHash, randomBytes } from 'node:crypto';
import type { Tx } from '../db/context.js';

export type TokenKind = 'at' | 'rt' | 'code' | 'secret' | 'csrf';

/** 256 bits from the CSPRNG, base64url, with a kind prefix that secret scanners can recognise. */
export function newSecret(kind: TokenKind): string {
  return `cmcp_${kind}_${randomBytes(32).toString('base64url')}`;
}

export function hashSecret(secret: string): string {
  return createHash('sha256').update(secret).digest('hex');
}

export type SubjectKind = 'customer' | 'staff' | 'service';

export interface AccessTokenGrant {
  tenantId: string;
  familyId: string | null;
  clientId: string;
  subjectKind: SubjectKind;
  subjectId: string | null;
  resource: string;
  scope: string;
  ttlSeconds: number;
}

/** Issues an access token. Must run in the tenant's 'auth' context. */
export async function mintAccessToken(tx: Tx, grant: AccessTokenGrant): Promise<{ token: string; id: string; expiresIn: number }> {
  const token = newSecret('at');
  const [row] = await tx<{ id: string }[]>`
    insert into oauth_access_tokens (tenant_id, token_hash, family_id, client_id, subject_kind, subject_id, resource, scope, expires_at)
    values (${grant.tenantId}, ${hashSecret(token)}, ${grant.familyId}, ${grant.clientId}, ${grant.subjectKind},
            ${grant.subjectId}, ${grant.resource}, ${grant.scope}, now() + make_interval(secs => ${grant.ttlSeconds}))
    returning id`;
  return { token, id: row!.id, expiresIn: grant.ttlSeconds };
}

export interface VerifiedToken {
  id: string;
  tenantId: string;
  clientId: string;
  subjectKind: SubjectKind;
  subjectId: string | null;
  staffRole: string | null;
  resource: string;
  scopes: string[];
  expiresAt: Date;
  /** The tenant's maturity phase (1–3) and rate-limit overrides, read in the same statement. */
  tenantPhase: number;
  rateLimits: Record<string, unknown>;
}

/**
 * Looks a presented access token up in the tenant's 'auth' context: unknown, expired, revoked,
 * from a revoked family, or belonging to a disabled user or client all come back as null.
 * The audience check (resource) is the caller's: it knows which endpoint it is.
 */
export async function findActiveAccessToken(tx: Tx, tenantId: string, token: string): Promise<VerifiedToken | null> {
  // The conditions live in one place, app.active_access_token (migrations/026), which the MCP
  // endpoints' one-statement check (app.enter_with_access_token) uses too.
  const rows = await tx<TokenRow[]>`select * from app.active_access_token(${tenantId}, ${hashSecret(token)})`;
  return verifiedToken(tenantId, rows[0]);
}

interface TokenRow {
  id: string; client_id: string; subject_kind: SubjectKind; subject_id: string | null; staff_role: string | null;
  resource: string; scope: string; expires_at: Date; phase: number; rate_limits: Record<string, unknown>;
}

function verifiedToken(tenantId: string, r: TokenRow | undefined): VerifiedToken | null {
  if (!r) return null;
  return {
    id: r.id, tenantId, clientId: r.client_id, subjectKind: r.subject_kind, subjectId: r.subject_id,
    staffRole: r.staff_role, resource: r.resource, scopes: r.scope.split(' ').filter(Boolean), expiresAt: r.expires_at,
    tenantPhase: r.phase, rateLimits: r.rate_limits ?? {},
  };
}

export interface TokenEntry {
  tenantId: string;
  /** The endpoint the token must have been issued for (RFC 8707), compared exactly. */
  resource: string;
  subjectKind: 'customer' | 'staff';
  /** A read-only call: its commit may skip the WAL flush (migrations/023). */
  readOnly: boolean;
}

/**
 * The resource servers' token check in one statement (migrations/023, docs/HOT-PATH.md "Flights"):
 * enters the tenant's 'auth' context, looks the token up as findActiveAccessToken does (every call,
 * no cache: revocation holds on the next request) and, when it is a token for exactly this
 * endpoint and a subject of its kind, enters that subject's RLS context in the same statement.
 * Otherwise the context stays 'auth'. Must run inside the call's transaction.
 */
export async function enterWithAccessToken(tx: Tx, token: string, e: TokenEntry): Promise<VerifiedToken | null> {
  const rows = await tx<TokenRow[]>`
    select * from app.enter_with_access_token(${e.tenantId}, ${hashSecret(token)}, ${e.resource}, ${e.subjectKind}, ${e.readOnly})`;
  return verifiedToken(e.tenantId, rows[0]);
}
