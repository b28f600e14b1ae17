// The OAuth side of the suite, as any MCP client would do it: discovery from the MCP endpoint's 401
// challenge (RFC 9728 §5) to the authorization server's metadata (RFC 8414 §3), dynamic registration
// (RFC 7591), and authorization code + PKCE (RFC 7636) by posting the real login and consent forms.
// The redirect URI's loopback port never listens: the code is read from the 303's Location.
import { createHash, randomBytes } from 'node:crypto';
import { Browser, csrfOf, formAction, type Http } from './http.js';
import { SetupError } from './types.js';

export interface Credentials {
  login: string;
  password: string;
}

export interface AuthorizationServer {
  issuer: string;
  authorization_endpoint: string;
  token_endpoint: string;
  registration_endpoint?: string;
  revocation_endpoint?: string;
  introspection_endpoint?: string;
  code_challenge_methods_supported?: string[];
  authorization_response_iss_parameter_supported?: boolean;
  [k: string]: unknown;
}

export interface Discovery {
  /** The MCP endpoint, as its protected resource metadata names it (the token audience). */
  resource: string;
  challenge: string;
  resourceMetadataUrl: string;
  resourceMetadata: Record<string, unknown>;
  as: AuthorizationServer;
}

/** RFC 9728 §5.1: the resource_metadata parameter of a Bearer challenge. */
export function challengeParam(header: string | null, name: string): string | undefined {
  if (!header) return undefined;
  return new RegExp(`${name}="((?:[^"\\\\]|\\\\.)*)"`).exec(header)?.[1]?.replace(/\\(.)/g, '$1');
}

/** RFC 8414 §3.1: the well-known segment goes between the issuer's origin and its path. */
export function asMetadataUrl(issuer: string): string {
  const u = new URL(issuer);
  return `${u.origin}/.well-known/oauth-authorization-server${u.pathname === '/' ? '' : u.pathname}`;
}

export const MCP_HEADERS = {
  'content-type': 'application/json',
  accept: 'application/json, text/event-stream',
  'mcp-protocol-version': '2025-11-25',
} as const;

export const INITIALIZE = {
  jsonrpc: '2.0', id: 0, method: 'initialize',
  params: { protocolVersion: '2025-11-25', capabilities: {}, clientInfo: { name: 'commerce-mcp-attack-suite', version: '1.0.0' } },
};

/** Unauthenticated request → 401 challenge → protected resource metadata → AS metadata. */
export async function discover(http: Http, mcpUrl: string): Promise<Discovery> {
  const res = await http.fetch(mcpUrl, { method: 'POST', headers: MCP_HEADERS, body: JSON.stringify(INITIALIZE) });
  await res.arrayBuffer();
  const challenge = res.headers.get('www-authenticate') ?? '';
  if (res.status !== 401) throw new SetupError(`discovery: ${mcpUrl} answered ${res.status} without a token, not 401`);
  const resourceMetadataUrl = challengeParam(challenge, 'resource_metadata');
  if (!resourceMetadataUrl) throw new SetupError(`discovery: the 401 challenge names no resource_metadata (${challenge || 'no WWW-Authenticate'})`);
  const prm = await http.json(resourceMetadataUrl);
  if (prm.status !== 200) throw new SetupError(`discovery: protected resource metadata ${resourceMetadataUrl} answered ${prm.status}`);
  const servers = prm.body.authorization_servers;
  const issuer = Array.isArray(servers) && typeof servers[0] === 'string' ? servers[0] : undefined;
  if (!issuer) throw new SetupError('discovery: protected resource metadata names no authorization server');
  const meta = await http.json(asMetadataUrl(issuer));
  if (meta.status !== 200) throw new SetupError(`discovery: authorization server metadata ${asMetadataUrl(issuer)} answered ${meta.status}`);
  const as = meta.body as AuthorizationServer;
  if (as.issuer !== issuer) throw new SetupError(`discovery: metadata issuer ${String(as.issuer)} differs from ${issuer} (RFC 8414 §3.3)`);
  return { resource: String(prm.body.resource ?? mcpUrl), challenge, resourceMetadataUrl, resourceMetadata: prm.body, as };
}

