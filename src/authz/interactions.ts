// An authorization request between its arrival and its code (oauth_interactions): the validated
// request, the CSRF secret's hash, and — after sign-in — the subject. The browser holds the CSRF
// secret in a cookie scoped to this one interaction's path; forms echo it (O8).
import { timingSafeEqual } from 'node:crypto';
import type { Request, Response } from 'express';
import type { Tx } from '../db/context.js';
import { readCookie } from './http.js';
import { hashSecret, newSecret } from './tokens.js';
import type { EndpointKind } from './resources.js';

export const INTERACTION_TTL_SECONDS = 600;

export interface AuthorizationRequest {
  clientId: string;
  clientName: string;
  /** Who chose the name (O15): only 'preregistered' names are the shop's own. Absent in older rows. */
  clientSource?: 'preregistered' | 'dynamic' | 'metadata_document';
  redirectUri: string;
  state: string | null;
  codeChallenge: string;
  resource: string;
  resourceKind: EndpointKind;
  requestedScope: string[];
  grantedScope?: string[]; // set at sign-in: requested ∩ role-allowed
  /** O14 (RFC 8252 §8.6): whether remembered consent may skip the consent page; absent means no. */
  mayReuseConsent?: boolean;
}

export interface Interaction {
  id: string;
  request: AuthorizationRequest;
  csrfHash: string;
  subjectKind: 'customer' | 'staff' | null;
  subjectId: string | null;
}

export function interactionPath(slug: string, id: string): string {
  return `/t/${slug}/interaction/${id}`;
}

function cookieName(id: string): string {
  return `cmcp_ia_${id.replace(/-/g, '')}`;
}

export async function createInteraction(tx: Tx, tenantId: string, request: AuthorizationRequest): Promise<{ id: string; csrf: string }> {
  const csrf = newSecret('csrf');
  const [row] = await tx<{ id: string }[]>`
    insert into oauth_interactions (tenant_id, client_id, request, csrf_hash, expires_at)
    values (${tenantId}, ${request.clientId}, ${tx.json(request as never)}, ${hashSecret(csrf)},
            now() + make_interval(secs => ${INTERACTION_TTL_SECONDS}))
    returning id`;
  return { id: row!.id, csrf };
}

export async function loadInteraction(tx: Tx, tenantId: string, id: string): Promise<Interaction | null> {
  if (!/^[0-9a-f-]{36}$/.test(id)) return null;
  const [row] = await tx<{ id: string; request: AuthorizationRequest; csrf_hash: string; subject_kind: Interaction['subjectKind']; subject_id: string | null }[]>`
    select id, request, csrf_hash, subject_kind, subject_id from oauth_interactions
    where tenant_id = ${tenantId} and id = ${id} and completed_at is null and expires_at > now()
    for update`;
  return row ? { id: row.id, request: row.request, csrfHash: row.csrf_hash, subjectKind: row.subject_kind, subjectId: row.subject_id } : null;
}

export async function completeInteraction(tx: Tx, tenantId: string, id: string): Promise<void> {
  await tx`update oauth_interactions set completed_at = now() where tenant_id = ${tenantId} and id = ${id}`;
}

export function setInteractionCookie(res: Response, secure: boolean, slug: string, id: string, csrf: string): void {
  res.cookie(cookieName(id), csrf, {
    httpOnly: true, sameSite: 'lax', secure, path: interactionPath(slug, id), maxAge: INTERACTION_TTL_SECONDS * 1000,
  });
}

export function clearInteractionCookie(res: Response, secure: boolean, slug: string, id: string): void {
  res.clearCookie(cookieName(id), { httpOnly: true, sameSite: 'lax', secure, path: interactionPath(slug, id) });
}

/** The CSRF secret this browser holds for the interaction, if it matches the stored hash. */
export function browserCsrf(req: Request, interaction: Interaction): string | null {
  const value = readCookie(req, cookieName(interaction.id));
  if (!value) return null;
  const a = Buffer.from(hashSecret(value), 'hex');
  const b = Buffer.from(interaction.csrfHash, 'hex');
  return a.length === b.length && timingSafeEqual(a, b) ? value : null;
}

/** O8: the form's token equals the cookie's, which matches the stored hash. */
export function formCsrfValid(req: Request, interaction: Interaction): boolean {
  const cookie = browserCsrf(req, interaction);
  const form = typeof req.body?.csrf === 'string' ? req.body.csrf : '';
  if (!cookie || !form) return false;
  const a = Buffer.from(hashSecret(cookie));
  const b = Buffer.from(hashSecret(form));
  return timingSafeEqual(a, b);
}

/** O8: a POST from another origin is refused even before the token is looked at. */
export function sameOrigin(req: Request, publicOrigin: string): boolean {
  const origin = req.headers.origin;
  if (origin !== undefined) return origin === publicOrigin;
  const site = req.headers['sec-fetch-site'];
  return site === undefined || site === 'same-origin' || site === 'none';
}
