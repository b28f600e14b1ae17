// Property-based fuzzing of every OAuth endpoint's parameters (issue 7 part 3; docs/ATTACK-CATALOGUE.md A4, M7,
// O-rows; docs/DESIGN.md §7 "Bad input gets a clear error"). Arbitrary and mutated parameters at
// /authorize (query), /token (form), /register (JSON), /revoke and /introspect (form): never a 5xx,
// never a stack trace, a 4xx with an RFC error code (or the documented success shape), an answer
// within a bound, and on rejection not one row created or changed anywhere (oauth_clients included).
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { test } from 'node:test';
import fc from 'fast-check';
import { resourceFor } from '../../src/authz/resources.js';
import { startTestService, type TestService } from '../support/service.js';
import { assertNoSqlText, assertNoStackTrace, checkProperty, databaseFingerprint, hostileString, storable, type Fingerprint } from './support.js';

/** An answer later than this is a hang, not a slow machine. */
const ANSWER_BOUND_MS = 30_000;
const REDIRECT = 'http://127.0.0.1:8765/callback';

/** RFC 6749 §4.1.2.1/§5.2, RFC 7591 §3.2.2, RFC 7009 §2.2.1, RFC 8707 §2 — and our generic HTTP layer's codes. */
const OAUTH_ERRORS = new Set([
  'invalid_request', 'invalid_client', 'invalid_grant', 'unauthorized_client', 'unsupported_grant_type', 'unsupported_response_type',
  'invalid_scope', 'access_denied', 'invalid_target', 'invalid_redirect_uri', 'invalid_client_metadata', 'unsupported_token_type',
  'temporarily_unavailable',
]);

interface Env {
  service: TestService;
  fp: Fingerprint;
  issuer: string;
  clientId: string;
  resource: string;
}

/** Each request from its own address (this service trusts X-Forwarded-For from loopback, TRUST_PROXY): per-IP throttles are O11's and L4's tests, not this one's. */
function someIp(): string {
  const b = randomBytes(3);
  return `10.${b[0]}.${b[1]}.${b[2]}`;
}

interface Answer { status: number; text: string; location: string | null; json: Record<string, unknown> | null }

async function request(url: string, init: RequestInit, where: string): Promise<Answer> {
  const headers = new Headers(init.headers);
  headers.set('X-Forwarded-For', someIp());
  const started = performance.now();
  const res = await fetch(url, { ...init, headers, redirect: 'manual', signal: AbortSignal.timeout(ANSWER_BOUND_MS) });
  const text = await res.text();
  assert.ok(performance.now() - started < ANSWER_BOUND_MS, `${where}: slow answer`);
  assert.ok(res.status < 500, `${where}: HTTP ${res.status} ${text.slice(0, 400)}`);
  assertNoStackTrace(text + JSON.stringify([...res.headers]), where);
  assertNoSqlText(text, where);
  let json: Record<string, unknown> | null = null;
  if ((res.headers.get('content-type') ?? '').includes('json')) json = JSON.parse(text) as Record<string, unknown>;
  return { status: res.status, text, location: res.headers.get('location'), json };
}

/** A JSON error answer: 4xx and an RFC error code (never a free-form message). */
function assertOAuthError(a: Answer, where: string): void {
  assert.ok(a.status >= 400 && a.status < 500, `${where}: expected a 4xx, got ${a.status} ${a.text.slice(0, 300)}`);
  assert.ok(a.json, `${where}: error is not JSON: ${a.text.slice(0, 200)}`);
  assert.ok(OAUTH_ERRORS.has(String(a.json.error)), `${where}: not an OAuth error code: ${a.text.slice(0, 300)}`);
}

/** A parameter set: names from the endpoint's vocabulary (plus strangers), values good, hostile or repeated. */
function params(names: readonly string[], good: Record<string, fc.Arbitrary<string>>): fc.Arbitrary<[string, string][]> {
  const value = (name: string) => fc.oneof({ weight: 3, arbitrary: good[name] ?? hostileString }, { weight: 2, arbitrary: hostileString });
  const one = fc.oneof(
    { weight: 6, arbitrary: fc.constantFrom(...names).chain((n) => value(n).map((v): [string, string][] => [[n, v]])) },
    // RFC 6749 §3.1: a repeated parameter is an error, never "the first one wins".
    { weight: 1, arbitrary: fc.constantFrom(...names).chain((n) => fc.tuple(value(n), value(n)).map(([a, b]): [string, string][] => [[n, a], [n, b]])) },
    { weight: 1, arbitrary: fc.tuple(hostileString, hostileString).map((p): [string, string][] => [p]) },
  );
  return fc.array(one, { maxLength: 9 }).map((groups) => groups.flat().map(([k, v]) => [storable(k), storable(v)] as [string, string]));
}

