// Test helpers that drive the authorization server the way a browser and a client would: real HTTP,
// a cookie jar, the real login and consent forms with their CSRF tokens. No shortcuts into the DB.
import { createHash, randomBytes } from 'node:crypto';
import assert from 'node:assert/strict';
import { Browser as SuiteBrowser, Http } from '../../attack/http.js';
import { DEMO_LOGINS } from '../../src/seed/demo.js';

export const ACME_CUSTOMER = DEMO_LOGINS.find((l) => l.tenant === 'acme' && l.role === 'customer')!;
export const ACME_CUSTOMER_2 = DEMO_LOGINS.filter((l) => l.tenant === 'acme' && l.role === 'customer')[1]!;
export const ACME_WAREHOUSE = DEMO_LOGINS.find((l) => l.tenant === 'acme' && l.role === 'warehouse_lead')!;
export const GLOBEX_CUSTOMER = DEMO_LOGINS.find((l) => l.tenant === 'globex' && l.role === 'customer')!;

export const REDIRECT = 'http://127.0.0.1:8765/callback';

export function pkce(): { verifier: string; challenge: string } {
  const verifier = randomBytes(32).toString('base64url');
  return { verifier, challenge: createHash('sha256').update(verifier).digest('base64url') };
}

/** The attack suite's minimal browser (cookie jar, no automatic redirects, same-origin form posts), bounded by a timeout. */
export class Browser extends SuiteBrowser {
  constructor(origin: string) {
    super(new Http({ timeoutMs: 30_000 }), origin);
  }
}

export function formAction(html: string): string {
  const m = /<form method="post" action="([^"]+)"/.exec(html);
  assert.ok(m, 'page has a form');
  return m[1]!.replace(/&amp;/g, '&');
}
export function csrfOf(html: string): string {
  const m = /name="csrf" value="([^"]+)"/.exec(html);
  assert.ok(m, 'form has a csrf token');
  return m[1]!;
}

export interface RegisteredClient { client_id: string; client_secret?: string }

export async function registerClient(issuer: string, body: Record<string, unknown> = {}): Promise<RegisteredClient> {
  const res = await fetch(`${issuer}/register`, {
    method: 'POST', headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ client_name: 'Test Client', redirect_uris: [REDIRECT], ...body }),
  });
  assert.equal(res.status, 201, await res.clone().text());
  return res.json() as Promise<RegisteredClient>;
}

export interface AuthorizeParams {
  client_id: string;
  redirect_uri?: string;
  resource?: string;
  scope?: string;
  state?: string;
  code_challenge?: string;
  code_challenge_method?: string;
  response_type?: string;
  [k: string]: string | undefined;
}

export function authorizeUrl(issuer: string, p: AuthorizeParams): string {
  const u = new URL(`${issuer}/authorize`);
  for (const [k, v] of Object.entries({ response_type: 'code', redirect_uri: REDIRECT, code_challenge_method: 'S256', ...p })) {
    if (v !== undefined) u.searchParams.set(k, v);
  }
  return u.toString();
}

/** Follows authorize → login page; returns the page's HTML and the browser. */
export async function startAuthorization(browser: Browser, url: string): Promise<{ res: Response; html: string }> {
  const res = await browser.fetch(url);
  assert.equal(res.status, 303, `authorize answered ${res.status}`);
  const location = res.headers.get('location')!;
  assert.ok(location.includes('/interaction/'), `authorize redirected to ${location}`);
  const page = await browser.fetch(location);
  assert.equal(page.status, 200);
  return { res: page, html: await page.text() };
}

/** Posts the login form. Returns the 303 response (to consent, or straight to the client). */
export async function login(browser: Browser, loginHtml: string, email: string, password: string): Promise<Response> {
  return browser.post(formAction(loginHtml), { csrf: csrfOf(loginHtml), email, password });
}

/** The whole browser part: authorize, login, (consent), back to the client's redirect URI. */
export async function obtainCode(browser: Browser, url: string, user: { login: string; password: string }, decision: 'allow' | 'deny' = 'allow'): Promise<URL> {
  const { html } = await startAuthorization(browser, url);
  const afterLogin = await login(browser, html, user.login, user.password);
  assert.equal(afterLogin.status, 303, `login answered ${afterLogin.status}`);
  let location = afterLogin.headers.get('location')!;
  if (location.includes('/interaction/')) {
    const consentPage = await browser.fetch(location);
    const consentHtml = await consentPage.text();
    assert.equal(consentPage.status, 200, consentHtml);
    const res = await browser.post(formAction(consentHtml), { csrf: csrfOf(consentHtml), decision });
    assert.equal(res.status, 303);
    location = res.headers.get('location')!;
  }
  return new URL(location);
}

export async function tokenRequest(issuer: string, form: Record<string, string>, headers: Record<string, string> = {}): Promise<{ status: number; body: Record<string, unknown>; headers: Headers }> {
  const res = await fetch(`${issuer}/token`, {
    method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers }, body: new URLSearchParams(form).toString(),
  });
  return { status: res.status, body: (await res.json()) as Record<string, unknown>, headers: res.headers };
}

export function basic(id: string, secret: string): string {
  return `Basic ${Buffer.from(`${encodeURIComponent(id)}:${encodeURIComponent(secret)}`).toString('base64')}`;
}
