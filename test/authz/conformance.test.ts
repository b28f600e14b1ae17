// Conformance-style tests of the authorization server, per catalogue id (docs/ATTACK-CATALOGUE.md O1–O12, M2) and
// per RFC section. Real HTTP against the whole service, real PostgreSQL, no mocks.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { createPreregisteredClient } from '../../src/authz/clients.js';
import { resourceFor } from '../../src/authz/resources.js';
import { startTestService, type TestService } from '../support/service.js';
import {
  ACME_CUSTOMER, ACME_CUSTOMER_2, ACME_WAREHOUSE, Browser, REDIRECT, authorizeUrl, basic, csrfOf, formAction, login,
  obtainCode, pkce, registerClient, startAuthorization, tokenRequest, type RegisteredClient,
} from './flow.js';

// One service for the file (started at module level so that its `after` hook closes it at the end).
const svc: TestService = await startTestService();
const issuer = `${svc.publicUrl}/t/acme`;
const customerResource = resourceFor(svc.config, 'acme', 'customer');
const internalResource = resourceFor(svc.config, 'acme', 'internal');
const client: RegisteredClient = await registerClient(issuer);
const [acme] = await svc.database.owner<{ id: string }[]>`select id from tenants where slug = 'acme'`;
const rs = await createPreregisteredClient(svc.database.owner, acme!.id, { name: 'Resource server', audience: 'resource_server', confidential: true });
const service = await createPreregisteredClient(svc.database.owner, acme!.id, { name: 'Nightly job', audience: 'service', confidential: true, scope: 'ops:read stock:reorder' });

async function introspect(token: string, tenant = 'acme') {
  const res = await fetch(`${svc.publicUrl}/t/${tenant}/introspect`, {
    method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: basic(rs.clientId, rs.secret!) },
    body: new URLSearchParams({ token }).toString(),
  });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

/** A full customer flow for `user` → code + verifier. */
async function codeFor(user = ACME_CUSTOMER, extra: Record<string, string> = {}, c: RegisteredClient = client) {
  const { verifier, challenge } = pkce();
  const back = await obtainCode(new Browser(svc.publicUrl), authorizeUrl(issuer, { client_id: c.client_id, code_challenge: challenge, resource: customerResource, state: 's1', ...extra }), user);
  const code = back.searchParams.get('code');
  assert.ok(code, `no code in ${back}`);
  return { code, verifier, back };
}

async function redeem(code: string, verifier: string | undefined, c: RegisteredClient = client) {
  const form: Record<string, string> = { grant_type: 'authorization_code', code, redirect_uri: REDIRECT, client_id: c.client_id };
  if (verifier !== undefined) form.code_verifier = verifier;
  return tokenRequest(issuer, form);
}

function assertErrorRedirect(res: Response, error: string) {
  assert.equal(res.status, 303);
  const to = new URL(res.headers.get('location')!);
  assert.equal(`${to.origin}${to.pathname}`, REDIRECT, 'only ever the registered redirect URI');
  assert.equal(to.searchParams.get('error'), error);
  assert.equal(to.searchParams.get('iss'), issuer, 'RFC 9207 iss on errors too');
  assert.equal(to.searchParams.get('code'), null);
  return to;
}

function assertErrorPage(res: Response) {
  assert.equal(res.status, 400);
  assert.equal(res.headers.get('location'), null, 'no redirect');
  assert.match(res.headers.get('content-type') ?? '', /text\/html/);
}

describe('O1 PKCE required (RFC 7636 §4.4.1, OAuth 2.1 §4.1.1)', () => {
  test('O1 authorize without code_challenge → invalid_request, no code', async () => {
    const res = await new Browser(svc.publicUrl).fetch(authorizeUrl(issuer, { client_id: client.client_id, resource: customerResource, state: 'st' }));
    const to = assertErrorRedirect(res, 'invalid_request');
    assert.equal(to.searchParams.get('state'), 'st');
  });
  test('O1 authorize with code_challenge_method=plain → invalid_request, no code', async () => {
    const { verifier } = pkce();
    const res = await new Browser(svc.publicUrl).fetch(authorizeUrl(issuer, { client_id: client.client_id, resource: customerResource, code_challenge: verifier, code_challenge_method: 'plain' }));
    assertErrorRedirect(res, 'invalid_request');
  });
  test('O1 authorize with code_challenge but no method (means plain) → invalid_request', async () => {
    const res = await new Browser(svc.publicUrl).fetch(authorizeUrl(issuer, { client_id: client.client_id, resource: customerResource, code_challenge: pkce().challenge, code_challenge_method: undefined }).replace(/&code_challenge_method=S256/, ''));
    assertErrorRedirect(res, 'invalid_request');
  });
});

