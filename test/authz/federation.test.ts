// Identity federation (issue 13) over real HTTP against a small loopback OpenID Connect provider
// (src/attack/fake-idp.ts) configured as a tenant's upstream: first sign-in creation, linking by
// sub and by verified email only, staff role mapping, lifecycle, ID tokens that must be refused
// (I1), the state and browser binding (I2), tenant isolation (I3), role mapping (I4). The browser
// test with the certified oidc-provider is federation-browser.test.ts; ID-JAG is federation-id-jag.test.ts.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { federationKey } from '../../src/authz/federation/secret-box.js';
import { removeProvider, saveProvider } from '../../src/authz/federation/upstream-config.js';
import { resourceFor } from '../../src/authz/resources.js';
import { FakeIdentityProvider, type IdTokenFault } from '../../attack/fake-idp.js';
import { pageText } from '../../attack/http.js';
import { runAdmin } from '../../src/cli/admin.js';
import { startTestService, type TestService } from '../support/service.js';
import { ACME_CUSTOMER, GLOBEX_CUSTOMER, Browser, REDIRECT, authorizeUrl, csrfOf, formAction, pkce, registerClient, tokenRequest } from './flow.js';

let svc: TestService;
let idp: FakeIdentityProvider;
let acmeId: string;
let globexId: string;
const UPSTREAM_CLIENT = 'commerce-acme';
const UPSTREAM_SECRET = 'upstream-secret-do-not-leak-4f1c';

async function tenantId(slug: string): Promise<string> {
  const [t] = await svc.database.owner<{ id: string }[]>`select id from tenants where slug = ${slug}`;
  return t!.id;
}

async function configure(slug: string, audience: 'customer' | 'staff', settings: Record<string, unknown> = {}): Promise<void> {
  await saveProvider(svc.database.owner, await federationKey(svc.config), await tenantId(slug), audience, {
    issuer: idp.issuer, displayName: 'Shop accounts', clientId: UPSTREAM_CLIENT, clientSecret: UPSTREAM_SECRET, ...settings,
  });
}

const clients = new Map<string, Promise<{ client_id: string }>>();
/** One registered client per tenant (registration is rate-limited per address). */
function clientFor(issuer: string): Promise<{ client_id: string }> {
  if (!clients.has(issuer)) clients.set(issuer, registerClient(issuer));
  return clients.get(issuer)!;
}

interface UpstreamRun { browser: Browser; verifier: string; clientId: string; final: Response; page: string }

/** authorize → login page → "Continue with" → upstream → our callback; returns the callback's answer. */
async function signInUpstream(slug: string, kind: 'customer' | 'internal', opts: { browser?: Browser; stopAtCallback?: boolean } = {}): Promise<UpstreamRun & { callbackUrl?: string }> {
  const issuer = `${svc.publicUrl}/t/${slug}`;
  const browser = opts.browser ?? new Browser(svc.publicUrl);
  const client = await clientFor(issuer);
  const { verifier, challenge } = pkce();
  const start = await browser.fetch(authorizeUrl(issuer, { client_id: client.client_id, code_challenge: challenge, resource: resourceFor(svc.config, slug, kind) }));
  assert.equal(start.status, 303);
  const loginPage = await browser.fetch(start.headers.get('location')!);
  const html = await loginPage.text();
  const link = /<a class="button" id="upstream" href="([^"]+)"/.exec(html);
  assert.ok(link, `login page offers the upstream: ${pageText(html).slice(0, 200)}`);
  const toUpstream = await browser.fetch(link[1]!.replace(/&amp;/g, '&'));
  assert.equal(toUpstream.status, 303, await toUpstream.clone().text());
  const atUpstream = await browser.fetch(toUpstream.headers.get('location')!);
  assert.equal(atUpstream.status, 303);
  const callbackUrl = atUpstream.headers.get('location')!;
  assert.ok(callbackUrl.startsWith(`${svc.publicUrl}/t/${slug}/federation/callback?`), callbackUrl);
  if (opts.stopAtCallback) return { browser, verifier, clientId: client.client_id, final: atUpstream, page: '', callbackUrl };
  const final = await browser.fetch(callbackUrl);
  return { browser, verifier, clientId: client.client_id, final, page: final.status === 303 ? '' : await final.text(), callbackUrl };
}

