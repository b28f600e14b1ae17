// The console's "Sign-in" section (issue 13 §3): a tenant admin sets the customers' upstream
// provider; the secret is stored encrypted and never rendered back (I7); others may not see it;
// invalid settings are refused with the reason; remove works; forms from another origin are refused.
import assert from 'node:assert/strict';
import { before, test } from 'node:test';
import { DEMO_PASSWORDS } from '../../src/seed/fixtures.js';
import { startTestService, type TestService } from '../support/service.js';
import { PageBrowser } from '../support/page-browser.js';

let svc: TestService;
const SECRET = 'console-upstream-secret-7d2e9';

before(async () => {
  svc = await startTestService();
});


function csrfIn(body: string, section: string): string {
  const from = body.indexOf(`<section id="${section}">`);
  assert.ok(from >= 0, `section ${section}`);
  return /name="csrf" value="([^"]+)"/.exec(body.slice(from))![1]!;
}

async function signIn(email: string): Promise<PageBrowser> {
  const b = new PageBrowser(svc.internalUrl);
  const { body } = await b.get('/console/t/acme/login');
  const csrf = /name="csrf" value="([^"]+)"/.exec(body)![1]!;
  const { res } = await b.post('/console/t/acme/login', { csrf, email, password: DEMO_PASSWORDS.staff });
  assert.equal(res.status, 303);
  return b;
}

test('I7 console sign-in settings: a tenant admin sets and removes the upstream; the secret is never shown', async () => {
  const admin = await signIn('admin@acme.example');
  const page = await admin.get('/console/t/acme/settings/sign-in');
  assert.equal(page.res.status, 200);
  assert.match(page.body, /Customers: sign in with the shop/);
  assert.match(page.body, /\/t\/acme\/federation\/callback/);

  const form = { audience: 'customer', op: 'save', issuer: 'https://accounts.acme.example', display_name: 'Acme account', client_id: 'commerce', client_secret: SECRET,
    scopes: 'openid email', email_claim: 'email', allow_create: '1', passwords_enabled: '1' };
  const bad = await admin.post('/console/t/acme/settings/sign-in', { ...form, issuer: 'not a url', csrf: csrfIn(page.body, 'customer') });
  assert.equal(bad.res.status, 400);
  assert.match(bad.body, /issuer/);
  assert.doesNotMatch(bad.body, new RegExp(SECRET), 'the secret typed is not echoed back');

  const foreign = await admin.post('/console/t/acme/settings/sign-in', { ...form, csrf: csrfIn(bad.body, 'customer') }, 'http://evil.example');
  assert.equal(foreign.res.status, 403);

  const saved = await admin.post('/console/t/acme/settings/sign-in', { ...form, csrf: csrfIn(bad.body, 'customer') });
  assert.equal(saved.res.status, 303, saved.body);
  const after = await admin.get('/console/t/acme/settings/sign-in');
  assert.match(after.body, /client secret set \(encrypted, not shown\)/);
  assert.doesNotMatch(after.body, new RegExp(SECRET));
  const [row] = await svc.database.owner<{ client_secret_encrypted: string; allow_create: boolean }[]>`
    select client_secret_encrypted, allow_create from tenant_identity_providers p join tenants t on t.id = p.tenant_id where t.slug = 'acme' and audience = 'customer'`;
  assert.ok(row && !row.client_secret_encrypted.includes(SECRET) && row.allow_create);

  // Saving again without a secret keeps the stored one.
  const kept = await admin.post('/console/t/acme/settings/sign-in', { ...form, client_secret: '', csrf: csrfIn(after.body, 'customer') });
  assert.equal(kept.res.status, 303);
  const [again] = await svc.database.owner<{ client_secret_encrypted: string }[]>`
    select client_secret_encrypted from tenant_identity_providers p join tenants t on t.id = p.tenant_id where t.slug = 'acme' and audience = 'customer'`;
  assert.equal(again!.client_secret_encrypted, row.client_secret_encrypted);

  const warehouse = await signIn('warehouse@acme.example');
  assert.equal((await warehouse.get('/console/t/acme/settings/sign-in')).res.status, 403, 'not a tenant admin');

  const last = await admin.get('/console/t/acme/settings/sign-in');
  const removed = await admin.post('/console/t/acme/settings/sign-in', { audience: 'customer', op: 'remove', csrf: csrfIn(last.body, 'customer') });
  assert.equal(removed.res.status, 303);
  const [n] = await svc.database.owner<{ n: number }[]>`select count(*)::int as n from tenant_identity_providers`;
  assert.equal(n!.n, 0);
});