describe('O2 code verifier (RFC 7636 §4.6)', () => {
  test('O2 wrong verifier → invalid_grant, and the code is burned', async () => {
    const { code, verifier } = await codeFor();
    const wrong = await redeem(code, pkce().verifier);
    assert.equal(wrong.status, 400);
    assert.equal(wrong.body.error, 'invalid_grant');
    const right = await redeem(code, verifier);
    assert.equal(right.status, 400);
    assert.equal(right.body.error, 'invalid_grant', 'burned by the failed attempt');
  });
  test('O2 missing or malformed verifier → invalid_grant, code burned', async () => {
    const { code, verifier } = await codeFor();
    const missing = await redeem(code, undefined);
    assert.equal(missing.status, 400);
    assert.equal(missing.body.error, 'invalid_grant');
    assert.equal((await redeem(code, verifier)).body.error, 'invalid_grant');
    const second = await codeFor();
    assert.equal((await redeem(second.code, 'short')).body.error, 'invalid_grant');
    assert.equal((await redeem(second.code, second.verifier)).body.error, 'invalid_grant');
  });
});

describe('O3 redirect URI exact match (OAuth 2.1 §4.1.1, RFC 8252 §7.3)', () => {
  const variants = [
    'http://127.0.0.1:8765/callback/', 'http://127.0.0.1:8765/Callback', 'http://127.0.0.1:8765/callback/extra',
    'http://127.0.0.1:8765/callback?x=1', 'http://evil@127.0.0.1:8765/callback', 'http://127.0.0.1:8765@evil.example/callback',
    'https://127.0.0.1:8765/callback', 'http://localhost:8765/callback', ' http://127.0.0.1:8765/callback',
    'http://127.0.0.1:8765/callback%20', 'http://127.0.0.1:8765/callback\r\nX: y', 'http://127.0.0.1:8765/callback#frag',
    'http://127.0.0.1:8765/%63allback', 'HTTP://127.0.0.1:8765/callback', 'http://127.0.0.2:8765/callback',
  ];
  for (const variant of variants) {
    test(`O3 redirect_uri variant ${JSON.stringify(variant)} → error page, no redirect`, async () => {
      const res = await new Browser(svc.publicUrl).fetch(authorizeUrl(issuer, { client_id: client.client_id, redirect_uri: variant, resource: customerResource, code_challenge: pkce().challenge }));
      assertErrorPage(res);
    });
  }
  test('O3 https redirect URI: another port, host case or scheme → error page', async () => {
    const c = await registerClient(issuer, { redirect_uris: ['https://app.example.com/cb'] });
    for (const v of ['https://app.example.com:8443/cb', 'https://APP.example.com/cb', 'http://app.example.com/cb', 'https://app.example.com/cb/']) {
      assertErrorPage(await new Browser(svc.publicUrl).fetch(authorizeUrl(issuer, { client_id: c.client_id, redirect_uri: v, resource: customerResource, code_challenge: pkce().challenge })));
    }
    const ok = await new Browser(svc.publicUrl).fetch(authorizeUrl(issuer, { client_id: c.client_id, redirect_uri: 'https://app.example.com/cb', resource: customerResource, code_challenge: pkce().challenge }));
    assert.equal(ok.status, 303);
  });
  test('O3 loopback redirect URI: any port is accepted (RFC 8252 §7.3), nothing else varies', async () => {
    const res = await new Browser(svc.publicUrl).fetch(authorizeUrl(issuer, { client_id: client.client_id, redirect_uri: 'http://127.0.0.1:40123/callback', resource: customerResource, code_challenge: pkce().challenge }));
    assert.equal(res.status, 303);
    assert.match(res.headers.get('location')!, /\/interaction\//);
  });
  test('O3 redirect_uri missing → error page (no fallback to the registered one)', async () => {
    const u = new URL(authorizeUrl(issuer, { client_id: client.client_id, resource: customerResource, code_challenge: pkce().challenge }));
    u.searchParams.delete('redirect_uri');
    assertErrorPage(await new Browser(svc.publicUrl).fetch(u.toString()));
  });
  test('O3 token request with a different redirect_uri → invalid_grant', async () => {
    const { code, verifier } = await codeFor();
    const r = await tokenRequest(issuer, { grant_type: 'authorization_code', code, code_verifier: verifier, redirect_uri: 'http://127.0.0.1:8765/other', client_id: client.client_id });
    assert.equal(r.status, 400);
    assert.equal(r.body.error, 'invalid_grant');
  });
  test('O3 registration refuses non-https, non-loopback and odd redirect URIs (RFC 7591 §3.2.2 invalid_redirect_uri)', async () => {
    for (const uri of ['http://app.example.com/cb', 'javascript:alert(1)', 'https://app.example.com/cb#x', 'https://user@app.example.com/cb', 'custom:/x', 'http://127.0.0.1.evil.example/cb']) {
      const res = await fetch(`${issuer}/register`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ redirect_uris: [uri] }) });
      assert.equal(res.status, 400, uri);
      assert.equal(((await res.json()) as { error: string }).error, 'invalid_redirect_uri', uri);
    }
  });
});

