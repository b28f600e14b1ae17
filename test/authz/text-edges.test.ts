// O15 (client display spoofing), O16 (non-canonical redirect URIs) and E1 at the OAuth edges (NUL
// and unpaired surrogates in parameters): real HTTP against the service, the consent page as a
// browser gets it.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, describe, test } from 'node:test';
import { checkClientMetadataDocument } from '../../src/authz/checks/client-metadata-document.js';
import { cleanClientName } from '../../src/authz/checks/client-name.js';
import { isAllowedRedirectUri, matchRedirectUri, redirectUriProblem } from '../../src/authz/checks/redirect-uri.js';
import { createPreregisteredClient } from '../../src/authz/clients.js';
import { resourceFor } from '../../src/authz/resources.js';
import { startTestService } from '../support/service.js';
import { ACME_CUSTOMER, Browser, REDIRECT, authorizeUrl, csrfOf, formAction, login, pkce, startAuthorization } from './flow.js';

// TRUST_PROXY given explicitly: each request below comes "from" its own address, so the per-IP
// registration throttle (A4, its own test) does not answer for the rules under test here.
const svc = await startTestService({ TRUST_PROXY: 'loopback' });
const issuer = `${svc.publicUrl}/t/acme`;
const resource = resourceFor(svc.config, 'acme', 'customer');
const someIp = () => `10.${randomBytes(3).join('.')}`;

