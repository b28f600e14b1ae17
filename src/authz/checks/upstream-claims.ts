// What an upstream ID token's claims mean here (issue 13): the person's email (and whether the
// upstream vouches for it: OpenID Connect Core §5.1 `email_verified`), and, for staff, the local role
// their groups or roles map to. No mapping, no role: no access.
import { STAFF_ROLE_SCOPES, type StaffRole } from '../scopes.js';

export interface UpstreamEmail { email: string | null; verified: boolean }

/** Core §5.1: an email only counts for linking when `email_verified` is exactly true. */
export function upstreamEmail(claims: Record<string, unknown>, emailClaim: string): UpstreamEmail {
  const raw = claims[emailClaim];
  const email = typeof raw === 'string' && raw.length <= 254 && /^[^\s@]+@[^\s@]+$/.test(raw) ? raw.trim().toLowerCase() : null;
  return { email, verified: email !== null && claims.email_verified === true };
}

/** The groups/roles claim as a list: an array of strings, or one string (space- or comma-separated). */
export function claimValues(claims: Record<string, unknown>, claim: string | null): string[] {
  if (!claim) return [];
  const raw = claims[claim];
  if (Array.isArray(raw)) return raw.filter((v): v is string => typeof v === 'string');
  if (typeof raw === 'string') return raw.split(/[\s,]+/).filter(Boolean);
  return [];
}

/**
 * The local staff role from the mapping (upstream group → role). Several matches: the role with the
 * most scopes, so the order of groups upstream does not matter. No match: null (no access).
 */
export function mapStaffRole(claims: Record<string, unknown>, rolesClaim: string | null, mapping: Record<string, StaffRole>): StaffRole | null {
  const roles = claimValues(claims, rolesClaim).map((g) => (Object.hasOwn(mapping, g) ? mapping[g] : undefined)).filter((r): r is StaffRole => r !== undefined);
  if (!roles.length) return null;
  return roles.reduce((best, r) => (STAFF_ROLE_SCOPES[r].length > STAFF_ROLE_SCOPES[best].length ? r : best));
}

/** A display name from the standard claims (Core §5.1), or the email. */
export function upstreamName(claims: Record<string, unknown>, email: string): string {
  const name = typeof claims.name === 'string' ? claims.name : [claims.given_name, claims.family_name].filter((v) => typeof v === 'string').join(' ');
  const cleaned = name.replace(/[\p{Cc}\p{Cf}]/gu, '').trim().slice(0, 200);
  return cleaned || email;
}