function encode(pairs: [string, string][]): string {
  return pairs.map(([k, v]) => `${encodeURIComponent(k)}=${encodeURIComponent(v)}`).join('&');
}

async function setUp(): Promise<Env> {
  const service = await startTestService({ TRUST_PROXY: 'loopback', WEBHOOK_WORKER: 'false' }); // no background writes under the fingerprint
  const issuer = `${service.publicUrl}/t/acme`;
  const res = await fetch(`${issuer}/register`, {
    method: 'POST', headers: { 'content-type': 'application/json', 'x-forwarded-for': someIp() },
    body: JSON.stringify({ client_name: 'Fuzz client', redirect_uris: [REDIRECT] }),
  });
  assert.equal(res.status, 201, await res.clone().text());
  const { client_id: clientId } = (await res.json()) as { client_id: string };
  const fp = await databaseFingerprint(service.database);
  const resource = resourceFor({ publicUrl: service.publicUrl, internalUrl: service.internalUrl }, 'acme', 'customer');
  return { service, fp, issuer, clientId, resource };
}

let env: Promise<Env> | undefined;
const shared = () => (env ??= setUp());

test('authorize: arbitrary query parameters → error page or error redirect to the registered URI; no rows on rejection (O1, O3, O4)', async () => {
  const { fp, issuer, clientId, resource } = await shared();
  const challenge = randomBytes(32).toString('base64url');
  const good: Record<string, fc.Arbitrary<string>> = {
    client_id: fc.constantFrom(clientId, 'unknown-client', `${clientId} `),
    redirect_uri: fc.constantFrom(REDIRECT, `${REDIRECT}/`, REDIRECT.toUpperCase(), `${REDIRECT}?x=1`, 'http://127.0.0.1@evil.example/callback', 'https://evil.example/cb'),
    response_type: fc.constantFrom('code', 'token', 'code id_token', ''),
    code_challenge: fc.constantFrom(challenge, 'short', ''),
    code_challenge_method: fc.constantFrom('S256', 'plain', 's256'),
    resource: fc.constantFrom(resource, `${resource}/`, 'https://evil.example/mcp'),
    scope: fc.constantFrom('orders', 'orders returns catalog cart', 'admin', 'ops:read', 'openid', ''),
    state: fc.string({ maxLength: 40 }),
  };
  const names = Object.keys(good);
  const seen = { errorRedirect: 0, login: 0, page: 0 };
  // A valid request, then some parameters dropped or replaced and strangers added: this reaches the
  // checks after the client and redirect URI (PKCE, resource, scope) as well as the first ones.
  const valid: [string, string][] = [
    ['client_id', clientId], ['redirect_uri', REDIRECT], ['response_type', 'code'], ['code_challenge', challenge],
    ['code_challenge_method', 'S256'], ['resource', resource], ['scope', 'orders'], ['state', 'xyz'],
  ];
  const mutatedValid = fc.tuple(
    fc.subarray(names.filter((n) => n !== 'client_id' && n !== 'redirect_uri'), { maxLength: 3 }),
    fc.subarray(names.filter((n) => n !== 'client_id' && n !== 'redirect_uri'), { minLength: 1, maxLength: 3 })
      .chain((ns) => fc.tuple(...ns.map((n) => fc.oneof(good[n]!, hostileString).map((v): [string, string] => [n, v])))),
    params(names, good).map((p) => p.slice(0, 2)),
  ).map(([dropped, replaced, extra]) => [
    ...valid.filter(([n]) => !dropped.includes(n) && !replaced.some(([r]) => r === n)),
    ...replaced.map(([n, v]) => [n, storable(v)] as [string, string]),
    ...extra,
  ]);
  const query = fc.oneof({ weight: 1, arbitrary: params(names, good) }, { weight: 2, arbitrary: mutatedValid });
  await checkProperty('authorize', fc.asyncProperty(query, async (pairs) => {
    const url = `${issuer}/authorize?${encode(pairs)}`;
    const where = `authorize ${url.slice(issuer.length, issuer.length + 300)}`;
    const before = await fp.take();
    const a = await request(url, {}, where);
    if (a.status === 303 || a.status === 302) {
      const location = new URL(a.location!, issuer);
      if (location.origin + location.pathname === REDIRECT) {
        // O4/O10: only ever to the registered URI, with an error and the issuer.
        assert.ok(location.searchParams.get('error') && OAUTH_ERRORS.has(location.searchParams.get('error')!), `${where}: redirect without an error code`);
        assert.equal(location.searchParams.get('iss'), issuer, `${where}: redirect without iss`);
        assert.equal(location.searchParams.get('code'), null, `${where}: code issued`);
        await fp.assertSame(before, where);
        seen.errorRedirect++;
      } else {
        // Accepted: on to our own login page (an interaction row is the expected effect).
        assert.equal(location.origin, new URL(issuer).origin, `${where}: redirect off-site to ${a.location}`);
        seen.login++;
      }
      return;
    }
    // 431: Node's own header limit refuses a URL beyond 16 KiB before any work is done.
    assert.ok(a.status === 400 || a.status === 431, `${where}: ${a.status} ${a.text.slice(0, 200)}`);
    await fp.assertSame(before, where);
    seen.page++;
  }), 150);
  // The generator reaches past the first checks: redirected errors happen, not only error pages.
  assert.ok(seen.errorRedirect > 0 && seen.page > 0, `coverage ${JSON.stringify(seen)}`);
});

