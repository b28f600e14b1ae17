// Small helpers the rows share.
import { DEMO_LOGINS } from '../../seed/demo.js';
import { AttackContext } from '../context.js';
import { authorizeUrl, obtainTokens, pkce, type AuthorizationRequest, type AuthorizationServer, type Credentials } from '../oauth.js';

/** A demo account (only on a demo-seeded deployment). */
export function demoLogin(tenant: string, role: string, index = 0): Credentials | undefined {
  const l = DEMO_LOGINS.filter((d) => d.tenant === tenant && d.role === role)[index];
  return l ? { login: l.login, password: l.password } : undefined;
}

/** A new token family for any account of `slug`, through the suite's client `clientName` there. */
export async function tokensFor(ctx: AttackContext, kind: 'customer' | 'internal', slug: string, who: Credentials, clientName = 'main') {
  const request = await ctx.authorizationRequest(kind, slug, kind === 'customer' ? AttackContext.CUSTOMER_SCOPE : undefined, clientName);
  const tokens = await obtainTokens(ctx.http, request.discovery.as, request, who);
  return { ...tokens, request };
}

/**
 * The person whose budgets the flood rows spend (A4, A9, A10): the other tenant's second demo
 * customer, whom no other row uses. A person's budget spans all their tokens (A10), so flooding
 * the suite's own customer would leave every row of a re-run within the window a 429.
 */
export function probePerson(ctx: AttackContext): Credentials | undefined {
  return demoLogin(ctx.options.otherTenant, 'customer', 1);
}

export interface AuthorizeAnswer {
  status: number;
  location: URL | undefined;
  body: string;
}

/** One GET of the authorization endpoint with `params` over a well-formed request; nothing followed. */
export async function authorizeOnce(ctx: AttackContext, as: AuthorizationServer, r: AuthorizationRequest, params: Record<string, string | undefined> = {}): Promise<AuthorizeAnswer> {
  const p = pkce();
  const url = authorizeUrl(as, {
    response_type: 'code', client_id: r.clientId, redirect_uri: r.redirectUri, resource: r.resource, scope: r.scope,
    state: 'attack-state', code_challenge: p.challenge, code_challenge_method: 'S256', ...params,
  });
  const res = await ctx.http.fetch(url);
  const body = await res.text();
  const loc = res.headers.get('location');
  return { status: res.status, location: loc ? new URL(loc, as.authorization_endpoint) : undefined, body };
}

export function describeAnswer(a: AuthorizeAnswer): string {
  if (a.location) return `${a.status} → ${a.location.origin}${a.location.pathname}${a.location.search.slice(0, 120)}`;
  return `${a.status} (no redirect)`;
}

/** True when the answer sends the browser to `redirectUri` with error `code` and no authorization code. */
export function redirectedWithError(a: AuthorizeAnswer, redirectUri: string, code: string): boolean {
  return Boolean(a.location && a.location.href.startsWith(redirectUri) && a.location.searchParams.get('error') === code && !a.location.searchParams.has('code'));
}

export function short(value: unknown, max = 160): string {
  const s = typeof value === 'string' ? value : JSON.stringify(value);
  return s === undefined ? String(value) : s.length > max ? `${s.slice(0, max)}…` : s;
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** Every key anywhere in a JSON value. */
export function allKeys(value: unknown, out = new Set<string>()): Set<string> {
  if (Array.isArray(value)) for (const v of value) allKeys(v, out);
  else if (value && typeof value === 'object') for (const [k, v] of Object.entries(value)) { out.add(k); allKeys(v, out); }
  return out;
}