describe('O4 no open redirector (RFC 9700 §4.11)', () => {
  test('O4 unknown client → error page, no redirect', async () => {
    assertErrorPage(await new Browser(svc.publicUrl).fetch(authorizeUrl(issuer, { client_id: 'no-such-client', redirect_uri: 'https://evil.example/cb', resource: customerResource, code_challenge: pkce().challenge })));
  });
  test('O4 unregistered redirect URI of a known client → error page, no redirect', async () => {
    assertErrorPage(await new Browser(svc.publicUrl).fetch(authorizeUrl(issuer, { client_id: client.client_id, redirect_uri: 'https://evil.example/cb', resource: customerResource, code_challenge: pkce().challenge })));
  });
  test('O4 bad scope → error only to the registered redirect URI', async () => {
    assertErrorRedirect(await new Browser(svc.publicUrl).fetch(authorizeUrl(issuer, { client_id: client.client_id, resource: customerResource, scope: 'orders nonsense', code_challenge: pkce().challenge })), 'invalid_scope');
  });
  test('O4 user denies → access_denied to the registered redirect URI only', async () => {
    const c = await registerClient(issuer, { client_name: 'Denied app' });
    const back = await obtainCode(new Browser(svc.publicUrl), authorizeUrl(issuer, { client_id: c.client_id, resource: customerResource, code_challenge: pkce().challenge, state: 'd1' }), ACME_CUSTOMER, 'deny');
    assert.equal(`${back.origin}${back.pathname}`, REDIRECT);
    assert.equal(back.searchParams.get('error'), 'access_denied');
    assert.equal(back.searchParams.get('state'), 'd1');
    assert.equal(back.searchParams.get('iss'), issuer);
  });
});

describe('O5 code replay (RFC 6749 §4.1.2, OAuth 2.1 §4.1.3)', () => {
  test('O5 second redemption → invalid_grant; tokens from the first use are revoked', async () => {
    const { code, verifier } = await codeFor();
    const first = await redeem(code, verifier);
    assert.equal(first.status, 200);
    assert.equal((await introspect(first.body.access_token as string)).body.active, true);
    const second = await redeem(code, verifier);
    assert.equal(second.status, 400);
    assert.equal(second.body.error, 'invalid_grant');
    assert.equal((await introspect(first.body.access_token as string)).body.active, false, 'access token revoked');
    const refresh = await tokenRequest(issuer, { grant_type: 'refresh_token', refresh_token: first.body.refresh_token as string, client_id: client.client_id });
    assert.equal(refresh.body.error, 'invalid_grant', 'refresh token revoked');
  });
  test('O5 a code is bound to its client: another client redeeming it → invalid_grant', async () => {
    const other = await registerClient(issuer);
    const { code, verifier } = await codeFor();
    const r = await redeem(code, verifier, other);
    assert.equal(r.status, 400);
    assert.equal(r.body.error, 'invalid_grant');
  });
});

