// L1: no secret in the service log. Every flow runs once against a service whose log is captured —
// sign-in (a wrong password, then the right one), consent, code exchange and a replayed code, MCP
// calls with the token (and a confirmed write's confirmation token), refresh and a reused refresh
// token, introspection with a client secret, revocation, a malformed body, the approval console's
// sign-in, an approval and sign-out — collecting every secret the flows send or receive. Then the
// log must hold none of them, and nothing shaped like one of our tokens.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createPreregisteredClient } from '../../src/authz/clients.js';
import { resourceFor } from '../../src/authz/resources.js';
import { DEMO_PASSWORDS } from '../../src/seed/fixtures.js';
import { first } from '../support/database.js';
import { startTestService } from '../support/service.js';
import { refundableOrder, request, staffOf } from '../actions/helpers.js';
import { post, toolCall } from '../servers/helpers.js';
import {
  ACME_CUSTOMER, Browser, REDIRECT, authorizeUrl, basic, csrfOf, formAction, login, pkce, registerClient, startAuthorization, tokenRequest,
} from '../authz/flow.js';

/** A browser that also remembers every cookie value it was ever given. */
class RecordingBrowser extends Browser {
  constructor(origin: string, readonly seen: Set<string>) {
    super(origin);
  }
  override async fetch(url: string, init: RequestInit = {}): Promise<Response> {
    const res = await super.fetch(url, init);
    for (const c of res.headers.getSetCookie()) {
      const value = /^[^=]+=([^;]*)/.exec(c)?.[1];
      if (value) this.seen.add(value);
    }
    return res;
  }
}

const OUR_TOKEN_SHAPE = /cmcp_(?:at|rt|code|secret|csrf|confirm)_[A-Za-z0-9_-]{16,}/;