/** After a successful callback: consent, code, our token. */
async function finish(run: UpstreamRun, slug: string): Promise<{ access_token: string; scope: string }> {
  assert.equal(run.final.status, 303, run.page);
  let location = run.final.headers.get('location')!;
  if (location.includes('/interaction/')) {
    const consent = await run.browser.fetch(location);
    const html = await consent.text();
    assert.equal(consent.status, 200, html);
    const res = await run.browser.post(formAction(html), { csrf: csrfOf(html), decision: 'allow' });
    location = res.headers.get('location')!;
  }
  const back = new URL(location);
  const code = back.searchParams.get('code');
  assert.ok(code, `code in ${location}`);
  const t = await tokenRequest(`${svc.publicUrl}/t/${slug}`, { grant_type: 'authorization_code', code, code_verifier: run.verifier, redirect_uri: REDIRECT, client_id: run.clientId });
  assert.equal(t.status, 200, JSON.stringify(t.body));
  const body = t.body as { access_token: string; scope: string; id_token?: string };
  assert.equal(body.id_token, undefined, 'no upstream token reaches the client');
  assert.ok(!JSON.stringify(t.body).includes('upstream-'), 'the upstream access token stays with us');
  return body;
}

async function links(slug: string): Promise<{ subject: string; customer_id: string | null; staff_id: string | null }[]> {
  return svc.database.owner`select subject, customer_id, staff_id from upstream_identities where tenant_id = ${await tenantId(slug)} order by created_at`;
}

before(async () => {
  svc = await startTestService({ ALLOW_PRIVATE_NETWORK_FETCH: 'true' });
  idp = await FakeIdentityProvider.start();
  idp.addClient(UPSTREAM_CLIENT, UPSTREAM_SECRET);
  acmeId = await tenantId('acme');
  globexId = await tenantId('globex');
});
after(() => idp.close());

