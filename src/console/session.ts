// Console sessions and form tokens. A session is a random token in an HttpOnly, SameSite=Strict
// cookie scoped to one tenant's console path; only its SHA-256 is stored (console_sessions).
// Form tokens (CSRF) are HMACs keyed by the raw session token, so nothing else needs storing and a
// token is useless without the victim's cookie. A decision form's token also commits to the action
// and its current state: once the action is decided, a replayed form no longer matches (A6).
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import type { Request, Response } from 'express';
import { hashSecret } from '../authz/tokens.js';
import { setRequestContext, type Tx } from '../db/context.js';

export const SESSION_TTL_SECONDS = 30 * 60;
export const SESSION_COOKIE = 'cmcp_console';
export const LOGIN_COOKIE = 'cmcp_console_login';

export interface ConsoleStaff {
  tenantId: string;
  staffId: string;
  role: string;
  name: string;
  email: string;
  mayApprove: boolean;
}

export interface ConsoleSession {
  /** The raw token from the cookie: the key of every form token. */
  token: string;
  staff: ConsoleStaff;
}

export function consolePath(slug: string): string {
  return `/console/t/${slug}`;
}

export function readCookie(req: Request, name: string): string | undefined {
  const header = req.headers.cookie;
  if (!header) return undefined;
  for (const part of header.split(';')) {
    const i = part.indexOf('=');
    if (i > 0 && part.slice(0, i).trim() === name) return part.slice(i + 1).trim();
  }
  return undefined;
}

function cookie(name: string, value: string, path: string, secure: boolean, maxAge: number): string {
  return `${name}=${value}; Path=${path}; Max-Age=${maxAge}; HttpOnly; SameSite=Strict${secure ? '; Secure' : ''}`;
}

export function setCookie(res: Response, name: string, value: string, slug: string, secure: boolean, maxAge: number): void {
  res.append('Set-Cookie', cookie(name, value, consolePath(slug), secure, maxAge));
}

export function clearCookie(res: Response, name: string, slug: string, secure: boolean): void {
  res.append('Set-Cookie', cookie(name, '', consolePath(slug), secure, 0));
}

export function newToken(): string {
  return randomBytes(32).toString('base64url');
}

const TOKEN_SHAPE = /^[A-Za-z0-9_-]{43}$/;

export async function createSession(tx: Tx, tenantId: string, staffId: string): Promise<string> {
  const token = newToken();
  await tx`insert into console_sessions (tenant_id, token_hash, staff_id, expires_at)
           values (${tenantId}, ${hashSecret(token)}, ${staffId}, now() + make_interval(secs => ${SESSION_TTL_SECONDS}))`;
  return token;
}

/**
 * Looks the cookie's session up in the tenant's 'auth' context and, when it is live and its staff
 * member is enabled, switches the transaction to that staff member's context.
 */
export async function resumeSession(tx: Tx, tenantId: string, token: string | undefined): Promise<ConsoleSession | null> {
  if (!token || !TOKEN_SHAPE.test(token)) return null;
  await setRequestContext(tx, { kind: 'auth', tenantId });
  const [row] = await tx<{ staff_id: string; role: string; name: string; email: string; may_approve: boolean }[]>`
    select s.id as staff_id, s.role::text as role, s.name, s.email, s.may_approve
    from console_sessions cs join staff s on s.tenant_id = cs.tenant_id and s.id = cs.staff_id
    where cs.tenant_id = ${tenantId} and cs.token_hash = ${hashSecret(token)} and cs.revoked_at is null and cs.expires_at > now()
      and s.disabled_at is null`;
  if (!row) return null;
  await setRequestContext(tx, { kind: 'staff', tenantId, staffId: row.staff_id, role: row.role });
  return { token, staff: { tenantId, staffId: row.staff_id, role: row.role, name: row.name, email: row.email, mayApprove: row.may_approve } };
}

/** Ends a session; runs in the signed-in staff member's context (their own session row). */
export async function revokeSession(tx: Tx, tenantId: string, token: string): Promise<void> {
  await tx`update console_sessions set revoked_at = now() where tenant_id = ${tenantId} and token_hash = ${hashSecret(token)} and revoked_at is null`;
}

/** A form token bound to the session and to `parts` (purpose, action id, its state …). */
export function formToken(session: { token: string }, ...parts: string[]): string {
  return createHmac('sha256', session.token).update(['console-form', ...parts].join('\n')).digest('base64url');
}

export function formTokenValid(session: { token: string }, presented: unknown, ...parts: string[]): boolean {
  if (typeof presented !== 'string' || presented.length > 100) return false;
  const expected = Buffer.from(formToken(session, ...parts));
  const given = Buffer.from(presented);
  return given.length === expected.length && timingSafeEqual(given, expected);
}

/** The login form's double-submit token: the hidden field must equal the pre-login cookie. */
export function loginTokenValid(req: Request, presented: unknown): boolean {
  const cookieValue = readCookie(req, LOGIN_COOKIE);
  if (!cookieValue || typeof presented !== 'string' || !TOKEN_SHAPE.test(cookieValue)) return false;
  const a = Buffer.from(cookieValue);
  const b = Buffer.from(presented);
  return a.length === b.length && timingSafeEqual(a, b);
}

/**
 * L3 (OWASP CSRF Prevention Cheat Sheet, "Verifying Origin with standard headers"): a console form
 * POST must come from the console's own origin — the internal listener's, never the public one.
 * Origin decides when present (every current browser sends it on a form POST, JavaScript or not).
 * Without it, Sec-Fetch-Site must say same-origin, else the Referer's origin must be ours. A POST
 * with none of the three is no browser's: it is let through to the form-token check, which a forger
 * without the victim's session cookie cannot pass either.
 */
export function postFromConsoleOrigin(req: Request, consoleOrigin: string): boolean {
  const origin = req.headers.origin;
  if (origin !== undefined) return origin === consoleOrigin;
  const site = req.headers['sec-fetch-site'];
  if (site !== undefined) return site === 'same-origin';
  const referer = req.headers.referer;
  if (referer !== undefined) {
    try { return new URL(referer).origin === consoleOrigin; } catch { return false; }
  }
  return true;
}

/**
 * Runs one read of the authorization server's tables (in the tenant's 'auth' context, as the
 * session look-up does) and switches the transaction back to the signed-in staff member.
 */
export async function readAsAuthStep<T>(tx: Tx, session: ConsoleSession, read: (tx: Tx) => Promise<T>): Promise<T> {
  const { tenantId, staffId, role } = session.staff;
  await setRequestContext(tx, { kind: 'auth', tenantId });
  const value = await read(tx);
  await setRequestContext(tx, { kind: 'staff', tenantId, staffId, role });
  return value;
}
