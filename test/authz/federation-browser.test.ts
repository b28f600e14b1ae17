// Sign-in through a tenant's upstream OpenID Connect provider, end to end in headless Chromium,
// with the certified oidc-provider (scripts/demo-idp.ts) as acme's upstream for customers: our
// login page → "Continue with" → the provider's login and consent → our callback → our consent →
// our code and token. The existing customer is linked by verified email; disabled upstream, the
// next sign-in fails there.
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { after, before, test } from 'node:test';
import { chromium, type Browser as Chromium } from 'playwright-core';
import { federationKey } from '../../src/authz/federation/secret-box.js';
import { saveProvider } from '../../src/authz/federation/upstream-config.js';
import { resourceFor } from '../../src/authz/resources.js';
import { startDemoIdp, type DemoIdp } from '../../scripts/demo-idp.js';
import { startTestService, type TestService } from '../support/service.js';
import { ACME_CUSTOMER, REDIRECT, authorizeUrl, pkce, registerClient, tokenRequest } from './flow.js';

const CHROMIUM = '/usr/bin/chromium';
const skip = !existsSync(CHROMIUM) && 'no /usr/bin/chromium';
let svc: TestService;
let idp: DemoIdp;
let browser: Chromium;

before(async () => {
  if (skip) return;
  svc = await startTestService({ ALLOW_PRIVATE_NETWORK_FETCH: 'true' });
  idp = await startDemoIdp({ publicUrl: svc.publicUrl });
  const [acme] = await svc.database.owner<{ id: string }[]>`select id from tenants where slug = 'acme'`;
  await saveProvider(svc.database.owner, await federationKey(svc.config), acme!.id, 'customer', {
    issuer: idp.issuer, clientId: idp.clientId, clientSecret: idp.clientSecret, displayName: 'Acme shop account', allowCreate: true,
  });
  browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'] });
});
after(async () => { await browser?.close(); await idp?.close(); });

async function signIn(login: string): Promise<{ url: string; text: string; verifier: string; clientId: string }> {
  const issuer = `${svc.publicUrl}/t/acme`;
  const client = await registerClient(issuer);
  const { verifier, challenge } = pkce();
  const context = await browser.newContext();
  const page = await context.newPage();
  // The client's redirect URI does not listen: answer it here and read the code from the URL.
  await page.route(`${new URL(REDIRECT).origin}/**`, (route) => route.fulfill({ status: 200, contentType: 'text/plain', body: 'client callback' }));
  await page.goto(authorizeUrl(issuer, { client_id: client.client_id, code_challenge: challenge, resource: resourceFor(svc.config, 'acme', 'customer') }));
  assert.match(await page.title(), /Sign in to/);
  await page.click('#upstream');
  // oidc-provider's development login: the login is the account id, any password.
  await page.waitForLoadState();
  if (!(await page.locator('input[name=login]').count())) throw new Error(`upstream page: ${page.url()} ${(await page.textContent('body'))?.slice(0, 400)}`);
  await page.fill('input[name=login]', login);
  await page.fill('input[name=password]', 'anything');
  await page.click('button[type=submit]');
  await page.waitForLoadState();
  if (await page.locator('button:has-text("Continue")').count()) {
    await page.click('button:has-text("Continue")');
    await page.waitForLoadState();
  }
  if (await page.locator('button[value=allow]').count()) {
    assert.match(await page.textContent('body') ?? '', /Allow/);
    await page.click('button[value=allow]');
    await page.waitForURL(`${new URL(REDIRECT).origin}/**`);
  }
  const result = { url: page.url(), text: (await page.textContent('body')) ?? '', verifier, clientId: client.client_id };
  await context.close();
  return result;
}

test('upstream sign-in in Chromium: linked by verified email, our consent, our own tokens only', { skip }, async () => {
  assert.equal(idp.people.get('alice')?.email, ACME_CUSTOMER.login);
  const run = await signIn('alice');
  const back = new URL(run.url);
  assert.equal(back.origin + back.pathname, REDIRECT, `ended at ${run.url}: ${run.text.slice(0, 300)}`);
  assert.equal(back.searchParams.get('iss'), `${svc.publicUrl}/t/acme`);
  const t = await tokenRequest(`${svc.publicUrl}/t/acme`, { grant_type: 'authorization_code', code: back.searchParams.get('code')!, code_verifier: run.verifier, redirect_uri: REDIRECT, client_id: run.clientId });
  assert.equal(t.status, 200, JSON.stringify(t.body));
  assert.equal(t.body.id_token, undefined);
  assert.match(String(t.body.access_token), /^cmcp_at_/, 'our token, not the upstream one');
  const [link] = await svc.database.owner<{ email: string }[]>`select c.email from upstream_identities u join customers c on c.tenant_id = u.tenant_id and c.id = u.customer_id where u.subject = 'alice'`;
  assert.equal(link?.email, ACME_CUSTOMER.login);
});

test('a person disabled upstream cannot sign in next time', { skip }, async () => {
  idp.disabled.add('newcomer');
  const run = await signIn('newcomer');
  assert.ok(!run.url.startsWith(new URL(REDIRECT).origin), `must not reach the client: ${run.url}`);
  const [n] = await svc.database.owner<{ n: number }[]>`select count(*)::int as n from customers where email = 'new.customer@acme.example'`;
  assert.equal(n!.n, 0);
  idp.disabled.delete('newcomer');
  const again = await signIn('newcomer');
  assert.ok(again.url.startsWith(new URL(REDIRECT).origin), `enabled again: ${again.url} ${again.text.slice(0, 200)}`);
});