describe('customer sign-in through the tenant upstream', () => {
  test('first sign-in creates the customer when allowed; the next one links by sub even when the email changed', async () => {
    await configure('acme', 'customer', { allowCreate: true });
    idp.fault = 'none';
    idp.person = { sub: 'new-1', email: 'new.person@example.test', email_verified: true, name: 'New Person' };
    const first = await finish(await signInUpstream('acme', 'customer'), 'acme');
    assert.match(first.scope, /orders/);
    const [created] = await svc.database.owner<{ id: string; name: string; password_hash: string }[]>`
      select id, name, password_hash from customers where tenant_id = ${acmeId} and email = 'new.person@example.test'`;
    assert.ok(created, 'customer created on first sign-in');
    assert.equal(created.name, 'New Person');
    idp.person = { sub: 'new-1', email: 'renamed@example.test', email_verified: true };
    await finish(await signInUpstream('acme', 'customer'), 'acme');
    const mine = (await links('acme')).filter((l) => l.subject === 'new-1');
    assert.equal(mine.length, 1);
    assert.equal(mine[0]!.customer_id, created.id, 'linked by sub, not by the new email');
    const [count] = await svc.database.owner<{ n: number }[]>`select count(*)::int as n from customers where tenant_id = ${acmeId} and email = 'renamed@example.test'`;
    assert.equal(count!.n, 0);
  });

  test('I3 an existing customer is linked by email only when the upstream says it is verified', async () => {
    await configure('acme', 'customer', { allowCreate: true });
    idp.person = { sub: 'unverified-1', email: ACME_CUSTOMER.login, email_verified: false };
    const refused = await signInUpstream('acme', 'customer');
    assert.equal(refused.final.status, 403, 'unverified email: neither linked nor created');
    assert.equal((await links('acme')).filter((l) => l.subject === 'unverified-1').length, 0);
    idp.person = { sub: 'verified-1', email: ACME_CUSTOMER.login, email_verified: true };
    await finish(await signInUpstream('acme', 'customer'), 'acme');
    const [existing] = await svc.database.owner<{ id: string }[]>`select id from customers where tenant_id = ${acmeId} and email = ${ACME_CUSTOMER.login}`;
    assert.equal((await links('acme')).find((l) => l.subject === 'verified-1')?.customer_id, existing!.id);
  });

  test('I3 tenant A\'s IdP cannot sign anyone into tenant B', async () => {
    await configure('acme', 'customer', { allowCreate: true });
    await removeProvider(svc.database.owner, globexId, 'customer');
    // globex has no upstream: no button, and the start path is refused.
    const issuer = `${svc.publicUrl}/t/globex`;
    const browser = new Browser(svc.publicUrl);
    const client = await clientFor(issuer);
    const start = await browser.fetch(authorizeUrl(issuer, { client_id: client.client_id, code_challenge: pkce().challenge, resource: resourceFor(svc.config, 'globex', 'customer') }));
    const page = await browser.fetch(start.headers.get('location')!);
    assert.doesNotMatch(await page.text(), /Continue with/);
    assert.equal((await browser.fetch(`${start.headers.get('location')!}/upstream`)).status, 404);
    // An acme callback (state, code, binding cookie) replayed at globex's callback finds nothing there.
    idp.person = { sub: 'cross-1', email: GLOBEX_CUSTOMER.login, email_verified: true };
    const run = await signInUpstream('acme', 'customer', { stopAtCallback: true });
    const atGlobex = await run.browser.fetch(run.callbackUrl!.replace('/t/acme/', '/t/globex/'));
    assert.equal(atGlobex.status, 400);
    // And in acme, a verified email that belongs to a globex customer is a new acme customer, never the globex one.
    await finish(await signInUpstream('acme', 'customer'), 'acme');
    const [globexCustomer] = await svc.database.owner<{ id: string }[]>`select id from customers where tenant_id = ${globexId} and email = ${GLOBEX_CUSTOMER.login}`;
    const link = (await links('acme')).find((l) => l.subject === 'cross-1');
    assert.ok(link && link.customer_id !== globexCustomer!.id);
    assert.equal((await links('globex')).length, 0);
  });

  test('no account and no creation allowed: refused', async () => {
    await configure('acme', 'customer', { allowCreate: false });
    idp.person = { sub: 'stranger-1', email: 'stranger@example.test', email_verified: true };
    const run = await signInUpstream('acme', 'customer');
    assert.equal(run.final.status, 403);
    assert.match(pageText(run.page), /no account here/);
  });

  for (const fault of ['wrong-issuer', 'wrong-audience', 'wrong-nonce', 'expired', 'other-key'] as IdTokenFault[]) {
    test(`I1 an ID token with ${fault} is refused and signs nobody in`, async () => {
      await configure('acme', 'customer', { allowCreate: true });
      idp.person = { sub: `fault-${fault}`, email: `${fault}@example.test`, email_verified: true };
      idp.fault = fault;
      try {
        const run = await signInUpstream('acme', 'customer');
        assert.equal(run.final.status, 400, `${fault}: ${run.final.status}`);
        assert.match(pageText(run.page), /could not be verified/);
      } finally {
        idp.fault = 'none';
      }
      assert.equal((await links('acme')).filter((l) => l.subject === `fault-${fault}`).length, 0);
      const [n] = await svc.database.owner<{ n: number }[]>`select count(*)::int as n from customers where email = ${`${fault}@example.test`}`;
      assert.equal(n!.n, 0);
    });
  }

  test('I2 the callback in another browser, a replayed state and an unknown state are refused', async () => {
    await configure('acme', 'customer', { allowCreate: true });
    idp.person = { sub: 'csrf-1', email: 'csrf@example.test', email_verified: true };
    const run = await signInUpstream('acme', 'customer', { stopAtCallback: true });
    const otherBrowser = new Browser(svc.publicUrl);
    assert.equal((await otherBrowser.fetch(run.callbackUrl!)).status, 403, 'no binding cookie: login CSRF refused');
    assert.equal((await run.browser.fetch(run.callbackUrl!)).status, 400, 'the state was used up by the first attempt');
    const unknown = new URL(run.callbackUrl!);
    unknown.searchParams.set('state', 'not-a-state');
    assert.equal((await run.browser.fetch(unknown.toString())).status, 400);
    assert.equal((await links('acme')).filter((l) => l.subject === 'csrf-1').length, 0);
  });

  test('lifecycle: refused upstream (disabled there) and disabled here cannot sign in; tokens stop at once', async () => {
    await configure('acme', 'customer', { allowCreate: true });
    idp.person = { sub: 'life-1', email: 'life@example.test', email_verified: true };
    const token = await finish(await signInUpstream('acme', 'customer'), 'acme');
    const mcp = `${svc.publicUrl}/t/acme/mcp`;
    const call = () => fetch(mcp, { method: 'POST', headers: { authorization: `Bearer ${token.access_token}`, 'content-type': 'application/json', accept: 'application/json, text/event-stream', 'mcp-protocol-version': '2025-11-25' },
      body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/list', params: {} }) });
    assert.equal((await call()).status, 200);
    idp.refuse = 'access_denied';
    try {
      const run = await signInUpstream('acme', 'customer');
      assert.equal(run.final.status, 403, 'the upstream refused');
    } finally {
      idp.refuse = null;
    }
    await svc.database.owner`update customers set disabled_at = now() where tenant_id = ${acmeId} and email = 'life@example.test'`;
    assert.equal((await call()).status, 401, 'disabled locally: its token stops at once');
    const run = await signInUpstream('acme', 'customer');
    assert.equal(run.final.status, 403);
    assert.match(pageText(run.page), /disabled/);
  });

  test('passwords off: the login page goes straight to the upstream, and the password form is refused', async () => {
    await configure('acme', 'customer', { allowCreate: true, passwordsEnabled: false });
    try {
      const issuer = `${svc.publicUrl}/t/acme`;
      const browser = new Browser(svc.publicUrl);
      const client = await clientFor(issuer);
      const start = await browser.fetch(authorizeUrl(issuer, { client_id: client.client_id, code_challenge: pkce().challenge, resource: resourceFor(svc.config, 'acme', 'customer') }));
      const page = await browser.fetch(start.headers.get('location')!);
      assert.equal(page.status, 303);
      assert.match(page.headers.get('location')!, /\/upstream$/);
      const login = await browser.post(`${start.headers.get('location')!}/login`, { csrf: 'x', email: ACME_CUSTOMER.login, password: ACME_CUSTOMER.password });
      assert.equal(login.status, 403);
    } finally {
      await configure('acme', 'customer', { allowCreate: true });
    }
  });
});

describe('staff sign-in through the tenant upstream', () => {
  test('I4 role from the group mapping; no mapping, no access; a group removed upstream loses the role at next sign-in', async () => {
    await configure('acme', 'staff', { allowCreate: true, rolesClaim: 'groups', roleMapping: { 'wh-team': 'warehouse_lead', 'scm-team': 'supply_chain_manager' } });
    idp.person = { sub: 'staff-1', email: 'sso.staff@acme.example', email_verified: true, name: 'SSO Staff', groups: ['wh-team', 'unrelated'] };
    const token = await finish(await signInUpstream('acme', 'internal'), 'acme');
    assert.equal(token.scope, 'claims:manage deliveries:manage ops:read stock:reorder');
    const [staff] = await svc.database.owner<{ role: string; may_approve: boolean }[]>`select role::text as role, may_approve from staff where tenant_id = ${acmeId} and email = 'sso.staff@acme.example'`;
    assert.equal(staff!.role, 'warehouse_lead');
    assert.equal(staff!.may_approve, false);

    idp.person = { ...idp.person, groups: ['scm-team'] };
    const promoted = await finish(await signInUpstream('acme', 'internal'), 'acme');
    assert.match(promoted.scope, /prices:write/);

    idp.person = { ...idp.person, groups: ['unrelated'] };
    const refused = await signInUpstream('acme', 'internal');
    assert.equal(refused.final.status, 403);
    assert.match(pageText(refused.page), /no role here/);

    idp.person = { sub: 'staff-2', email: 'nogroups@acme.example', email_verified: true };
    assert.equal((await signInUpstream('acme', 'internal')).final.status, 403, 'no groups claim at all: no access');
    const [n] = await svc.database.owner<{ n: number }[]>`select count(*)::int as n from staff where email = 'nogroups@acme.example'`;
    assert.equal(n!.n, 0);
  });
});

describe('administration', () => {
  test('I7 idp set/show/remove: the client secret is stored encrypted and never shown', async () => {
    const out: string[] = [];
    const run = (...args: string[]) => runAdmin(svc.database.owner, args, (l) => out.push(l), svc.config);
    assert.equal(await run('idp', 'set', 'globex', 'staff', '--issuer', idp.issuer, '--client-id', 'x', '--roles-claim', 'groups', '--role', 'ops=warehouse_lead', '--name', 'Globex SSO'), 0, out.join('\n'));
    assert.equal(await run('idp', 'set', 'globex', 'staff', '--issuer', idp.issuer, '--role', 'ops=wizard').catch(() => 2), 2);
    await configure('globex', 'customer');
    out.length = 0;
    assert.equal(await run('idp', 'show', 'globex'), 0);
    const shown = out.join('\n');
    assert.match(shown, /client_secret\tset \(encrypted, not shown\)/);
    assert.match(shown, /federation\/callback/);
    assert.doesNotMatch(shown, new RegExp(UPSTREAM_SECRET));
    out.length = 0;
    assert.equal(await run('idp', 'show', 'globex', '--json'), 0);
    assert.doesNotMatch(out.join('\n'), new RegExp(UPSTREAM_SECRET));
    const [row] = await svc.database.owner<{ client_secret_encrypted: string }[]>`select client_secret_encrypted from tenant_identity_providers where tenant_id = ${globexId} and audience = 'customer'`;
    assert.ok(row!.client_secret_encrypted.startsWith('v1.') && !row!.client_secret_encrypted.includes(UPSTREAM_SECRET));
    assert.equal(await run('idp', 'remove', 'globex', 'staff'), 0);
    assert.equal(await run('idp', 'remove', 'globex', 'customer'), 0);
    assert.equal(await run('idp', 'remove', 'globex', 'customer').catch(() => 1), 1);
  });
});
