// Enterprise-managed authorization (MCP ext-auth; RFC 7523 JWT bearer grant with an ID-JAG): a staff
// assistant's confidential client presents the ID-JAG its enterprise IdP issued for our issuer, and
// gets our access token for the tenant's internal endpoint. I5: forged, misdirected or stale
// assertions are refused; I6: a jti is accepted once. The IdP is src/attack/fake-idp.ts's key, with
// its JWKS given inline (and, in one test, by URI).
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { createPreregisteredClient } from '../../src/authz/clients.js';
import { federationKey } from '../../src/authz/federation/secret-box.js';
import { removeProvider, saveProvider } from '../../src/authz/federation/upstream-config.js';
import { JWT_BEARER } from '../../src/authz/grants/jwt-bearer.js';
import { resourceFor } from '../../src/authz/resources.js';
import { FakeIdentityProvider } from '../../attack/fake-idp.js';
import { startTestService, type TestService } from '../support/service.js';
import { basic, tokenRequest } from './flow.js';

let svc: TestService;
let idp: FakeIdentityProvider;
let globexId: string;
let assistant: { clientId: string; secret: string };
let otherClient: { clientId: string; secret: string };
const STAFF_EMAIL = 'returns@globex.example';

function issuer(slug = 'globex'): string {
  return `${svc.publicUrl}/t/${slug}`;
}

async function configureEnterprise(settings: Record<string, unknown> = {}): Promise<void> {
  await saveProvider(svc.database.owner, await federationKey(svc.config), globexId, 'enterprise', {
    issuer: idp.issuer, jwks: idp.jwks, allowedClientIds: [assistant.clientId], subjectClaim: 'email', ...settings,
  });
}

function goodClaims(extra: Record<string, unknown> = {}): Record<string, unknown> {
  return { sub: 'enterprise-user-7', email: STAFF_EMAIL, aud: issuer(), resource: resourceFor(svc.config, 'globex', 'internal'), client_id: assistant.clientId, scope: 'ops:read payments:refund', ...extra };
}

function present(assertion: string, client = assistant, form: Record<string, string> = {}, slug = 'globex') {
  return tokenRequest(issuer(slug), { grant_type: JWT_BEARER, assertion, ...form }, { authorization: basic(client.clientId, client.secret) });
}

before(async () => {
  svc = await startTestService({ ALLOW_PRIVATE_NETWORK_FETCH: 'true' });
  idp = await FakeIdentityProvider.start();
  const [t] = await svc.database.owner<{ id: string }[]>`select id from tenants where slug = 'globex'`;
  globexId = t!.id;
  const made = await createPreregisteredClient(svc.database.owner, globexId, { name: 'Staff assistant', audience: 'staff', confidential: true, jwtBearer: true, redirectUris: ['https://assistant.example/cb'] });
  assistant = { clientId: made.clientId, secret: made.secret! };
  const other = await createPreregisteredClient(svc.database.owner, globexId, { name: 'Other assistant', audience: 'staff', confidential: true, jwtBearer: true, redirectUris: ['https://other.example/cb'] });
  otherClient = { clientId: other.clientId, secret: other.secret! };
  const [staff] = await svc.database.owner<{ n: number }[]>`select count(*)::int as n from staff where tenant_id = ${globexId} and email = ${STAFF_EMAIL}`;
  assert.equal(staff!.n, 1, `fixture staff ${STAFF_EMAIL}`);
});
after(() => idp.close());

