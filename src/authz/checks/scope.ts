// Scope rules (RFC 6749 §3.3; issue §6): a token's scope = requested ∩ role-allowed ∩ consented.
import { ALL_CUSTOMER_SCOPES, STAFF_ROLE_SCOPES, isCustomerScope, isStaffScope, parseScope, type StaffRole } from '../scopes.js';
import { InvalidRequest, InvalidScope } from '../errors.js';
import type { EndpointKind } from '../resources.js';

const SCOPE_TOKEN = /^[\x21\x23-\x5b\x5d-\x7e]+$/; // RFC 6749 §3.3 scope-token (NQCHAR)

/**
 * RFC 6749 §3.3: the requested scopes must all belong to the endpoint's vocabulary (O7: a customer
 * endpoint never hands out staff scopes). An empty request means "the audience's default set"
 * (§3.3 allows a documented default): every scope the signed-in user's role allows.
 */
export function checkRequestedScope(scope: string | undefined, kind: EndpointKind): string[] {
  if (scope !== undefined && scope.split(' ').some((t) => t !== '' && !SCOPE_TOKEN.test(t))) throw new InvalidRequest('scope syntax');
  const requested = parseScope(scope);
  const known = kind === 'customer' ? isCustomerScope : isStaffScope;
  const unknown = requested.filter((s) => !known(s));
  if (unknown.length) throw new InvalidScope(`scopes ${unknown.join(',')} not valid for the ${kind} endpoint`);
  return requested;
}

/** What a subject may hold at an endpoint: every customer scope, or the staff role's scopes. */
export function allowedScopes(kind: EndpointKind, staffRole: string | null): readonly string[] {
  if (kind === 'customer') return ALL_CUSTOMER_SCOPES;
  return STAFF_ROLE_SCOPES[staffRole as StaffRole] ?? [];
}

/** requested ∩ allowed; an empty request takes the whole allowed set. Sorted. */
export function grantableScope(requested: readonly string[], allowed: readonly string[]): string[] {
  const base = requested.length ? requested : allowed;
  return [...new Set(base.filter((s) => allowed.includes(s)))].sort();
}

/** RFC 6749 §6: a refresh may only narrow the original grant (O7). */
export function checkNarrowing(requested: readonly string[], original: readonly string[]): string[] {
  if (!requested.length) return [...original];
  if (requested.some((s) => !original.includes(s))) throw new InvalidScope('refresh asked for more than the original grant');
  return [...requested];
}
