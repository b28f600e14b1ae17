// O14 (docs/ATTACK-CATALOGUE.md): loopback client impersonation, RFC 8252 §8.6. Remembered consent never lets a
// public client on a loopback redirect skip the consent page; clients whose identity is assured
// (a confidential client, a public client with an https redirect) keep skipping it. Own file, own
// service: every test here signs in, and the per-address sign-in limit is O11's subject.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { createPreregisteredClient } from '../../src/authz/clients.js';
import { resourceFor } from '../../src/authz/resources.js';
import { startTestService, type TestService } from '../support/service.js';
import { ACME_CUSTOMER, Browser, REDIRECT, authorizeUrl, login, obtainCode, pkce, registerClient, startAuthorization, type RegisteredClient } from './flow.js';

const svc: TestService = await startTestService();
const issuer = `${svc.publicUrl}/t/acme`;
const customerResource = resourceFor(svc.config, 'acme', 'customer');
const [acme] = await svc.database.owner<{ id: string }[]>`select id from tenants where slug = 'acme'`;

/** A full customer flow (consenting when asked) → the client redirect with its code. */
async function codeFor(user: { login: string; password: string }, extra: Record<string, string>, c: RegisteredClient) {
  const back = await obtainCode(new Browser(svc.publicUrl), authorizeUrl(issuer, { client_id: c.client_id, code_challenge: pkce().challenge, resource: customerResource, state: 's1', ...extra }), user);
  const code = back.searchParams.get('code');
  assert.ok(code, `no code in ${back}`);
  return { code, back };
}

describe('O14 loopback client impersonation (RFC 8252 §8.6)', () => {
  /** Signs in through `redirectUri`; says whether the consent page came (and never a code without it). */
  async function signInVia(c: { client_id: string }, redirectUri: string): Promise<'consent' | 'code'> {
    const b = new Browser(svc.publicUrl);
    const { html } = await startAuthorization(b, authorizeUrl(issuer, { client_id: c.client_id, redirect_uri: redirectUri, resource: customerResource, scope: 'orders', code_challenge: pkce().challenge }));
    const res = await login(b, html, ACME_CUSTOMER.login, ACME_CUSTOMER.password);
    assert.equal(res.status, 303);
    const location = res.headers.get('location')!;
    if (location.includes('/interaction/')) {
      assert.match(await (await b.fetch(location)).text(), /name="decision" value="allow"/);
      return 'consent';
    }
    assert.ok(new URL(location).searchParams.get('code'), location);
    return 'code';
  }

  test('O14 a public client on a loopback redirect: consent is asked again after the person consented, on another port and on the same one', async () => {
    const c = await registerClient(issuer, { client_name: 'Desktop app' }); // public, http://127.0.0.1:8765/callback
    const first = await codeFor(ACME_CUSTOMER, { scope: 'orders' }, c);
    assert.ok(first.code, 'consented once');
    const [consent] = await svc.database.owner`select 1 from oauth_consents where client_id = ${c.client_id}`;
    assert.ok(consent, 'the consent is on record');
    assert.equal(await signInVia(c, 'http://127.0.0.1:49152/callback'), 'consent', 'another local app on another port');
    assert.equal(await signInVia(c, REDIRECT), 'consent', 'the same port too: nothing proves it is the same app');
  });

  test('O14 control: a confidential pre-registered client with remembered consent still skips the page; so does a public client whose redirect is https', async () => {
    const conf = await createPreregisteredClient(svc.database.owner, acme!.id, { name: 'Partner app', audience: 'customer', confidential: true, redirectUris: [REDIRECT] });
    const confidential: RegisteredClient = { client_id: conf.clientId };
    await codeFor(ACME_CUSTOMER, { scope: 'orders' }, confidential);
    assert.equal(await signInVia(confidential, REDIRECT), 'code', 'confidential: the secret proves the client at the token endpoint');
    const web = await registerClient(issuer, { client_name: 'Web app', redirect_uris: ['https://web.example.com/cb'] });
    await codeFor(ACME_CUSTOMER, { scope: 'orders', redirect_uri: 'https://web.example.com/cb' }, web);
    assert.equal(await signInVia(web, 'https://web.example.com/cb'), 'code', 'public, https redirect: the host proves the client');
  });
});