async function register(body: unknown): Promise<{ status: number; json: Record<string, unknown> }> {
  const res = await fetch(`${issuer}/register`, {
    method: 'POST', headers: { 'content-type': 'application/json', 'x-forwarded-for': someIp() },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
  return { status: res.status, json: (await res.json()) as Record<string, unknown> };
}

/** Registers a client and signs ACME_CUSTOMER in up to its consent page; returns that page's HTML. */
async function consentPageFor(clientId: string): Promise<{ loginHtml: string; consentHtml: string }> {
  const browser = new Browser(svc.publicUrl);
  const { html: loginHtml } = await startAuthorization(browser, authorizeUrl(issuer, { client_id: clientId, code_challenge: pkce().challenge, resource, scope: 'orders' }));
  const afterLogin = await login(browser, loginHtml, ACME_CUSTOMER.login, ACME_CUSTOMER.password);
  assert.equal(afterLogin.status, 303);
  const page = await browser.fetch(afterLogin.headers.get('location')!);
  const consentHtml = await page.text();
  assert.equal(page.status, 200, consentHtml);
  assert.match(consentHtml, /name="decision" value="allow"/, 'this is the consent page');
  return { loginHtml, consentHtml };
}

const INVISIBLE = /[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f-\u009f\u200b-\u200f\u202a-\u202e\u2066-\u2069\ufeff]|[\u{E0000}-\u{E007F}]/u;

describe('O15 client display spoofing', () => {
  test('O15 a registered name with U+202E (and other bidi/zero-width/control characters) is stored and shown without them', async () => {
    const spoof = 'Official verified acme app \u202Eelpmaxe.emca\u202C\u200B\u2066\u0007';
    const r = await register({ client_name: spoof, redirect_uris: [REDIRECT] });
    assert.equal(r.status, 201, JSON.stringify(r.json));
    assert.equal(r.json.client_name, 'Official verified acme app elpmaxe.emca');
    const [row] = await svc.database.owner<{ name: string }[]>`select name from oauth_clients where client_id = ${String(r.json.client_id)}`;
    assert.doesNotMatch(row!.name, INVISIBLE, 'stored without invisible characters');
    const { loginHtml, consentHtml } = await consentPageFor(String(r.json.client_id));
    for (const html of [loginHtml, consentHtml]) {
      assert.doesNotMatch(html, INVISIBLE, 'page without bidi, zero-width or control characters');
      assert.match(html, /Official verified acme app elpmaxe\.emca/);
    }
  });

  test('O15 "Official verified acme app" (self-registered) is marked unverified on the login and consent pages; the redirect host is shown', async () => {
    const r = await register({ client_name: 'Official verified acme app', redirect_uris: [REDIRECT] });
    assert.equal(r.status, 201);
    const { loginHtml, consentHtml } = await consentPageFor(String(r.json.client_id));
    assert.match(loginHtml, /Official verified acme app<\/strong> <span class="muted">\(unverified\)<\/span>/);
    assert.match(consentHtml, /<h1>Allow Official verified acme app <span class="muted">\(unverified\)<\/span>/);
    assert.match(consentHtml, /<strong>unverified<\/strong>/);
    assert.match(consentHtml, /<code>127\.0\.0\.1:8765<\/code>/, 'the redirect host, plainly');
  });

  test('O15 a name stored before cleaning (existing row) is cleaned when shown; a client the shop registered is not marked unverified', async () => {
    const [tenant] = await svc.database.owner<{ id: string }[]>`select id from tenants where slug = 'acme'`;
    const { clientId } = await createPreregisteredClient(svc.database.owner, tenant!.id, { name: 'Acme Shop App', audience: 'customer', redirectUris: [REDIRECT], confidential: false });
    const own = await consentPageFor(clientId);
    assert.doesNotMatch(own.consentHtml, /unverified/);
    const r = await register({ client_name: 'Plain', redirect_uris: [REDIRECT] });
    await svc.database.owner`update oauth_clients set name = ${'Acme \u202Eppa.emca\u202C\u200D'} where client_id = ${String(r.json.client_id)}`;
    const old = await consentPageFor(String(r.json.client_id));
    assert.doesNotMatch(old.consentHtml, INVISIBLE);
    assert.match(old.consentHtml, /Allow Acme ppa\.emca <span class="muted">\(unverified\)/);
  });

  test('O15 metadata documents: the name is cleaned; nothing visible left means no name', () => {
    const url = 'https://app.example.com/client.json';
    const doc = checkClientMetadataDocument(url, { client_id: url, client_name: 'Acme\u202E \u2067official\u2069', redirect_uris: ['https://app.example.com/cb'] }, { allowPrivateNetwork: false });
    assert.equal(doc.client_name, 'Acme official');
    assert.equal(cleanClientName('\u200B\u202E\u0000 '), null);
    assert.equal(cleanClientName('ＡＣＭＥ   app'), 'ACME app', 'full-width folded, whitespace collapsed');
    assert.equal(Array.from(cleanClientName('é'.repeat(150))!).length, 100);
  });
});

// A local site serving a metadata document, for the one test that needs a fetched client.
const site = createServer((req, res) => {
  const id = `${siteBase}${req.url}`;
  res.writeHead(200, { 'content-type': 'application/json' });
  res.end(JSON.stringify({ client_id: id, client_name: 'Acme Official \u202Eppa\u202C', redirect_uris: [REDIRECT], token_endpoint_auth_method: 'none' }));
});
await new Promise<void>((r) => site.listen(0, '127.0.0.1', r));
const siteBase = `http://127.0.0.1:${(site.address() as AddressInfo).port}`;
after(() => new Promise<void>((r) => site.close(() => r())));

test('O15 a metadata-document client is shown cleaned and unverified', async () => {
  const dev = await startTestService({ ALLOW_PRIVATE_NETWORK_FETCH: 'true' });
  const devIssuer = `${dev.publicUrl}/t/acme`;
  const browser = new Browser(dev.publicUrl);
  const { html: loginHtml } = await startAuthorization(browser, authorizeUrl(devIssuer, {
    client_id: `${siteBase}/doc/client.json`, code_challenge: pkce().challenge, resource: resourceFor(dev.config, 'acme', 'customer'), scope: 'orders',
  }));
  const afterLogin = await login(browser, loginHtml, ACME_CUSTOMER.login, ACME_CUSTOMER.password);
  const consentHtml = await (await browser.fetch(afterLogin.headers.get('location')!)).text();
  assert.doesNotMatch(consentHtml, INVISIBLE);
  assert.match(consentHtml, /Allow Acme Official ppa <span class="muted">\(unverified\)/);
});

describe('O16 redirect URIs at registration and at the authorization endpoint', () => {
  const refused: [string, string][] = [
    ['https:///cb', 'empty_host'], ['https://:443/cb', 'empty_host'], ['https://app.example/a/../cb', 'dot_segment'], ['https://app.example/./cb', 'dot_segment'],
    ['https://app.example/a/..', 'dot_segment'], ['https://app.example/%2e%2e/cb', 'encoded_dot'], ['https://app.example/%2E/cb', 'encoded_dot'],
    ['https://app.example/a%2fb', 'encoded_dot'], ['http://127.0.0.1:99999/cb', 'port'], ['http://127.0.0.1:0/cb', 'port'], ['https://app.example:65536/cb', 'port'],
    ['http://localhost:123456/cb', 'port'], ['https://user@app.example/cb', 'userinfo'], ['https://u:p@app.example/cb', 'userinfo'], ['https://app.example/cb#x', 'fragment'],
    ['https://APP.example/cb', 'not_canonical'], ['https://app.example:443/cb', 'not_canonical'], ['https://app.example', 'not_canonical'],
    ['http://app.example/cb', 'not_loopback'], ['ftp://app.example/cb', 'scheme'],
  ];
  for (const [uri, problem] of refused) {
    test(`O16 registration refuses ${uri} (${problem}) with 400 invalid_redirect_uri`, async () => {
      assert.equal(redirectUriProblem(uri), problem);
      const r = await register({ client_name: 'O16', redirect_uris: ['https://app.example/ok', uri] });
      assert.equal(r.status, 400, JSON.stringify(r.json));
      assert.equal(r.json.error, 'invalid_redirect_uri');
    });
  }

  test('O16 boundaries: ports 1 and 65535 are accepted, 0 and 65536 refused; canonical https and loopback URIs pass', async () => {
    for (const ok of ['http://127.0.0.1:1/cb', 'http://127.0.0.1:65535/cb', 'https://app.example:8443/cb', 'http://[::1]:3000/cb', 'http://localhost/cb', 'https://app.example/cb?x=1', 'https://app.example/file.json']) {
      assert.equal(isAllowedRedirectUri(ok), true, ok);
    }
    const r = await register({ client_name: 'O16 ok', redirect_uris: ['http://127.0.0.1:65535/cb', 'http://127.0.0.1:1/cb'] });
    assert.equal(r.status, 201, JSON.stringify(r.json));
    for (const bad of ['http://127.0.0.1:0/cb', 'http://127.0.0.1:65536/cb']) assert.equal(isAllowedRedirectUri(bad), false, bad);
  });

  test('O16 a loopback redirect with port 99999 (or 0) at the authorization endpoint is a 400 error page, never a 500; port 65535 goes on', async () => {
    const r = await register({ client_name: 'Loopback', redirect_uris: [REDIRECT] });
    const clientId = String(r.json.client_id);
    for (const port of ['99999', '0', '65536', '00080']) {
      const redirect = `http://127.0.0.1:${port}/callback`;
      assert.equal(matchRedirectUri(redirect, [REDIRECT]), undefined, redirect);
      const res = await new Browser(svc.publicUrl).fetch(authorizeUrl(issuer, { client_id: clientId, redirect_uri: redirect, code_challenge: pkce().challenge, resource }));
      assert.equal(res.status, 400, `${redirect} → ${res.status}`);
      assert.equal(res.headers.get('location'), null, 'no redirect to an unparseable URI');
    }
    const res = await new Browser(svc.publicUrl).fetch(authorizeUrl(issuer, { client_id: clientId, redirect_uri: 'http://127.0.0.1:65535/callback', code_challenge: pkce().challenge, resource }));
    assert.equal(res.status, 303);
    assert.match(res.headers.get('location')!, /\/interaction\//);
  });

  test('O16 metadata documents: the same rules for their redirect URIs', () => {
    const url = 'https://app.example.com/client.json';
    for (const bad of ['https:///cb', 'http://127.0.0.1:99999/cb', 'https://app.example.com/a/../cb', 'https://app.example.com/%2e/cb']) {
      assert.throws(() => checkClientMetadataDocument(url, { client_id: url, redirect_uris: [bad] }, { allowPrivateNetwork: true }), /redirect_uris/, bad);
    }
    assert.doesNotThrow(() => checkClientMetadataDocument(url, { client_id: url, redirect_uris: ['http://app.example.com:8080/cb'] }, { allowPrivateNetwork: true }));
  });
});

describe('E1 NUL and unpaired surrogates at the OAuth endpoints', () => {
  const form = (path: string, body: string, headers: Record<string, string> = {}) => fetch(`${issuer}/${path}`, {
    method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded', 'x-forwarded-for': someIp(), ...headers }, body,
  });

  test('E1 token, revoke and introspect: a NUL in any parameter → 400 invalid_request, never 500', async () => {
    const cases: [string, string][] = [
      ['token', 'grant_type=authorization_code&client_id=abc%00&code=x&code_verifier=y&redirect_uri=x'],
      ['token', 'grant_type=refresh_token&refresh_token=cmcp_rt_%00&client_id=x'],
      ['token', 'grant_type=authorization_code&code=%00'],
      ['token', 'grant_type=client_credentials&client_id=a&client_secret=b&scope=%00'],
      ['revoke', 'token=%00&client_id=x'],
      ['revoke', 'token=abc&client_id=x%00'],
      ['introspect', 'token=abc%00&client_id=x&client_secret=y'],
      ['introspect', 'tok%00en=abc&client_id=x&client_secret=y'],
    ];
    for (const [path, body] of cases) {
      const res = await form(path, body);
      const text = await res.text();
      assert.equal(res.status, 400, `${path} ${body} → ${res.status} ${text}`);
      assert.equal((JSON.parse(text) as { error: string }).error, 'invalid_request', text);
    }
  });

  test('E1 authorize: a NUL in a query parameter → 400, never 500', async () => {
    const r = await register({ client_name: 'E1', redirect_uris: [REDIRECT] });
    for (const extra of [{ state: 'a\u0000b' }, { scope: 'orders\u0000' }, { client_id: 'x\u0000' }, { redirect_uri: `${REDIRECT}\u0000` }]) {
      const res = await new Browser(svc.publicUrl).fetch(authorizeUrl(issuer, { client_id: String(r.json.client_id), code_challenge: pkce().challenge, resource, ...extra }));
      assert.equal(res.status, 400, `${JSON.stringify(extra)} → ${res.status}`);
      assert.equal(res.headers.get('location'), null);
    }
  });

  test('E1 register: NUL or an unpaired surrogate (raw JSON "\\ud800") → 400 with an RFC 7591 code, nothing stored', async () => {
    const before = (await svc.database.owner<{ n: number }[]>`select count(*)::int as n from oauth_clients`)[0]!.n;
    const cases: [string, string][] = [
      [JSON.stringify({ client_name: 'a\u0000b', redirect_uris: [REDIRECT] }), 'invalid_client_metadata'],
      [`{"client_name":"a\\ud800b","redirect_uris":["${REDIRECT}"]}`, 'invalid_client_metadata'],
      [`{"client_name":"ok","redirect_uris":["${REDIRECT}\\u0000"]}`, 'invalid_redirect_uri'],
      [`{"client_name":"ok","redirect_uris":["${REDIRECT}"],"scope":"orders\\udc00"}`, 'invalid_client_metadata'],
      [`{"client_name":"ok","redirect_uris":["${REDIRECT}"],"software_id":"\\u0000"}`, 'invalid_client_metadata'],
    ];
    for (const [body, error] of cases) {
      const r = await register(body);
      assert.equal(r.status, 400, `${body} → ${r.status} ${JSON.stringify(r.json)}`);
      assert.equal(r.json.error, error, body);
    }
    const afterCount = (await svc.database.owner<{ n: number }[]>`select count(*)::int as n from oauth_clients`)[0]!.n;
    assert.equal(afterCount, before);
  });

  test('E1 the sign-in form: a NUL in the email or password → 400, never 500', async () => {
    const r = await register({ client_name: 'E1 login', redirect_uris: [REDIRECT] });
    for (const [email, password] of [[`${ACME_CUSTOMER.login}\u0000`, 'x'], [ACME_CUSTOMER.login, 'pw\u0000']]) {
      const browser = new Browser(svc.publicUrl);
      const { html } = await startAuthorization(browser, authorizeUrl(issuer, { client_id: String(r.json.client_id), code_challenge: pkce().challenge, resource }));
      const res = await browser.post(formAction(html), { csrf: csrfOf(html), email: email!, password: password! });
      assert.equal(res.status, 400, `${JSON.stringify(email)} → ${res.status}`);
    }
  });

  test('E1 the approval console sign-in: a NUL in a field → 400, never 500', async () => {
    const browser = new Browser(svc.internalUrl);
    const page = await browser.fetch('/console/t/acme/login');
    const html = await page.text();
    const res = await browser.post('/console/t/acme/login', { csrf: csrfOf(html), email: 'ops\u0000@acme.example', password: 'x' });
    assert.equal(res.status, 400);
  });
});
