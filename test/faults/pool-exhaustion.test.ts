// F2 (docs/ATTACK-CATALOGUE.md): the pool exhausted by slow queries. A small pool (DATABASE_POOL_MAX=4: the
// admission gate in src/db/context.ts admits 4 transactions, at most 3 per tenant, and waits at
// most 2 s for a slot). Slow work is pg_sleep inside withContext on the service's own pool.
// Expected: a bounded wait, then 503 with Retry-After; other tenants and /healthz unaffected;
// statement and idle-in-transaction timeouts set, and a long statement cancelled.
// Nothing here is timed against the machine's speed: slow work holds its slots until the test
// releases them, so "bounded" means "refused while the slots are still held", and "at once" means
// "answered before the refused tenant's wait ran out". Lower bounds (it did wait) cannot fail on a
// slow machine.
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

/** Slow work that holds pool slots until `release()`: short sleeps in a loop, so no timeout ends it. */
function holdSlots(s: TestService, tenants: string[]): { release: () => Promise<unknown[]> } {
  let released = false;
  const held = tenants.map((tenant) =>
    withContext(s.db.sql, { kind: 'auth', tenantId: tenant }, async (tx) => {
      while (!released) await tx`select pg_sleep(0.05)`;
    }).catch((e: unknown) => e));
  return { release: () => { released = true; return Promise.all(held); } };
}

/** Settles with the order in which promises finished, so tests assert "before", not milliseconds. */
function finishOrder(named: Record<string, Promise<unknown>>): Promise<string[]> {
  const order: string[] = [];
  return Promise.all(Object.entries(named).map(([name, p]) => p.then(() => order.push(name), () => order.push(name)))).then(() => order);
}

async function until(what: string, check: () => boolean, boundMs = 30_000): Promise<void> {
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
  assert.ok(ms >= 4_500, `cancelled by the 5 s timeout, after ${Math.round(ms)} ms`);
  assert.equal(transactionsInFlight(s.db.sql), 0, 'the admission slot was released');
});

test('F2: one tenant\'s slow queries take only its share: its next transaction waits at most the bound, then is refused; another tenant\'s runs at once', async () => {
  const s = await shared();
  const [acme, globex] = [await tenantId(s, 'acme'), await tenantId(s, 'globex')];
  const slow = holdSlots(s, Array.from({ length: TENANT_SHARE }, () => acme));
  try {
    await until('acme to hold its share', () => transactionsInFlight(s.db.sql) === TENANT_SHARE);
    const started = performance.now();
    let waited = 0;
    const acmeNext = withContext(s.db.sql, { kind: 'auth', tenantId: acme }, (tx) => tx`select 1`)
      .then(() => null, (e: unknown) => e)
      .finally(() => { waited = performance.now() - started; });
    const other = withContext(s.db.sql, { kind: 'auth', tenantId: globex }, (tx) => tx`select 1 as ok`);
    const order = await finishOrder({ acme: acmeNext, globex: other });
    assert.deepEqual(order, ['globex', 'acme'], 'another tenant is served while acme waits for a slot');
    assert.equal(transactionsInFlight(s.db.sql), TENANT_SHARE, 'acme was refused while its share was still held: the wait is bounded');
    const refused = await acmeNext;
    assert.ok(refused instanceof DatabaseBusy, `acme refused with DatabaseBusy, got ${String(refused)}`);
    assert.equal(refused.retryAfterSeconds, 1);
    assert.ok(waited >= WAIT_BOUND_MS - 100, `waited ${Math.round(waited)} ms (bound ${WAIT_BOUND_MS}) before refusing`);
    const health = await get(`${s.publicUrl}/healthz`, 5_000);
    assert.equal(health.status, 200);
  } finally {
    await slow.release();
  }
});

