// L4: forwarded headers are believed only from proxies the operator configured (TRUST_PROXY); by
// default nobody is. A client rotating X-Forwarded-For does not escape the per-IP sign-in limit, is
// recorded under its own address, and X-Forwarded-Host/-Proto do not move the issuer.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { resourceFor } from '../../src/authz/resources.js';
import { DEFAULT_LIMITS } from '../../src/authz/throttle.js';
import { startTestService, type TestService } from '../support/service.js';
import { Browser, authorizeUrl, csrfOf, formAction, pkce, registerClient, startAuthorization } from './flow.js';

/** A sign-in form of acme's customer endpoint, and a way to post guesses at it from a given X-Forwarded-For. */
async function signInForm(svc: TestService) {
  const issuer = `${svc.publicUrl}/t/acme`;
  const client = await registerClient(issuer);
  const browser = new Browser(svc.publicUrl);
  const { html } = await startAuthorization(browser, authorizeUrl(issuer, {
    client_id: client.client_id, scope: 'orders', code_challenge: pkce().challenge, resource: resourceFor(svc.config, 'acme', 'customer'),
  }));
  const action = formAction(html);
  const csrf = csrfOf(html);
  let n = 0;
  return async (forwardedFor: string): Promise<number> => {
    // A new unknown account each time: only the per-IP limit counts, no account gets locked.
    const res = await browser.post(action, { csrf, email: `l4-probe-${n++}@example.invalid`, password: 'guess' }, { 'x-forwarded-for': forwardedFor });
    await res.text();
    return res.status;
  };
}

async function recordedAddresses(svc: TestService): Promise<string[]> {
  const rows = await svc.database.owner<{ ip: string }[]>`
    select detail->>'ip' as ip from audit_events where event = 'auth.login_failed' order by pos`;
  return [...new Set(rows.map((r) => r.ip))];
}

const LIMIT = DEFAULT_LIMITS.loginPerIpPerMinute;
const rotating = (i: number) => `203.0.113.${(i % 250) + 1}`;

describe('L4 default: no proxy is trusted', () => {
  test('L4 a rotating X-Forwarded-For does not escape the per-IP sign-in limit (at the limit: 401; one over: 429)', async () => {
    const svc = await startTestService();
    assert.equal(svc.config.trustProxy, false);
    const guess = await signInForm(svc);
    for (let i = 0; i < LIMIT; i++) assert.equal(await guess(rotating(i)), 401, `attempt ${i + 1} of ${LIMIT}`);
    assert.equal(await guess(rotating(LIMIT)), 429, 'one over the limit, from yet another claimed address');
    const addresses = await recordedAddresses(svc);
    assert.equal(addresses.length, 1, `recorded under one address: ${addresses.join(', ')}`);
    assert.match(addresses[0]!, /127\.0\.0\.1$/);
  });

  test('L4 X-Forwarded-Host and -Proto do not change the issuer or the resource metadata', async () => {
    const svc = await startTestService();
    const spoof = { 'x-forwarded-host': 'evil.example', 'x-forwarded-proto': 'https', 'x-forwarded-for': '198.51.100.7' };
    const as = (await (await fetch(`${svc.publicUrl}/.well-known/oauth-authorization-server/t/acme`, { headers: spoof })).json()) as Record<string, string>;
    assert.equal(as.issuer, `${svc.publicUrl}/t/acme`);
    assert.ok(Object.values(as).every((v) => !JSON.stringify(v).includes('evil.example')));
    const pr = await (await fetch(`${svc.publicUrl}/.well-known/oauth-protected-resource/t/acme/mcp`, { headers: spoof })).text();
    assert.ok(!pr.includes('evil.example') && pr.includes(svc.publicUrl), pr);
    const challenge = await fetch(`${svc.publicUrl}/t/acme/mcp`, { method: 'POST', headers: { ...spoof, 'content-type': 'application/json' }, body: '{}' });
    assert.ok(!(challenge.headers.get('www-authenticate') ?? '').includes('evil.example'));
  });
});

describe('L4 TRUST_PROXY=127.0.0.1: the configured proxy is believed', () => {
  test('L4 each forwarded client has its own per-IP budget, recorded under its own address', async () => {
    const svc = await startTestService({ TRUST_PROXY: '127.0.0.1' });
    assert.deepEqual(svc.config.trustProxy, ['127.0.0.1']);
    const guess = await signInForm(svc);
    for (let i = 0; i <= LIMIT; i++) assert.equal(await guess(rotating(i)), 401, `attempt ${i + 1}, each from its own client`);
    // One client behind the proxy: its own budget, at the limit and one over.
    for (let i = 0; i < LIMIT; i++) assert.equal(await guess('198.51.100.9'), 401, `attempt ${i + 1} of ${LIMIT} from one client`);
    assert.equal(await guess('198.51.100.9'), 429, 'one over the limit for that client');
    const addresses = await recordedAddresses(svc);
    assert.ok(addresses.includes('203.0.113.1') && addresses.includes('198.51.100.9'), addresses.join(', '));
    assert.ok(!addresses.some((a) => a.endsWith('127.0.0.1')), 'the proxy itself is not the client');
  });
});