describe('O6 refresh rotation and reuse detection (OAuth 2.1 §4.3.1, RFC 9700 §4.14.2)', () => {
  test('O6 rotated refresh token replayed → invalid_grant and the whole family revoked', async () => {
    const { code, verifier } = await codeFor();
    const t0 = await redeem(code, verifier);
    const t1 = await tokenRequest(issuer, { grant_type: 'refresh_token', refresh_token: t0.body.refresh_token as string, client_id: client.client_id });
    assert.equal(t1.status, 200);
    assert.notEqual(t1.body.refresh_token, t0.body.refresh_token, 'rotated');
    assert.equal(t1.headers.get('cache-control'), 'no-store');
    const replay = await tokenRequest(issuer, { grant_type: 'refresh_token', refresh_token: t0.body.refresh_token as string, client_id: client.client_id });
    assert.equal(replay.status, 400);
    assert.equal(replay.body.error, 'invalid_grant');
    const after = await tokenRequest(issuer, { grant_type: 'refresh_token', refresh_token: t1.body.refresh_token as string, client_id: client.client_id });
    assert.equal(after.body.error, 'invalid_grant', 'newest refresh token of the family is revoked too');
    assert.equal((await introspect(t1.body.access_token as string)).body.active, false);
    const [audit] = await svc.database.owner`select count(*)::int as n from audit_events where event = 'auth.refresh_reuse_detected'`;
    assert.ok(audit!.n >= 1, 'audited');
  });
});

describe('O7 scope escalation (RFC 6749 §3.3, §6)', () => {
  test('O7 refresh asking for more scope → invalid_scope; narrowing works', async () => {
    const { code, verifier } = await codeFor(ACME_CUSTOMER, { scope: 'orders returns' });
    const t0 = await redeem(code, verifier);
    assert.equal(t0.body.scope, 'orders returns');
    const more = await tokenRequest(issuer, { grant_type: 'refresh_token', refresh_token: t0.body.refresh_token as string, client_id: client.client_id, scope: 'orders cart' });
    assert.equal(more.status, 400);
    assert.equal(more.body.error, 'invalid_scope');
    const narrower = await tokenRequest(issuer, { grant_type: 'refresh_token', refresh_token: t0.body.refresh_token as string, client_id: client.client_id, scope: 'orders' });
    assert.equal(narrower.status, 200);
    assert.equal(narrower.body.scope, 'orders');
  });
  test('O7 customer endpoint asked for staff scopes → invalid_scope', async () => {
    assertErrorRedirect(await new Browser(svc.publicUrl).fetch(authorizeUrl(issuer, { client_id: client.client_id, resource: customerResource, scope: 'orders ops:read', code_challenge: pkce().challenge })), 'invalid_scope');
  });
  test('O7 unknown scope → invalid_scope', async () => {
    assertErrorRedirect(await new Browser(svc.publicUrl).fetch(authorizeUrl(issuer, { client_id: client.client_id, resource: internalResource, scope: 'superuser', code_challenge: pkce().challenge })), 'invalid_scope');
  });
  test('O7 staff token scope = requested ∩ role-allowed (warehouse lead asking for refunds gets none of it)', async () => {
    const { verifier, challenge } = pkce();
    const back = await obtainCode(new Browser(svc.publicUrl), authorizeUrl(issuer, { client_id: client.client_id, code_challenge: challenge, resource: internalResource, scope: 'ops:read payments:refund' }), ACME_WAREHOUSE);
    const t = await redeem(back.searchParams.get('code')!, verifier);
    assert.equal(t.status, 200);
    assert.equal(t.body.scope, 'ops:read');
    assert.equal((await introspect(t.body.access_token as string)).body.aud, internalResource);
  });
  test('O7 client_credentials beyond the registered scope → invalid_scope', async () => {
    const r = await tokenRequest(issuer, { grant_type: 'client_credentials', resource: internalResource, scope: 'ops:read payments:refund' }, { authorization: basic(service.clientId, service.secret!) });
    assert.equal(r.status, 400);
    assert.equal(r.body.error, 'invalid_scope');
  });
});