test('L1 every flow runs, and the log holds no token, code, cookie, CSRF value, client secret or password', async () => {
  const lines: string[] = [];
  const svc = await startTestService({ LOG_LEVEL: 'trace' }, { logDestination: { write: (line: string) => void lines.push(line) } });
  const secrets = new Set<string>();
  const keep = (label: string, value: unknown): string => {
    assert.equal(typeof value, 'string', `${label} is a string`);
    assert.ok((value as string).length >= 8, `${label} is long enough to look for`);
    secrets.add(value as string);
    return value as string;
  };
  const issuer = `${svc.publicUrl}/t/acme`;
  const acme = first(await svc.database.owner<{ id: string }[]>`select id from tenants where slug = 'acme'`);

  // Registration; a resource server with a client secret (for introspection).
  const client = await registerClient(issuer);
  const rs = await createPreregisteredClient(svc.database.owner, acme.id, { name: 'RS', audience: 'resource_server', confidential: true });
  keep('client secret', rs.secret);

  // Authorization: login page (interaction CSRF), a wrong password, the right one, consent.
  const browser = new RecordingBrowser(svc.publicUrl, secrets);
  const verifier = pkce();
  keep('code verifier', verifier.verifier);
  const state = keep('state', `state-${verifier.challenge.slice(0, 20)}`);
  const resource = resourceFor(svc.config, 'acme', 'customer');
  const { html } = await startAuthorization(browser, authorizeUrl(issuer, {
    client_id: client.client_id, resource, scope: 'orders catalog cart', state, code_challenge: verifier.challenge,
  }));
  keep('login CSRF', csrfOf(html));
  const wrongPassword = keep('wrong password', `wrong-${verifier.verifier.slice(0, 16)}`);
  const refused = await login(browser, html, ACME_CUSTOMER.login, wrongPassword);
  assert.equal(refused.status, 401);
  const retry = await refused.text();
  keep('customer password', ACME_CUSTOMER.password);
  const afterLogin = await login(browser, retry, ACME_CUSTOMER.login, ACME_CUSTOMER.password);
  assert.equal(afterLogin.status, 303);
  const consentPage = await browser.fetch(afterLogin.headers.get('location')!);
  const consentHtml = await consentPage.text();
  keep('consent CSRF', csrfOf(consentHtml));
  const consented = await browser.post(formAction(consentHtml), { csrf: csrfOf(consentHtml), decision: 'allow' });
  assert.equal(consented.status, 303);
  const callback = new URL(consented.headers.get('location')!);
  assert.ok(callback.href.startsWith(REDIRECT));
  const code = keep('authorization code', callback.searchParams.get('code'));

  // Token, and the same code again (a replay: the family is revoked).
  const exchange = { grant_type: 'authorization_code', code, client_id: client.client_id, redirect_uri: REDIRECT, code_verifier: verifier.verifier, resource };
  const tokens = await tokenRequest(issuer, exchange);
  assert.equal(tokens.status, 200, JSON.stringify(tokens.body));
  const accessToken = keep('access token', tokens.body.access_token);
  const refreshToken = keep('refresh token', tokens.body.refresh_token);

  // MCP with the token: a read, a confirmed write (its confirmation token), a made-up token.
  const mcp = resourceFor(svc.config, 'acme', 'customer');
  const bearer = { Authorization: `Bearer ${accessToken}` };
  assert.equal((await post(mcp, toolCall('list_orders', {}), bearer)).status, 200);
  const sku = first(await svc.database.owner<{ sku: string }[]>`
    select p.sku from products p join stock_levels s on s.tenant_id = p.tenant_id and s.product_id = p.id
    where p.tenant_id = ${acme.id} and p.active and s.on_hand > 5 order by p.sku limit 1`).sku;
  assert.equal((await post(mcp, toolCall('add_to_cart', { sku, quantity: 1 }), bearer)).status, 200);
  const order = { idempotency_key: `log-check-${verifier.challenge.slice(0, 12)}` };
  const asked = await (await post(mcp, toolCall('place_order', order), bearer)).text();
  const confirmation = keep('confirmation token', /"confirmation_token\\?":\\?"(cmcp_confirm_[\w-]+)/.exec(asked)?.[1]);
  assert.equal((await post(mcp, toolCall('place_order', { ...order, confirmation_token: confirmation }), bearer)).status, 200);
  const madeUp = keep('made-up bearer token', `cmcp_at_${'Q'.repeat(43)}`);
  assert.equal((await post(mcp, toolCall('list_orders', {}), { Authorization: `Bearer ${madeUp}` })).status, 401);

  // Refresh (rotation), introspection with the client secret, revocation, a reused refresh token.
  const refreshed = await tokenRequest(issuer, { grant_type: 'refresh_token', refresh_token: refreshToken, client_id: client.client_id });
  assert.equal(refreshed.status, 200);
  const accessToken2 = keep('refreshed access token', refreshed.body.access_token);
  const refreshToken2 = keep('rotated refresh token', refreshed.body.refresh_token);
  const introspection = await fetch(`${issuer}/introspect`, {
    method: 'POST', body: new URLSearchParams({ token: accessToken2 }),
    headers: { authorization: basic(rs.clientId, rs.secret!), 'content-type': 'application/x-www-form-urlencoded' },
  });
  assert.equal(introspection.status, 200);
  assert.equal(((await introspection.json()) as { active: boolean }).active, true);
  const badSecret = keep('wrong client secret', `cmcp_secret_${'W'.repeat(43)}`);
  assert.equal((await fetch(`${issuer}/introspect`, {
    method: 'POST', body: new URLSearchParams({ token: accessToken2, client_id: rs.clientId, client_secret: badSecret }),
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
  })).status, 401);
  const revoked = await fetch(`${issuer}/revoke`, {
    method: 'POST', body: new URLSearchParams({ token: refreshToken2, client_id: client.client_id }),
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
  });
  assert.equal(revoked.status, 200);
  assert.equal((await tokenRequest(issuer, { grant_type: 'refresh_token', refresh_token: refreshToken, client_id: client.client_id })).status, 400);
  assert.equal((await tokenRequest(issuer, exchange)).status, 400, 'a replayed code is refused');
  // A body the parser cannot read, holding a secret: its error must not carry the body.
  const broken = keep('secret in a malformed body', `cmcp_rt_${'B'.repeat(43)}`);
  const malformed = await fetch(`${issuer}/register`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: `{"token":"${broken}",` });
  assert.equal(malformed.status, 400);
  // A parse error's message quotes the body's first ten characters: a password sent as the wrong type.
  const quoted = keep('password in a body that is not JSON', `pw${verifier.verifier.slice(0, 8)}`);
  for (const url of [`${issuer}/register`, `${svc.publicUrl}/t/acme/mcp`, `${svc.internalUrl}/console/t/acme/login`]) {
    const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', origin: new URL(url).origin }, body: quoted });
    assert.ok(res.status >= 400 && res.status < 500, `${url}: ${res.status}`);
  }

  // Console: sign-in (a wrong password, then the right one), an approval, sign-out.
  const returns = await staffOf(svc.database, 'acme', 'returns@acme.example');
  const refundable = await refundableOrder(svc.database, returns.tenantId, 30_000);
  const pending = await request(svc.database, returns, 'issue_refund', { order_number: refundable.number, amount_cents: 8_000, reason: 'log check' });
  assert.equal(pending.status, 'pending');
  const staff = new RecordingBrowser(svc.internalUrl, secrets);
  const loginPage = await (await staff.fetch('/console/t/acme/login')).text();
  keep('console login CSRF', csrfOf(loginPage));
  const wrongStaff = await staff.post('/console/t/acme/login', { csrf: csrfOf(loginPage), email: 'admin@acme.example', password: wrongPassword });
  assert.equal(wrongStaff.status, 401);
  const again = await wrongStaff.text();
  keep('staff password', DEMO_PASSWORDS.staff);
  const signedIn = await staff.post('/console/t/acme/login', { csrf: csrfOf(again), email: 'admin@acme.example', password: DEMO_PASSWORDS.staff });
  assert.equal(signedIn.status, 303);
  const list = await (await staff.fetch('/console/t/acme')).text();
  const section = list.slice(list.indexOf(`id="action-${pending.action_id}"`));
  const decisionCsrf = keep('decision CSRF', csrfOf(section));
  const decided = await staff.post(`/console/t/acme/actions/${pending.action_id}`, { csrf: decisionCsrf, decision: 'approve', reason: 'ok' });
  assert.equal(decided.status, 303);
  const after = await (await staff.fetch('/console/t/acme')).text();
  const logoutCsrf = /action="\/console\/t\/acme\/logout"[\s\S]*?name="csrf" value="([^"]+)"/.exec(after)?.[1];
  if (logoutCsrf) {
    keep('logout CSRF', logoutCsrf);
    assert.equal((await staff.post('/console/t/acme/logout', { csrf: logoutCsrf })).status, 303);
  }
  for (const value of staff.cookies.values()) secrets.add(value);

  // The log was captured (a request line for each flow, with its request id) ...
  const log = lines.join('');
  for (const path of ['/t/acme/authorize', '/t/acme/token', '/t/acme/introspect', '/t/acme/revoke', '/t/acme/mcp', '/console/t/acme/login', `/console/t/acme/actions/${pending.action_id}`]) {
    assert.ok(log.includes(`"${path}"`), `the log has a request line for ${path}`);
  }
  const requestId = decided.headers.get('x-request-id');
  assert.ok(requestId && log.includes(requestId), 'request lines carry the request id');
  // ... and holds none of the secrets.
  const found = [...secrets].filter((s) => s.length >= 8 && log.includes(s));
  assert.deepEqual(found, [], 'secrets found in the log');
  const shaped = OUR_TOKEN_SHAPE.exec(log);
  assert.equal(shaped, null, `a token-shaped string in the log: ${shaped?.[0]}`);
  assert.ok(secrets.size >= 20, `${secrets.size} secrets collected`);
});