export interface RegisteredClient {
  client_id: string;
  client_secret?: string;
  redirect_uris: string[];
}

export async function registerClient(http: Http, as: AuthorizationServer, metadata: Record<string, unknown>): Promise<RegisteredClient> {
  if (!as.registration_endpoint) throw new SetupError('the authorization server offers no registration_endpoint (RFC 7591); pass --client-id');
  const res = await http.json(as.registration_endpoint, {
    method: 'POST', headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ client_name: 'commerce-mcp attack suite', ...metadata }),
  });
  if (res.status !== 201) throw new SetupError(`registration answered ${res.status}: ${res.text.slice(0, 200)}`);
  return res.body as unknown as RegisteredClient;
}

export interface Pkce {
  verifier: string;
  challenge: string;
}

export function pkce(): Pkce {
  const verifier = randomBytes(32).toString('base64url');
  return { verifier, challenge: createHash('sha256').update(verifier).digest('base64url') };
}

export function authorizeUrl(as: AuthorizationServer, params: Record<string, string | undefined>): string {
  const u = new URL(as.authorization_endpoint);
  for (const [k, v] of Object.entries(params)) if (v !== undefined) u.searchParams.set(k, v);
  return u.toString();
}

export interface AuthorizationRequest {
  clientId: string;
  redirectUri: string;
  resource: string;
  scope?: string;
  pkce?: Pkce;
  state?: string;
  extra?: Record<string, string | undefined>;
}

export interface LoginPage {
  browser: Browser;
  html: string;
  pageUrl: string;
  pageHeaders: Headers;
  authorizeStatus: number;
}

/** GET /authorize in a fresh browser and follow its 303 to the sign-in page. */
export async function openLoginPage(http: Http, as: AuthorizationServer, r: AuthorizationRequest): Promise<LoginPage> {
  const origin = new URL(as.authorization_endpoint).origin;
  const browser = new Browser(http, origin);
  const p = r.pkce ?? pkce();
  const url = authorizeUrl(as, {
    response_type: 'code', client_id: r.clientId, redirect_uri: r.redirectUri, resource: r.resource, scope: r.scope,
    state: r.state ?? randomBytes(8).toString('hex'), code_challenge: p.challenge, code_challenge_method: 'S256', ...r.extra,
  });
  const res = await browser.fetch(url);
  await res.arrayBuffer();
  const location = res.headers.get('location');
  if (res.status !== 303 && res.status !== 302) throw new SetupError(`authorize answered ${res.status}, not a redirect to the sign-in page`);
  if (!location || location.startsWith(r.redirectUri.split('?')[0]!)) throw new SetupError(`authorize redirected to ${location} instead of the sign-in page`);
  const page = await browser.fetch(location);
  const html = await page.text();
  if (page.status !== 200) throw new SetupError(`sign-in page answered ${page.status}`);
  return { browser, html, pageUrl: new URL(location, origin).toString(), pageHeaders: page.headers, authorizeStatus: res.status };
}

export interface CodeResult {
  /** Where the browser was finally sent: the client's redirect URI with code (or error), state, iss. */
  location: URL;
  code: string | undefined;
  pkce: Pkce;
  consentShown: boolean;
  consentHeaders: Headers | undefined;
  loginHeaders: Headers;
  /** Statuses of the POSTs that ended in the client redirect (O10: 303). */
  postStatuses: number[];
}