describe('O8 CSRF on login and consent', () => {
  test('O8 login POST without the form token → 403, no code', async () => {
    const b = new Browser(svc.publicUrl);
    const { html } = await startAuthorization(b, authorizeUrl(issuer, { client_id: client.client_id, resource: customerResource, code_challenge: pkce().challenge }));
    const res = await b.post(formAction(html), { email: ACME_CUSTOMER.login, password: ACME_CUSTOMER.password });
    assert.equal(res.status, 403);
    assert.equal(res.headers.get('location'), null);
  });
  test('O8 login POST from another origin → 403', async () => {
    const b = new Browser(svc.publicUrl);
    const { html } = await startAuthorization(b, authorizeUrl(issuer, { client_id: client.client_id, resource: customerResource, code_challenge: pkce().challenge }));
    const res = await b.post(formAction(html), { csrf: csrfOf(html), email: ACME_CUSTOMER.login, password: ACME_CUSTOMER.password }, { origin: 'https://evil.example' });
    assert.equal(res.status, 403);
  });
  test('O8 login POST with the form token but without the browser cookie (forged cross-site) → 403', async () => {
    const b = new Browser(svc.publicUrl);
    const { html } = await startAuthorization(b, authorizeUrl(issuer, { client_id: client.client_id, resource: customerResource, code_challenge: pkce().challenge }));
    const attacker = new Browser(svc.publicUrl);
    const res = await attacker.post(formAction(html), { csrf: csrfOf(html), email: ACME_CUSTOMER.login, password: ACME_CUSTOMER.password });
    assert.equal(res.status, 403);
  });
  test('O8 consent POST without the token, or with a wrong one → 403, no code', async () => {
    const c = await registerClient(issuer, { client_name: 'CSRF app' });
    const b = new Browser(svc.publicUrl);
    const { html } = await startAuthorization(b, authorizeUrl(issuer, { client_id: c.client_id, resource: customerResource, code_challenge: pkce().challenge }));
    const toConsent = await login(b, html, ACME_CUSTOMER.login, ACME_CUSTOMER.password);
    const consentHtml = await (await b.fetch(toConsent.headers.get('location')!)).text();
    assert.equal((await b.post(formAction(consentHtml), { decision: 'allow' })).status, 403);
    assert.equal((await b.post(formAction(consentHtml), { decision: 'allow', csrf: 'cmcp_csrf_forged' })).status, 403);
    // ?allowed=true style consent is not a thing here (the library alone would take it as consent)
    assert.equal((await b.fetch(`${formAction(consentHtml)}?decision=allow`)).status, 404);
  });
});

describe('O9 framing', () => {
  test("O9 login and consent pages send frame-ancestors 'none' and X-Frame-Options DENY", async () => {
    const c = await registerClient(issuer, { client_name: 'Frame app' });
    const b = new Browser(svc.publicUrl);
    const { res, html } = await startAuthorization(b, authorizeUrl(issuer, { client_id: c.client_id, resource: customerResource, code_challenge: pkce().challenge }));
    const check = (r: Response) => {
      assert.match(r.headers.get('content-security-policy')!, /frame-ancestors 'none'/);
      assert.match(r.headers.get('content-security-policy')!, /default-src 'none'/);
      assert.equal(r.headers.get('x-frame-options'), 'DENY');
    };
    check(res);
    const toConsent = await login(b, html, ACME_CUSTOMER.login, ACME_CUSTOMER.password);
    const consent = await b.fetch(toConsent.headers.get('location')!);
    check(consent);
    const page = await consent.text();
    assert.match(page, /Frame app/);
    assert.match(page, /127\.0\.0\.1:8765/, 'redirect host shown');
    assert.match(page, /See your orders/, 'scopes in plain words');
  });
});

describe('O10 mix-up defence (RFC 9207)', () => {
  test('O10 metadata advertises iss support; issuer equals the metadata URL base (RFC 8414 §3.3)', async () => {
    const res = await fetch(`${svc.publicUrl}/.well-known/oauth-authorization-server/t/acme`);
    const m = (await res.json()) as Record<string, unknown>;
    assert.equal(m.issuer, issuer);
    assert.equal(m.authorization_response_iss_parameter_supported, true);
    assert.deepEqual(m.code_challenge_methods_supported, ['S256']);
    assert.deepEqual(m.response_types_supported, ['code']);
    assert.equal(m.client_id_metadata_document_supported, true);
    assert.ok(!(m.grant_types_supported as string[]).includes('password'));
    assert.ok(!(m.grant_types_supported as string[]).includes('implicit'));
    assert.equal(m.registration_endpoint, `${issuer}/register`);
    const globex = (await (await fetch(`${svc.publicUrl}/.well-known/oauth-authorization-server/t/globex`)).json()) as Record<string, unknown>;
    assert.equal(globex.issuer, `${svc.publicUrl}/t/globex`, 'each tenant its own issuer');
    assert.equal((await fetch(`${svc.publicUrl}/.well-known/oauth-authorization-server/t/nosuch`)).status, 404);
  });
  test('O10 success redirect carries iss and state, after 303s only', async () => {
    const { back } = await codeFor();
    assert.equal(back.searchParams.get('iss'), issuer);
    assert.equal(back.searchParams.get('state'), 's1');
  });
});