describe('ID-JAG (JWT bearer grant)', () => {
  test('the metadata advertises the jwt-bearer grant', async () => {
    const meta = await (await fetch(`${svc.publicUrl}/.well-known/oauth-authorization-server/t/globex`)).json() as { grant_types_supported: string[] };
    assert.ok(meta.grant_types_supported.includes(JWT_BEARER));
  });

  test('an ID-JAG from the configured IdP gets an access token for the internal endpoint, scope ∩ role', async () => {
    await configureEnterprise();
    const t = await present(await idp.signIdJag(goodClaims()));
    assert.equal(t.status, 200, JSON.stringify(t.body));
    assert.equal(t.body.token_type, 'Bearer');
    assert.equal(t.body.refresh_token, undefined);
    assert.equal(t.body.scope, 'ops:read payments:refund');
    const answer = await fetch(`${svc.internalUrl}/t/globex/internal/mcp`, { method: 'POST',
      headers: { authorization: `Bearer ${t.body.access_token as string}`, 'content-type': 'application/json', accept: 'application/json, text/event-stream', 'mcp-protocol-version': '2025-11-25' },
      body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/list', params: {} }) });
    assert.equal(answer.status, 200, 'the token works at the internal endpoint');
    const customer = await fetch(`${svc.publicUrl}/t/globex/mcp`, { method: 'POST',
      headers: { authorization: `Bearer ${t.body.access_token as string}`, 'content-type': 'application/json', accept: 'application/json, text/event-stream', 'mcp-protocol-version': '2025-11-25' },
      body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/list', params: {} }) });
    assert.equal(customer.status, 401, 'and nowhere else');
    // A scope the role lacks is cut; a request beyond the ID-JAG's scope is cut too.
    const narrowed = await present(await idp.signIdJag(goodClaims({ scope: 'ops:read prices:write' })));
    assert.equal(narrowed.body.scope, 'ops:read');
    const asked = await present(await idp.signIdJag(goodClaims()), assistant, { scope: 'payments:refund approvals' });
    assert.equal(asked.body.scope, 'payments:refund');
    const nothing = await present(await idp.signIdJag(goodClaims({ scope: 'prices:write' })));
    assert.equal(nothing.body.error, 'invalid_scope');
  });

  test('keys by JWKS URI work the same', async () => {
    await configureEnterprise({ jwks: undefined, jwksUri: `${idp.issuer}/jwks` });
    const t = await present(await idp.signIdJag(goodClaims()));
    assert.equal(t.status, 200, JSON.stringify(t.body));
    await configureEnterprise();
  });

  const refusals: [string, () => Promise<string>, string?][] = [
    ['I5 forged signature (another key, same kid)', () => idp.signIdJag(goodClaims(), { forged: true })],
    ['I5 wrong audience (another tenant\'s issuer)', () => idp.signIdJag(goodClaims({ aud: issuer('acme') }))],
    ['I5 wrong resource (the customer endpoint)', () => idp.signIdJag(goodClaims({ resource: resourceFor(svc.config, 'globex', 'customer') }))],
    ['I5 client_id of another client', () => idp.signIdJag(goodClaims({ client_id: otherClient.clientId }))],
    ['I5 wrong typ (a plain JWT)', () => idp.signIdJag(goodClaims(), { typ: 'JWT' })],
    ['I5 expired', () => idp.signIdJag(goodClaims({ iat: Math.floor(Date.now() / 1000) - 900, exp: Math.floor(Date.now() / 1000) - 600 }))],
    ['I5 lifetime too long', () => idp.signIdJag(goodClaims(), { lifetimeSeconds: 24 * 3600 })],
    ['I5 unknown issuer', () => idp.signIdJag(goodClaims({ iss: 'https://stranger.example' }))],
    ['I5 no staff member for the subject', () => idp.signIdJag(goodClaims({ email: 'nobody@globex.example' }))],
  ];
  for (const [name, make] of refusals) {
    test(`${name}: invalid_grant`, async () => {
      await configureEnterprise();
      const t = await present(await make());
      assert.equal(t.status, 400, JSON.stringify(t.body));
      assert.equal(t.body.error, 'invalid_grant');
    });
  }

  test('I5 a tenant without an enterprise IdP refuses every ID-JAG', async () => {
    await removeProvider(svc.database.owner, globexId, 'enterprise');
    const t = await present(await idp.signIdJag(goodClaims()));
    assert.equal(t.body.error, 'invalid_grant');
    await configureEnterprise();
  });

  test('I5 a client not allowed for the IdP, a client without the grant, and no client authentication are refused', async () => {
    await configureEnterprise();
    const notAllowed = await present(await idp.signIdJag(goodClaims({ client_id: otherClient.clientId })), otherClient);
    assert.equal(notAllowed.body.error, 'invalid_grant');
    const plain = await createPreregisteredClient(svc.database.owner, globexId, { name: 'No grant', audience: 'staff', confidential: true, redirectUris: ['https://x.example/cb'] });
    const noGrant = await present(await idp.signIdJag(goodClaims({ client_id: plain.clientId })), { clientId: plain.clientId, secret: plain.secret! });
    assert.equal(noGrant.body.error, 'unauthorized_client');
    const anonymous = await tokenRequest(issuer(), { grant_type: JWT_BEARER, assertion: await idp.signIdJag(goodClaims()), client_id: assistant.clientId });
    assert.equal(anonymous.status, 401);
    assert.equal(anonymous.body.error, 'invalid_client');
  });

  test('I6 a replayed jti is refused', async () => {
    await configureEnterprise();
    const assertion = await idp.signIdJag(goodClaims());
    assert.equal((await present(assertion)).status, 200);
    const again = await present(assertion);
    assert.equal(again.status, 400);
    assert.equal(again.body.error, 'invalid_grant');
  });

  test('a staff member disabled here gets no token, and their ID-JAG tokens stop at once', async () => {
    await configureEnterprise();
    const t = await present(await idp.signIdJag(goodClaims()));
    assert.equal(t.status, 200);
    await svc.database.owner`update staff set disabled_at = now() where tenant_id = ${globexId} and email = ${STAFF_EMAIL}`;
    try {
      const answer = await fetch(`${svc.internalUrl}/t/globex/internal/mcp`, { method: 'POST',
        headers: { authorization: `Bearer ${t.body.access_token as string}`, 'content-type': 'application/json', accept: 'application/json, text/event-stream', 'mcp-protocol-version': '2025-11-25' },
        body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/list', params: {} }) });
      assert.equal(answer.status, 401);
      assert.equal((await present(await idp.signIdJag(goodClaims()))).body.error, 'invalid_grant');
    } finally {
      await svc.database.owner`update staff set disabled_at = null where tenant_id = ${globexId} and email = ${STAFF_EMAIL}`;
    }
  });
});