/** The whole browser part: authorize, sign in, consent (when asked), and the redirect to the client. */
export async function obtainCode(http: Http, as: AuthorizationServer, r: AuthorizationRequest, user: Credentials, decision: 'allow' | 'deny' = 'allow'): Promise<CodeResult> {
  const p = r.pkce ?? pkce();
  const page = await openLoginPage(http, as, { ...r, pkce: p });
  const action = formAction(page.html);
  const csrf = csrfOf(page.html);
  if (!action || !csrf) throw new SetupError('the sign-in page has no form with a csrf token');
  const login = await page.browser.post(action, { csrf, email: user.login, password: user.password });
  await login.arrayBuffer();
  if (login.status !== 303) throw new SetupError(`sign-in as ${user.login} answered ${login.status} (wrong credentials, or throttled?)`);
  let location = login.headers.get('location') ?? '';
  const postStatuses = [login.status];
  let consentShown = false;
  let consentHeaders: Headers | undefined;
  if (!location.startsWith(r.redirectUri)) {
    const consent = await page.browser.fetch(location);
    const html = await consent.text();
    consentHeaders = consent.headers;
    const consentAction = formAction(html);
    const consentCsrf = csrfOf(html);
    if (consent.status !== 200 || !consentAction || !consentCsrf) throw new SetupError(`consent page answered ${consent.status} without a form`);
    consentShown = true;
    const decided = await page.browser.post(consentAction, { csrf: consentCsrf, decision });
    await decided.arrayBuffer();
    postStatuses.push(decided.status);
    location = decided.headers.get('location') ?? '';
    if (decided.status !== 303 || !location) throw new SetupError(`consent answered ${decided.status}`);
  }
  const url = new URL(location, page.pageUrl);
  return { location: url, code: url.searchParams.get('code') ?? undefined, pkce: p, consentShown, consentHeaders, loginHeaders: login.headers, postStatuses };
}

export interface TokenResponse {
  status: number;
  body: Record<string, unknown>;
  headers: Headers;
}

export async function tokenRequest(http: Http, as: AuthorizationServer, form: Record<string, string>, headers: Record<string, string> = {}): Promise<TokenResponse> {
  const res = await http.form(as.token_endpoint, form, headers);
  return { status: res.status, body: res.body, headers: res.headers };
}

export interface Tokens {
  access_token: string;
  refresh_token?: string;
  scope?: string;
  expires_in?: number;
}

/** Redeems a code; `verifier` null sends none at all (O2). */
export function redeemCode(http: Http, as: AuthorizationServer, r: AuthorizationRequest, c: CodeResult, verifier: string | null = c.pkce.verifier): Promise<TokenResponse> {
  const form: Record<string, string> = { grant_type: 'authorization_code', code: c.code ?? '', client_id: r.clientId, redirect_uri: r.redirectUri, resource: r.resource };
  if (verifier !== null) form.code_verifier = verifier;
  return tokenRequest(http, as, form);
}

export function refresh(http: Http, as: AuthorizationServer, clientId: string, refreshToken: string, extra: Record<string, string> = {}): Promise<TokenResponse> {
  return tokenRequest(http, as, { grant_type: 'refresh_token', refresh_token: refreshToken, client_id: clientId, ...extra });
}

/** Authorize, sign in, consent and redeem: a fresh token family. */
export async function obtainTokens(http: Http, as: AuthorizationServer, r: AuthorizationRequest, user: Credentials): Promise<Tokens> {
  const c = await obtainCode(http, as, r, user);
  if (!c.code) throw new SetupError(`no code for ${user.login}: redirected with ${c.location.search}`);
  const t = await redeemCode(http, as, r, c);
  if (t.status !== 200 || typeof t.body.access_token !== 'string') throw new SetupError(`code redemption answered ${t.status}: ${JSON.stringify(t.body)}`);
  return t.body as unknown as Tokens;
}

export async function revoke(http: Http, as: AuthorizationServer, clientId: string, token: string): Promise<number> {
  if (!as.revocation_endpoint) throw new SetupError('no revocation_endpoint in the metadata');
  const res = await http.form(as.revocation_endpoint, { token, client_id: clientId });
  return res.status;
}