describe('O11 brute force', () => {
  test('O11 unknown account and wrong password fail identically; the account locks after 5 failures', async () => {
    const c = await registerClient(issuer, { client_name: 'Brute app' });
    const b = new Browser(svc.publicUrl);
    const { html } = await startAuthorization(b, authorizeUrl(issuer, { client_id: c.client_id, resource: customerResource, code_challenge: pkce().challenge }));
    const unknown = await login(b, html, 'nobody@acme.example', 'whatever-password');
    const unknownBody = await unknown.text();
    const wrong = await login(b, html, ACME_CUSTOMER_2.login, 'wrong-password');
    const wrongBody = await wrong.text();
    assert.equal(unknown.status, 401);
    assert.equal(wrong.status, 401);
    const message = (s: string) => /role="alert">([^<]*)</.exec(s)?.[1];
    assert.equal(message(unknownBody), message(wrongBody));
    for (let i = 0; i < 4; i++) assert.equal((await login(b, html, ACME_CUSTOMER_2.login, 'wrong-password')).status, 401);
    const locked = await login(b, html, ACME_CUSTOMER_2.login, ACME_CUSTOMER_2.password);
    assert.equal(locked.status, 429, 'correct password refused while locked');
    assert.ok(Number(locked.headers.get('retry-after')) > 0);
    const [audit] = await svc.database.owner`select count(*)::int as n from audit_events where event = 'auth.login_failed'`;
    assert.ok(audit!.n >= 6);
  });
  test('O11 wrong client secret → 401 invalid_client; repeated failures lock the client (429)', async () => {
    const [acme] = await svc.database.owner<{ id: string }[]>`select id from tenants where slug = 'acme'`;
    const victim = await createPreregisteredClient(svc.database.owner, acme!.id, { name: 'Victim job', audience: 'service', confidential: true, scope: 'ops:read' });
    const wrong = await tokenRequest(issuer, { grant_type: 'client_credentials', resource: internalResource }, { authorization: basic(victim.clientId, 'cmcp_secret_guess') });
    assert.equal(wrong.status, 401);
    assert.equal(wrong.body.error, 'invalid_client');
    assert.match(wrong.headers.get('www-authenticate') ?? '', /^Basic/);
    for (let i = 0; i < 9; i++) await tokenRequest(issuer, { grant_type: 'client_credentials', resource: internalResource }, { authorization: basic(victim.clientId, `guess-${i}`) });
    const locked = await tokenRequest(issuer, { grant_type: 'client_credentials', resource: internalResource }, { authorization: basic(victim.clientId, victim.secret!) });
    assert.equal(locked.status, 429);
  });
  test('O11 guessed codes and refresh tokens → invalid_grant, nothing issued', async () => {
    const r = await tokenRequest(issuer, { grant_type: 'authorization_code', code: 'cmcp_code_guess', code_verifier: pkce().verifier, redirect_uri: REDIRECT, client_id: client.client_id });
    assert.equal(r.body.error, 'invalid_grant');
    const f = await tokenRequest(issuer, { grant_type: 'refresh_token', refresh_token: 'cmcp_rt_guess', client_id: client.client_id });
    assert.equal(f.body.error, 'invalid_grant');
  });
});

