// F2 (docs/ATTACK-CATALOGUE.md): the pool exhausted by slow queries. A small pool (DATABASE_POOL_MAX=4: the
// admission gate in src/db/context.ts admits 4 transactions, at most 3 per tenant, and waits at
// most 2 s for a slot). Slow work is pg_sleep inside withContext on the service's own pool.
// Expected: a bounded wait, then 503 with Retry-After; other tenants and /healthz unaffected;
// statement and idle-in-transaction timeouts set, and a long statement cancelled.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { resourceFor } from '../../src/authz/resources.js';
import { DatabaseBusy, transactionsInFlight, withContext } from '../../src/db/context.js';
import { issueTestToken } from '../support/tokens.js';
import { startTestService, type TestService } from '../support/service.js';
import { assertNoStackTrace, get, mcp, sleep } from './support.js';

const POOL_MAX = 4;
const CAPACITY = 3; // 4 − a reserve of 1 for statements beside transactions (src/db/context.ts)
const TENANT_SHARE = 2; // ceil(0.6 × 3)
const WAIT_BOUND_MS = 2_000; // src/db/database.ts maxWaitMs

async function tenantId(s: TestService, slug: string): Promise<string> {
  const [row] = await s.database.owner<{ id: string }[]>`select id from tenants where slug = ${slug}`;
  return row!.id;
}

/** Holds one pool slot for `seconds` as `slug`'s work; resolves when it ends (any outcome). */
function hold(s: TestService, tenant: string, seconds: number): Promise<unknown> {
  return withContext(s.db.sql, { kind: 'auth', tenantId: tenant }, (tx) => tx`select pg_sleep(${seconds})`).catch((e: unknown) => e);
}

async function until(what: string, check: () => boolean, boundMs = 3_000): Promise<void> {
  const started = performance.now();
  while (!check()) {
    assert.ok(performance.now() - started < boundMs, `timed out waiting for ${what}`);
    await sleep(20);
  }
}

async function customerToken(s: TestService, slug: string, email: string): Promise<string> {
  const resource = resourceFor({ publicUrl: s.publicUrl, internalUrl: s.internalUrl }, slug, 'customer');
  return (await issueTestToken(s.database.app, { tenantSlug: slug, resource, subject: { kind: 'customer', email }, scope: 'orders catalog' })).token;
}

let service: Promise<TestService> | undefined;
const shared = () => (service ??= startTestService({ DATABASE_POOL_MAX: String(POOL_MAX) }));

test('F2: statement and idle-in-transaction timeouts are set on every pooled connection', async () => {
  const s = await shared();
  const acme = await tenantId(s, 'acme');
  const settings = await withContext(s.db.sql, { kind: 'auth', tenantId: acme }, async (tx) => {
    const [row] = await tx<{ statement: string; idle: string }[]>`
      select current_setting('statement_timeout') as statement, current_setting('idle_in_transaction_session_timeout') as idle`;
    return row!;
  });
  assert.equal(settings.statement, '5s');
  assert.equal(settings.idle, '10s');
});

test('F2: a statement longer than the statement timeout is cancelled, and its slot is given back', async () => {
  const s = await shared();
  const acme = await tenantId(s, 'acme');
  const started = performance.now();
  const error = await withContext(s.db.sql, { kind: 'auth', tenantId: acme }, (tx) => tx`select pg_sleep(30)`).then(() => null, (e: unknown) => e as { code?: string });
  const ms = performance.now() - started;
  assert.equal(error?.code, '57014', 'query_canceled by statement_timeout');
  assert.ok(ms >= 4_500 && ms < 8_000, `cancelled after ${Math.round(ms)} ms`);
  assert.equal(transactionsInFlight(s.db.sql), 0, 'the admission slot was released');
});

test('F2: one tenant\'s slow queries take only its share: its next transaction waits at most the bound, then is refused; another tenant\'s runs at once', async () => {
  const s = await shared();
  const [acme, globex] = [await tenantId(s, 'acme'), await tenantId(s, 'globex')];
  const held = Array.from({ length: TENANT_SHARE }, () => hold(s, acme, 2.5));
  try {
    await until('acme to hold its share', () => transactionsInFlight(s.db.sql) === TENANT_SHARE);
    const started = performance.now();
    const acmeNext = withContext(s.db.sql, { kind: 'auth', tenantId: acme }, (tx) => tx`select 1`).then(() => null, (e: unknown) => e);
    const other = performance.now();
    await withContext(s.db.sql, { kind: 'auth', tenantId: globex }, (tx) => tx`select 1`);
    assert.ok(performance.now() - other < 1_000, 'another tenant is served at once');
    const refused = await acmeNext;
    const waited = performance.now() - started;
    assert.ok(refused instanceof DatabaseBusy, `acme refused with DatabaseBusy, got ${String(refused)}`);
    assert.equal(refused.retryAfterSeconds, 1);
    assert.ok(waited >= WAIT_BOUND_MS - 100 && waited < WAIT_BOUND_MS + 700, `waited ${Math.round(waited)} ms (bound ${WAIT_BOUND_MS})`);
    const health = await get(`${s.publicUrl}/healthz`, 1_000);
    assert.equal(health.status, 200);
    assert.ok(health.ms < 500, `/healthz took ${Math.round(health.ms)} ms`);
  } finally {
    await Promise.all(held);
  }
});

