// The pure federation checks: ID-JAG claims (I5) with their time bounds at the limit and one over,
// and what upstream claims mean (I3 verified email, I4 role mapping).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { checkIdJag, ID_JAG_CLOCK_SKEW_SECONDS, ID_JAG_MAX_LIFETIME_SECONDS } from '../../src/authz/checks/id-jag.js';
import { claimValues, mapStaffRole, upstreamEmail } from '../../src/authz/checks/upstream-claims.js';
import { InvalidGrant } from '../../src/authz/errors.js';

const now = 1_900_000_000;
const x = { issuer: 'https://idp.example', audience: 'https://as.example/t/acme', resource: 'https://int.example/t/acme/internal/mcp', clientId: 'c1', now };
const claims = (extra: Record<string, unknown> = {}) => ({ iss: x.issuer, sub: 'u1', aud: x.audience, resource: x.resource, client_id: 'c1', jti: 'j1', iat: now, exp: now + 300, ...extra });
const header = { typ: 'oauth-id-jag+jwt' };
const refused = (h: Record<string, unknown>, c: Record<string, unknown>) => assert.throws(() => checkIdJag(h, c, x), InvalidGrant);

test('I5 ID-JAG claims: each required claim and expectation', () => {
  assert.equal(checkIdJag(header, claims({ scope: 'ops:read ops:read' }), x).scope.join(' '), 'ops:read');
  assert.equal(checkIdJag({ typ: 'OAUTH-ID-JAG+JWT' }, claims(), x).sub, 'u1', 'typ compared case-insensitively (RFC 7515 §4.1.9)');
  assert.equal(checkIdJag(header, claims({ aud: [x.audience] }), x).sub, 'u1');
  refused({ typ: 'JWT' }, claims());
  refused({}, claims());
  refused(header, claims({ iss: 'https://other.example' }));
  refused(header, claims({ aud: 'https://as.example/t/globex' }));
  refused(header, claims({ aud: [x.audience, 'https://other.example'] }));
  refused(header, claims({ resource: 'https://int.example/t/acme/mcp' }));
  refused(header, claims({ client_id: 'c2' }));
  for (const k of ['sub', 'jti', 'exp', 'iat']) refused(header, claims({ [k]: undefined }));
  refused(header, claims({ scope: ['ops:read'] }));
});

test('I5 ID-JAG time bounds at the limit and one over', () => {
  // exp: accepted while exp > now - skew.
  assert.ok(checkIdJag(header, claims({ iat: now - 200, exp: now - ID_JAG_CLOCK_SKEW_SECONDS + 1 }), x));
  refused(header, claims({ iat: now - 200, exp: now - ID_JAG_CLOCK_SKEW_SECONDS }));
  // iat: up to skew in the future.
  assert.ok(checkIdJag(header, claims({ iat: now + ID_JAG_CLOCK_SKEW_SECONDS, exp: now + 300 }), x));
  refused(header, claims({ iat: now + ID_JAG_CLOCK_SKEW_SECONDS + 1, exp: now + 300 }));
  // lifetime: at most the maximum.
  assert.ok(checkIdJag(header, claims({ exp: now + ID_JAG_MAX_LIFETIME_SECONDS }), x));
  refused(header, claims({ exp: now + ID_JAG_MAX_LIFETIME_SECONDS + 1 }));
});

test('I3 an upstream email counts for linking only when email_verified is exactly true', () => {
  assert.deepEqual(upstreamEmail({ email: 'A@Example.test', email_verified: true }, 'email'), { email: 'a@example.test', verified: true });
  assert.equal(upstreamEmail({ email: 'a@example.test', email_verified: 'true' }, 'email').verified, false);
  assert.equal(upstreamEmail({ email: 'a@example.test' }, 'email').verified, false);
  assert.equal(upstreamEmail({ email: 'not an email', email_verified: true }, 'email').email, null);
  assert.equal(upstreamEmail({ mail: 'a@example.test', email_verified: true }, 'mail').email, 'a@example.test');
});

test('I4 role mapping: no mapping, no role; several matches, the role with most scopes; inherited keys ignored', () => {
  const mapping = { wh: 'warehouse_lead', scm: 'supply_chain_manager', admins: 'tenant_admin' } as const;
  assert.equal(mapStaffRole({ groups: ['wh'] }, 'groups', mapping), 'warehouse_lead');
  assert.equal(mapStaffRole({ groups: ['wh', 'scm'] }, 'groups', mapping), 'supply_chain_manager');
  assert.equal(mapStaffRole({ groups: 'wh admins' }, 'groups', mapping), 'tenant_admin');
  assert.equal(mapStaffRole({ groups: ['tenant_admin', 'constructor', '__proto__'] }, 'groups', mapping), null);
  assert.equal(mapStaffRole({ groups: ['wh'] }, null, mapping), null);
  assert.equal(mapStaffRole({}, 'groups', mapping), null);
  assert.deepEqual(claimValues({ roles: ['a', 3, 'b'] }, 'roles'), ['a', 'b']);
});

test('I7 sealed upstream secrets: open only with the key, for the same tenant and audience', async () => {
  const { openSecret, sealSecret } = await import('../../src/authz/federation/secret-box.js');
  const { randomBytes } = await import('node:crypto');
  const key = randomBytes(32);
  const sealed = sealSecret(key, 't1', 'customer', 's3cret-value');
  assert.ok(!sealed.includes('s3cret'));
  assert.notEqual(sealSecret(key, 't1', 'customer', 's3cret-value'), sealed, 'a fresh IV each time');
  assert.equal(openSecret(key, 't1', 'customer', sealed), 's3cret-value');
  assert.throws(() => openSecret(key, 't2', 'customer', sealed), 'copied to another tenant');
  assert.throws(() => openSecret(key, 't1', 'staff', sealed), 'copied to another audience');
  assert.throws(() => openSecret(randomBytes(32), 't1', 'customer', sealed), 'another key');
  const parts = sealed.split('.');
  parts[2] = Buffer.from('x' + Buffer.from(parts[2]!, 'base64url').toString('latin1').slice(1), 'latin1').toString('base64url');
  assert.throws(() => openSecret(key, 't1', 'customer', parts.join('.')), 'tampered');
});