test('token: arbitrary form parameters and client credentials → 4xx with an OAuth error code, no rows (O2, O5, O6, O11)', async () => {
  const { fp, issuer, clientId, resource } = await shared();
  const good: Record<string, fc.Arbitrary<string>> = {
    grant_type: fc.constantFrom('authorization_code', 'refresh_token', 'client_credentials', 'password', 'implicit', 'urn:ietf:params:oauth:grant-type:device_code'),
    code: fc.constantFrom('cmcp_code_' + randomBytes(16).toString('base64url'), ''),
    code_verifier: fc.constantFrom(randomBytes(32).toString('base64url'), 'x'),
    redirect_uri: fc.constantFrom(REDIRECT, `${REDIRECT}/`),
    client_id: fc.constantFrom(clientId, 'unknown-client'),
    client_secret: fc.string({ maxLength: 40 }),
    refresh_token: fc.constantFrom('cmcp_rt_' + randomBytes(16).toString('base64url'), ''),
    scope: fc.constantFrom('orders', 'admin', 'ops:read payments:refund'),
    resource: fc.constantFrom(resource, 'https://evil.example/'),
  };
  const basic = fc.option(fc.oneof(
    fc.tuple(fc.constantFrom(clientId, 'unknown'), fc.string({ maxLength: 30 })).map(([u, p]) => `Basic ${Buffer.from(`${u}:${p}`).toString('base64')}`),
    hostileString.map((s) => `Basic ${storable(s).replace(/[^\x20-\x7e]/g, '')}`),
  ), { nil: undefined });
  await checkProperty('token', fc.asyncProperty(params(Object.keys(good), good), basic, async (pairs, authorization) => {
    const where = `token ${encode(pairs).slice(0, 300)}`;
    const before = await fp.take();
    const headers: Record<string, string> = { 'content-type': 'application/x-www-form-urlencoded' };
    if (authorization) headers.authorization = authorization;
    const a = await request(`${issuer}/token`, { method: 'POST', headers, body: encode(pairs) }, where);
    assertOAuthError(a, where);
    if (a.status === 401 && authorization) assert.match(String(a.text) + '', /invalid_client/, where);
    await fp.assertSame(before, where);
  }), 150);
});