test('F2: the whole pool busy → a bounded wait, then DatabaseBusy; /healthz answers at once', async () => {
  const s = await shared();
  const [acme, globex, canary] = [await tenantId(s, 'acme'), await tenantId(s, 'globex'), await tenantId(s, 'canary')];
  const held = [...Array.from({ length: TENANT_SHARE }, () => hold(s, acme, 3.5)), hold(s, globex, 3.5)];
  try {
    await until('the pool to fill', () => transactionsInFlight(s.db.sql) === CAPACITY);
    const started = performance.now();
    const [refused, health] = await Promise.all([
      withContext(s.db.sql, { kind: 'auth', tenantId: canary }, (tx) => tx`select 1`).then(() => null, (e: unknown) => e),
      get(`${s.publicUrl}/healthz`, 1_000),
    ]);
    const waited = performance.now() - started;
    assert.ok(refused instanceof DatabaseBusy, `canary refused with DatabaseBusy, got ${String(refused)}`);
    assert.ok(waited >= WAIT_BOUND_MS - 100 && waited < WAIT_BOUND_MS + 700, `waited ${Math.round(waited)} ms (bound ${WAIT_BOUND_MS})`);
    assert.equal(health.status, 200);
    assert.ok(health.ms < 500, `/healthz took ${Math.round(health.ms)} ms`);
  } finally {
    await Promise.all(held);
  }
});

test('F2 over HTTP: a tenant over its share gets 503 + Retry-After on the MCP endpoint after the bounded wait; another tenant\'s calls succeed at once', {
}, async () => {
  const s = await shared();
  const acme = await tenantId(s, 'acme');
  const [acmeToken, globexToken] = [await customerToken(s, 'acme', 'alice@acme.example'), await customerToken(s, 'globex', 'carol@globex.example')];
  const held = Array.from({ length: TENANT_SHARE }, () => hold(s, acme, 3));
  try {
    await until('acme to hold its share', () => transactionsInFlight(s.db.sql) === TENANT_SHARE);
    const [busy, other] = await Promise.all([
      mcp(`${s.publicUrl}/t/acme/mcp`, acmeToken, 'tools/call', { name: 'list_orders', arguments: {} }, 5_000),
      mcp(`${s.publicUrl}/t/globex/mcp`, globexToken, 'tools/call', { name: 'list_orders', arguments: {} }, 5_000),
    ]);
    assert.equal(other.status, 200, `globex: ${other.text.slice(0, 200)}`);
    assert.ok(other.ms < 1_000, `globex took ${Math.round(other.ms)} ms`);
    assert.equal(busy.status, 503, `acme over its share: ${busy.status} ${busy.text.slice(0, 200)}`);
    assert.ok(busy.ms >= WAIT_BOUND_MS - 100 && busy.ms < WAIT_BOUND_MS + 1_500, `refused after the bound, took ${Math.round(busy.ms)} ms`);
    assert.ok(Number(busy.retryAfter) >= 1, 'Retry-After');
    assertNoStackTrace(busy.text, 'busy answer');
  } finally {
    await Promise.all(held);
  }
});

test('F2 over HTTP: the OAuth endpoints answer a busy pool with 503 + Retry-After, not 500', {
}, async () => {
  const s = await shared();
  const acme = await tenantId(s, 'acme');
  const held = Array.from({ length: TENANT_SHARE }, () => hold(s, acme, 3));
  try {
    await until('acme to hold its share', () => transactionsInFlight(s.db.sql) === TENANT_SHARE);
    const res = await fetch(`${s.publicUrl}/t/acme/register`, {
      method: 'POST', headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ client_name: 'busy', redirect_uris: ['http://127.0.0.1:8765/callback'] }), signal: AbortSignal.timeout(5_000),
    });
    const text = await res.text();
    assert.equal(res.status, 503, text);
    assert.ok(Number(res.headers.get('retry-after')) >= 1, 'Retry-After');
    assert.equal((JSON.parse(text) as { error: string }).error, 'temporarily_unavailable');
  } finally {
    await Promise.all(held);
  }
});