describe('O12 audience binding (RFC 8707)', () => {
  test('O12 a token of tenant acme is unknown at globex; a customer token is bound to the customer endpoint only', async () => {
    const { code, verifier } = await codeFor();
    const t = await redeem(code, verifier);
    const here = await introspect(t.body.access_token as string);
    assert.equal(here.body.active, true);
    assert.equal(here.body.aud, customerResource);
    assert.notEqual(here.body.aud, internalResource);
    // globex's resource server (introspecting at its own issuer) does not know acme's token
    const [globex] = await svc.database.owner<{ id: string }[]>`select id from tenants where slug = 'globex'`;
    const grs = await createPreregisteredClient(svc.database.owner, globex!.id, { name: 'Globex RS', audience: 'resource_server', confidential: true });
    const there = await fetch(`${svc.publicUrl}/t/globex/introspect`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: basic(grs.clientId, grs.secret!) }, body: new URLSearchParams({ token: t.body.access_token as string }).toString() });
    assert.deepEqual(await there.json(), { active: false });
  });
  test("O12 authorize at globex for acme's endpoint → invalid_target; token request with another resource → invalid_target", async () => {
    const g = await registerClient(`${svc.publicUrl}/t/globex`);
    const res = await new Browser(svc.publicUrl).fetch(authorizeUrl(`${svc.publicUrl}/t/globex`, { client_id: g.client_id, resource: customerResource, code_challenge: pkce().challenge }));
    assert.equal(new URL(res.headers.get('location')!).searchParams.get('error'), 'invalid_target');
    const missing = await new Browser(svc.publicUrl).fetch(authorizeUrl(issuer, { client_id: client.client_id, code_challenge: pkce().challenge }));
    assertErrorRedirect(missing, 'invalid_target');
    const { code, verifier } = await codeFor();
    const r = await tokenRequest(issuer, { grant_type: 'authorization_code', code, code_verifier: verifier, redirect_uri: REDIRECT, client_id: client.client_id, resource: internalResource });
    assert.equal(r.status, 400);
    assert.equal(r.body.error, 'invalid_target');
  });
  test('O12 a dynamically registered client cannot obtain client_credentials; service tokens are internal-only', async () => {
    const pub = await tokenRequest(issuer, { grant_type: 'client_credentials', client_id: client.client_id, resource: internalResource });
    assert.ok(['invalid_client', 'invalid_request', 'unauthorized_client'].includes(pub.body.error as string));
    const wrongAud = await tokenRequest(issuer, { grant_type: 'client_credentials', resource: customerResource }, { authorization: basic(service.clientId, service.secret!) });
    assert.equal(wrongAud.body.error, 'invalid_target');
    const ok = await tokenRequest(issuer, { grant_type: 'client_credentials', resource: internalResource }, { authorization: basic(service.clientId, service.secret!) });
    assert.equal(ok.status, 200);
    assert.equal(ok.body.scope, 'ops:read stock:reorder');
    assert.equal(ok.body.refresh_token, undefined);
    const info = await introspect(ok.body.access_token as string);
    assert.equal(info.body.aud, internalResource);
    assert.equal(info.body.subject_kind, 'service');
  });
});