test('register: mutated and arbitrary client metadata → 201 or 400 with an RFC 7591 code; oauth_clients unchanged on rejection (A4, M4)', async () => {
  const { fp, issuer } = await shared();
  const validBody = fc.record({
    client_name: fc.string({ minLength: 1, maxLength: 30 }),
    redirect_uris: fc.array(fc.constantFrom(REDIRECT, 'https://app.example/cb', 'http://localhost:9999/cb'), { minLength: 1, maxLength: 3 }),
  }, { requiredKeys: ['redirect_uris'] });
  const badRedirect = fc.constantFrom(
    'http://evil.example/cb', 'javascript:alert(1)', 'https://app.example/cb#frag', 'http://169.254.169.254/latest', 'file:///etc/passwd',
    'https://user:pass@app.example/cb', 'http://[::1', ' https://app.example/cb', 'https://app.example/c b', '',
  );
  const mutation = fc.oneof(
    fc.constant((b: Record<string, unknown>) => b),
    fc.tuple(fc.constantFrom('redirect_uris', 'client_name', 'grant_types', 'token_endpoint_auth_method', 'response_types', 'scope', 'client_uri', 'logo_uri'),
      fc.oneof(hostileString, fc.jsonValue({ maxDepth: 3 }))).map(([k, v]) => (b: Record<string, unknown>) => ({ ...b, [k]: v })),
    badRedirect.map((u) => (b: Record<string, unknown>) => ({ ...b, redirect_uris: [u] })),
    fc.constantFrom(['implicit'], ['password'], ['client_credentials'], [], 'authorization_code').map((g) => (b: Record<string, unknown>) => ({ ...b, grant_types: g })),
    fc.constantFrom('private_key_jwt', 'tls_client_auth', '', 'none ').map((m) => (b: Record<string, unknown>) => ({ ...b, token_endpoint_auth_method: m })),
    fc.array(fc.constant(REDIRECT), { minLength: 11, maxLength: 30 }).map((u) => (b: Record<string, unknown>) => ({ ...b, redirect_uris: u })),
    fc.dictionary(hostileString, fc.jsonValue({ maxDepth: 2 }), { maxKeys: 5 }).map((extra) => (b: Record<string, unknown>) => ({ ...extra, ...b })),
    fc.jsonValue({ maxDepth: 3 }).map((v) => () => v),
  );
  const rawBody = fc.oneof(
    { weight: 6, arbitrary: fc.tuple(validBody, mutation).map(([b, m]) => JSON.stringify(storable(m(b as Record<string, unknown>)))) },
    { weight: 1, arbitrary: fc.oneof(fc.string({ unit: 'binary', maxLength: 100 }), fc.constantFrom('{', '[]', 'null', '"x"', '{"redirect_uris":', `{"redirect_uris":["${REDIRECT}"],"client_name":"${'x'.repeat(9000)}"}`)) },
  );
  let registered = 0;
  const contentType = fc.constantFrom('application/json', 'application/json', 'application/json', 'text/plain', 'application/x-www-form-urlencoded');
  await checkProperty('register', fc.asyncProperty(rawBody, contentType, async (body, type) => {
    const where = `register (${type}) ${body.slice(0, 300)}`;
    const before = await fp.take();
    const a = await request(`${issuer}/register`, { method: 'POST', headers: { 'content-type': type }, body }, where);
    if (a.status === 201) {
      assert.equal(type, 'application/json', `${where}: registered from a ${type} body`);
      assert.ok(a.json && typeof a.json.client_id === 'string', where);
      for (const u of a.json.redirect_uris as string[]) assert.match(u, /^(https:\/\/|http:\/\/(127\.0\.0\.1|localhost|\[::1\])[:/])/, `${where}: registered ${u}`);
      registered++;
      return;
    }
    assertOAuthError(a, where);
    await fp.assertSame(before, where);
  }), 150);
  assert.ok(registered > 0, 'some generated registrations are valid (the accepting path is fuzzed too)');
});

test('revoke and introspect: arbitrary form parameters and credentials → RFC 7009/7662 answers or 4xx OAuth errors; nothing changes', async () => {
  const { fp, issuer, clientId } = await shared();
  const good: Record<string, fc.Arbitrary<string>> = {
    token: fc.constantFrom('cmcp_at_' + randomBytes(16).toString('base64url'), 'cmcp_rt_' + randomBytes(16).toString('base64url'), ''),
    token_type_hint: fc.constantFrom('access_token', 'refresh_token', 'id_token', ''),
    client_id: fc.constantFrom(clientId, 'unknown-client'),
    client_secret: fc.string({ maxLength: 30 }),
  };
  const endpoint = fc.constantFrom('revoke', 'introspect');
  await checkProperty('revoke/introspect', fc.asyncProperty(endpoint, params(Object.keys(good), good), async (name, pairs) => {
    const where = `${name} ${encode(pairs).slice(0, 300)}`;
    const before = await fp.take();
    const a = await request(`${issuer}/${name}`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: encode(pairs) }, where);
    if (a.status === 200) {
      // RFC 7009 §2.2: unknown tokens are "revoked" with 200; RFC 7662 §2.2: inactive is {"active": false}.
      if (name === 'introspect') assert.deepEqual(a.json, { active: false }, where);
    } else assertOAuthError(a, where);
    await fp.assertSame(before, where);
  }), 150);
});