test('F2: the whole pool busy → a bounded wait, then DatabaseBusy; /healthz answers at once', async () => {
  const s = await shared();
  const [acme, globex, canary] = [await tenantId(s, 'acme'), await tenantId(s, 'globex'), await tenantId(s, 'canary')];
  const slow = holdSlots(s, [...Array.from({ length: TENANT_SHARE }, () => acme), globex]);
  try {
    await until('the pool to fill', () => transactionsInFlight(s.db.sql) === CAPACITY);
    const started = performance.now();
    let waited = 0;
    const canaryNext = withContext(s.db.sql, { kind: 'auth', tenantId: canary }, (tx) => tx`select 1`)
      .then(() => null, (e: unknown) => e)
      .finally(() => { waited = performance.now() - started; });
    const health = get(`${s.publicUrl}/healthz`, 5_000);
    const order = await finishOrder({ canary: canaryNext, healthz: health });
    assert.deepEqual(order, ['healthz', 'canary'], '/healthz answers while the pool is full, before the bounded wait ends');
    assert.equal(transactionsInFlight(s.db.sql), CAPACITY, 'refused while the pool was still full: the wait is bounded');
    const refused = await canaryNext;
    assert.ok(refused instanceof DatabaseBusy, `canary refused with DatabaseBusy, got ${String(refused)}`);
    assert.ok(waited >= WAIT_BOUND_MS - 100, `waited ${Math.round(waited)} ms (bound ${WAIT_BOUND_MS}) before refusing`);
    assert.equal((await health).status, 200);
  } finally {
    await slow.release();
  }
});

test('F2 over HTTP: a tenant over its share gets 503 + Retry-After on the MCP endpoint after the bounded wait; another tenant\'s calls succeed at once', {
}, async () => {
  const s = await shared();
  const acme = await tenantId(s, 'acme');
  const [acmeToken, globexToken] = [await customerToken(s, 'acme', 'alice@acme.example'), await customerToken(s, 'globex', 'carol@globex.example')];
  const slow = holdSlots(s, Array.from({ length: TENANT_SHARE }, () => acme));
  try {
    await until('acme to hold its share', () => transactionsInFlight(s.db.sql) === TENANT_SHARE);
    const busyCall = mcp(`${s.publicUrl}/t/acme/mcp`, acmeToken, 'tools/call', { name: 'list_orders', arguments: {} }, 30_000);
    const otherCall = mcp(`${s.publicUrl}/t/globex/mcp`, globexToken, 'tools/call', { name: 'list_orders', arguments: {} }, 30_000);
    const order = await finishOrder({ acme: busyCall, globex: otherCall });
    const [busy, other] = [await busyCall, await otherCall];
    assert.equal(other.status, 200, `globex: ${other.text.slice(0, 200)}`);
    assert.deepEqual(order, ['globex', 'acme'], 'globex is answered while acme waits for a slot');
    assert.equal(busy.status, 503, `acme over its share: ${busy.status} ${busy.text.slice(0, 200)}`);
    assert.equal(transactionsInFlight(s.db.sql), TENANT_SHARE, 'acme was refused while its share was still held: the wait is bounded');
    assert.ok(busy.ms >= WAIT_BOUND_MS - 100, `refused after waiting the bound, took ${Math.round(busy.ms)} ms`);
    assert.ok(Number(busy.retryAfter) >= 1, 'Retry-After');
    assertNoStackTrace(busy.text, 'busy answer');
  } finally {
    await slow.release();
  }
});

test('F2 over HTTP: the OAuth endpoints answer a busy pool with 503 + Retry-After, not 500', {
}, async () => {
  const s = await shared();
  const acme = await tenantId(s, 'acme');
  const slow = holdSlots(s, Array.from({ length: TENANT_SHARE }, () => acme));
  try {
    await until('acme to hold its share', () => transactionsInFlight(s.db.sql) === TENANT_SHARE);
    const res = await fetch(`${s.publicUrl}/t/acme/register`, {
      method: 'POST', headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ client_name: 'busy', redirect_uris: ['http://127.0.0.1:8765/callback'] }), signal: AbortSignal.timeout(30_000),
    });
    const text = await res.text();
    assert.equal(res.status, 503, text);
    assert.ok(Number(res.headers.get('retry-after')) >= 1, 'Retry-After');
    assert.equal((JSON.parse(text) as { error: string }).error, 'temporarily_unavailable');
  } finally {
    await slow.release();
  }
});