describe('M2 confused deputy: consent per client', () => {
  // Remembered consent applies only where the client's identity is assured (O14): here a public
  // client whose redirect is https, so that the control (A not asked again) can hold.
  const HTTPS_CB = 'https://app-a.example.com/cb';
  test('M2 consent given to client A is remembered for A only; client B is asked again', async () => {
    const a = await registerClient(issuer, { client_name: 'App A', redirect_uris: [HTTPS_CB] });
    const bClient = await registerClient(issuer, { client_name: 'App B', redirect_uris: [HTTPS_CB] });
    await codeFor(ACME_CUSTOMER, { scope: 'orders', redirect_uri: HTTPS_CB }, a); // consents
    // A again, same scope: straight back with a code after sign-in
    const browser = new Browser(svc.publicUrl);
    const { html } = await startAuthorization(browser, authorizeUrl(issuer, { client_id: a.client_id, redirect_uri: HTTPS_CB, resource: customerResource, scope: 'orders', code_challenge: pkce().challenge }));
    const again = await login(browser, html, ACME_CUSTOMER.login, ACME_CUSTOMER.password);
    assert.ok(again.headers.get('location')!.startsWith(HTTPS_CB), 'remembered for A');
    // B, same user, same scope: consent page again
    const b2 = new Browser(svc.publicUrl);
    const start = await startAuthorization(b2, authorizeUrl(issuer, { client_id: bClient.client_id, redirect_uri: HTTPS_CB, resource: customerResource, scope: 'orders', code_challenge: pkce().challenge }));
    const forB = await login(b2, start.html, ACME_CUSTOMER.login, ACME_CUSTOMER.password);
    assert.match(forB.headers.get('location')!, /\/interaction\//, 'B must ask for consent');
    const page = await (await b2.fetch(forB.headers.get('location')!)).text();
    assert.match(page, /App B/);
  });
});

describe('RFC 6749 / 7009 / 7662 / 7591 endpoint rules', () => {
  test('RFC 6749 §5.2 unsupported grant types (password, implicit) → unsupported_grant_type', async () => {
    for (const g of ['password', 'implicit', 'urn:ietf:params:oauth:grant-type:device_code']) {
      const r = await tokenRequest(issuer, { grant_type: g, client_id: client.client_id, username: 'a', password: 'b' });
      assert.equal(r.status, 400);
      assert.equal(r.body.error, 'unsupported_grant_type');
      assert.equal(r.headers.get('cache-control'), 'no-store');
    }
  });
  test('RFC 6749 §4.1.1 response_type token → unsupported_response_type (to the registered URI)', async () => {
    assertErrorRedirect(await new Browser(svc.publicUrl).fetch(authorizeUrl(issuer, { client_id: client.client_id, resource: customerResource, response_type: 'token', code_challenge: pkce().challenge })), 'unsupported_response_type');
  });
  test('RFC 7009 §2.2 revocation: unknown token → 200; refresh token revokes its family; access token takes effect at once', async () => {
    const unknown = await fetch(`${issuer}/revoke`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams({ token: 'nope', client_id: client.client_id }).toString() });
    assert.equal(unknown.status, 200);
    const { code, verifier } = await codeFor();
    const t = await redeem(code, verifier);
    const revoke = await fetch(`${issuer}/revoke`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams({ token: t.body.refresh_token as string, token_type_hint: 'refresh_token', client_id: client.client_id }).toString() });
    assert.equal(revoke.status, 200);
    assert.equal((await introspect(t.body.access_token as string)).body.active, false);
    const noClient = await fetch(`${issuer}/revoke`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams({ token: 'x' }).toString() });
    assert.equal(noClient.status, 401);
  });
  test('RFC 7662 §2.1 introspection requires an authenticated resource server: none or a plain client → 401 invalid_client', async () => {
    const none = await fetch(`${issuer}/introspect`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: 'token=x' });
    assert.equal(none.status, 401);
    assert.equal(((await none.json()) as { error: string }).error, 'invalid_client');
    const conf = await registerClient(issuer, { token_endpoint_auth_method: 'client_secret_basic' });
    const notRs = await fetch(`${issuer}/introspect`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: basic(conf.client_id, conf.client_secret!) }, body: 'token=x' });
    assert.equal(notRs.status, 401);
    const bad = await fetch(`${issuer}/introspect`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: basic(rs.clientId, 'wrong') }, body: 'token=x' });
    assert.equal(bad.status, 401);
    assert.deepEqual((await introspect('cmcp_at_unknown')).body, { active: false });
  });
  test('RFC 7591 §3.2.1 registration answers 201 with a client_id; public by default; secrets only for confidential', async () => {
    const res = await fetch(`${issuer}/register`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ redirect_uris: ['https://app.example.com/cb'], client_name: '<b>Evil</b>' }) });
    assert.equal(res.status, 201);
    assert.equal(res.headers.get('cache-control'), 'no-store');
    const body = (await res.json()) as Record<string, unknown>;
    assert.equal(body.token_endpoint_auth_method, 'none');
    assert.equal(body.client_secret, undefined);
    const bad = await fetch(`${issuer}/register`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ redirect_uris: ['https://a.example/cb'], grant_types: ['password'] }) });
    assert.equal(bad.status, 400);
    assert.equal(((await bad.json()) as { error: string }).error, 'invalid_client_metadata');
  });
  test('HTML escaping: a client name with markup is shown as text on the consent page', async () => {
    const res = await fetch(`${issuer}/register`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ redirect_uris: [REDIRECT], client_name: '<script>alert(1)</script>' }) });
    const c = (await res.json()) as RegisteredClient;
    const b = new Browser(svc.publicUrl);
    const { html } = await startAuthorization(b, authorizeUrl(issuer, { client_id: c.client_id, resource: customerResource, code_challenge: pkce().challenge }));
    assert.ok(!html.includes('<script>'));
    assert.ok(html.includes('&lt;script&gt;alert(1)&lt;/script&gt;'));
  });
});