test('every endpoint: oversized and malformed bodies → 4xx with an OAuth error code (M7)', async () => {
  const { fp, issuer } = await shared();
  const cases: { path: string; type: string; body: string }[] = [
    { path: 'token', type: 'application/x-www-form-urlencoded', body: `grant_type=authorization_code&code=${'a'.repeat(20_000)}` },
    { path: 'token', type: 'application/x-www-form-urlencoded', body: Array.from({ length: 50 }, (_, i) => `p${i}=1`).join('&') },
    { path: 'token', type: 'application/json', body: '{"grant_type":"authorization_code"}' },
    { path: 'register', type: 'application/json', body: JSON.stringify({ redirect_uris: [REDIRECT], client_name: 'x'.repeat(20_000) }) },
    { path: 'register', type: 'application/json', body: '{"redirect_uris": [' },
    { path: 'register', type: 'application/json', body: '['.repeat(5_000) },
    { path: 'revoke', type: 'application/x-www-form-urlencoded', body: `token=${'a'.repeat(20_000)}` },
    { path: 'introspect', type: 'application/x-www-form-urlencoded', body: Array.from({ length: 50 }, (_, i) => `p${i}=1`).join('&') },
  ];
  for (const c of cases) {
    const where = `${c.path} ${c.type} ${c.body.slice(0, 60)}…`;
    const before = await fp.take();
    const a = await request(`${issuer}/${c.path}`, { method: 'POST', headers: { 'content-type': c.type }, body: c.body }, where);
    assertOAuthError(a, where);
    await fp.assertSame(before, where);
  }
});

test('E1 every endpoint × every parameter: a NUL (or, in JSON, an unpaired surrogate) → 400 with an OAuth error code, never a 500, no rows', async () => {
  const { fp, issuer, clientId } = await shared();
  const vocabulary: Record<string, string[]> = {
    token: ['grant_type', 'code', 'code_verifier', 'redirect_uri', 'client_id', 'client_secret', 'refresh_token', 'scope', 'resource'],
    revoke: ['token', 'token_type_hint', 'client_id', 'client_secret'],
    introspect: ['token', 'token_type_hint', 'client_id', 'client_secret'],
    authorize: ['client_id', 'redirect_uri', 'response_type', 'code_challenge', 'code_challenge_method', 'resource', 'scope', 'state'],
    register: ['client_name', 'redirect_uris', 'scope', 'client_uri', 'logo_uri', 'software_id', 'software_version', 'token_endpoint_auth_method', 'grant_types'],
  };
  const defect = fc.constantFrom('\u0000', 'a\u0000', '\u0000b\u0000');
  const jsonDefect = fc.constantFrom('\\u0000', 'x\\ud800', '\\udfff', 'a\\u0000b');
  const endpoint = fc.constantFrom(...Object.keys(vocabulary));
  await checkProperty('E1 parameters', fc.asyncProperty(endpoint, fc.nat(), defect, jsonDefect, async (name, pick, nul, escaped) => {
    const param = vocabulary[name]![pick % vocabulary[name]!.length]!;
    const before = await fp.take();
    if (name === 'register') {
      const base: Record<string, unknown> = { client_name: 'E1', redirect_uris: [REDIRECT] };
      base[param] = param === 'redirect_uris' || param === 'grant_types' ? ['__E1__'] : '__E1__';
      const body = JSON.stringify(base).replace('"__E1__"', `"${escaped}"`);
      const where = `register ${body}`;
      const a = await request(`${issuer}/register`, { method: 'POST', headers: { 'content-type': 'application/json' }, body }, where);
      assertOAuthError(a, where);
      assert.equal(a.status, 400, where);
    } else if (name === 'authorize') {
      const pairs: [string, string][] = [['client_id', clientId], ['redirect_uri', REDIRECT], ['response_type', 'code'], ['code_challenge', randomBytes(32).toString('base64url')], ['code_challenge_method', 'S256']];
      const url = `${issuer}/authorize?${encode([...pairs.filter(([k]) => k !== param), [param, nul]])}`;
      const a = await request(url, {}, `authorize ${param}`);
      assert.equal(a.status, 400, `authorize ${param}: ${a.status}`);
      assert.equal(a.location, null, `authorize ${param}: no redirect`);
    } else {
      const pairs: [string, string][] = vocabulary[name]!.filter((k) => k !== param).slice(0, 3).map((k) => [k, 'x']);
      const body = encode([...pairs, [param, nul]]);
      const where = `${name} ${body}`;
      const a = await request(`${issuer}/${name}`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body }, where);
      assertOAuthError(a, where);
      assert.equal(a.status, 400, where);
    }
    await fp.assertSame(before, `${name} ${param}`);
  }), 80);
});
