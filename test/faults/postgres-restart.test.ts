// F1 (docs/ATTACK-CATALOGUE.md; docs/DESIGN.md §7 "Nothing lost"): PostgreSQL restarted under load. The service runs
// on an embedded PostgreSQL of its own (temporary DATA_DIR, free port), so stopping it touches no
// other test. Eight clients drive a steady, bounded load — readers on list_orders/get_order/
// search_products, writers placing orders through the confirmed, idempotent place_order — while
// PostgreSQL is stopped and started again on the same data folder. The phases are counted, not
// timed: the load runs until it has the samples each phase needs (successes before the stop,
// failures while down, successes and orders after the restart), each within a generous bound, so
// a busy machine makes the test slower, never red.
// Expected: no crash and no hang (every request answers within a bound); while it is down, errors
// are 503 or JSON-RPC errors without stack traces; the service recovers by itself; and no action is
// half applied: every idempotency key with a result has exactly one order, with its lines, its
// payment and its stock reservation, and nothing else was ordered.
import { GENEROUS_BUDGETS } from '../support/service.js';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import postgres from 'postgres';
import { resourceFor } from '../../src/authz/resources.js';
import { loadConfig } from '../../src/config.js';
import { startEmbeddedPostgres, type EmbeddedDatabase } from '../../src/db/embedded.js';
import { createLogger } from '../../src/log.js';
import { sealAudit } from '../../src/audit/sealer.js';
import { verifyAuditChain } from '../../src/audit/verify.js';
import { startService, type RunningService } from '../../src/service.js';
import { issueTestToken } from '../support/tokens.js';
import { assertNoStackTrace, freePort, get, mcp, sleep, type CallOutcome } from './support.js';

const READERS = 4;
const WRITERS = 4;
/** Successful calls wanted before the stop and after the restart; failed calls while it is down. */
const PHASE_SAMPLES = 40;
const DOWN_SAMPLES = 8;
/** PostgreSQL stays down at least this long, so writers meet it mid-flight. */
const DOWN_MS = 2_000;
/** A phase that has not got its samples by then is a failure of the service, not of the machine. */
const PHASE_BOUND_MS = 60_000;
/** No request may take longer (statement_timeout 5 s + connect_timeout 5 s, and a generous margin for a busy machine): past it, a hang. */
const REQUEST_BOUND_MS = 30_000;
const RECOVERY_BOUND_MS = 15_000;
/** The load is bounded in count as well as in time. */
const MAX_REQUESTS = 20_000;

interface Sample { at: number; what: string; o: CallOutcome }

/** A failed call: not a 200 with a result (a tool's own isError is an answer, not a failure). */
function failed(o: CallOutcome): boolean {
  return o.status !== 200 || !o.rpc?.result;
}

test('F1: PostgreSQL restarted under load: no crash, no hang, clean errors, recovery on its own, nothing half applied', {
  timeout: 300_000,
}, async () => {
  const dataDir = await mkdtemp(join(tmpdir(), 'commerce-mcp-f1-'));
  const pgPort = await freePort();
  const config = loadConfig({
    DATA_DIR: dataDir, EMBEDDED_PG_PORT: String(pgPort), HOST: '127.0.0.1', PORT: '0', INTERNAL_HOST: '127.0.0.1', INTERNAL_PORT: '0',
    LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'silent',
    ...GENEROUS_BUDGETS, // load, not budgets, is under test here
  });
  const log = createLogger(config);
  let restarted: EmbeddedDatabase | undefined;
  let service: RunningService | undefined;
  let owner: postgres.Sql | undefined;
  after(async () => {
    await service?.close().catch(() => {});
    await owner?.end({ timeout: 1 }).catch(() => {});
    await restarted?.stop().catch(() => {});
    await rm(dataDir, { recursive: true, force: true });
  });
  service = await startService(config, log);
  const s = service;
  assert.ok(s.db.embedded, 'embedded PostgreSQL of its own');
  owner = postgres(s.db.ownerUrl, { max: 2, onnotice: () => {}, connect_timeout: 5 });
  const db = owner;

  // ---------- fixtures: readers, writers with their own carts, a product that can be ordered ----------
  const [acme] = await db<{ id: string }[]>`select id from tenants where slug = 'acme'`;
  const customers = await db<{ id: string; email: string }[]>`
    select id, email from customers where tenant_id = ${acme!.id} order by email = 'alice@acme.example' desc, email limit ${WRITERS + 1}`;
  assert.ok(customers.length === WRITERS + 1);
  const [product] = await db<{ sku: string; id: string }[]>`
    select p.sku, p.id from products p
    where p.tenant_id = ${acme!.id}
      and exists (select 1 from product_prices pp where pp.tenant_id = p.tenant_id and pp.product_id = p.id and pp.valid_to is null)
      and exists (select 1 from stock_levels sl where sl.tenant_id = p.tenant_id and sl.product_id = p.id)
    order by p.sku limit 1`;
  assert.ok(product, 'a product with a price and stock');
  // Plenty of it, so that running out of stock is never why a write fails.
  await db`update stock_levels set on_hand = on_hand + 100000 where tenant_id = ${acme!.id} and product_id = ${product.id}`;
  const writerIds = customers.slice(1).map((c) => c.id);
  await db`delete from cart_items where tenant_id = ${acme!.id} and customer_id = any(${writerIds})`;
  const ordersBefore = new Set((await db<{ number: string }[]>`select number from orders where tenant_id = ${acme!.id}`).map((r) => r.number));
  const [reservedBefore] = await db<{ n: string }[]>`select coalesce(sum(reserved), 0)::text as n from stock_levels where tenant_id = ${acme!.id} and product_id = ${product.id}`;

  const urls = { publicUrl: s.publicUrl, internalUrl: s.internalUrl };
  const resource = resourceFor(urls, 'acme', 'customer');
  const endpoint = `${s.publicUrl}/t/acme/mcp`;
  const tokenFor = async (email: string) =>
    (await issueTestToken(s.db.sql, { tenantSlug: 'acme', resource, subject: { kind: 'customer', email }, scope: 'orders returns catalog cart', ttlSeconds: 600 })).token;
  const readerToken = await tokenFor(customers[0]!.email);
  const [someOrder] = await db<{ number: string }[]>`select number from orders where tenant_id = ${acme!.id} and customer_id = ${customers[0]!.id} limit 1`;

  // ---------- the load ----------
  const samples: Sample[] = [];
  const health: Sample[] = [];
  const created = new Map<string, string>(); // idempotency key → order number the client was told
  const started = performance.now();
  const now = () => performance.now() - started;
  let requests = 0;
  let stopping = false;
  let loadEndedAt: number | undefined;
  const call = async (token: string, what: string, name: string, args: Record<string, unknown>) => {
    requests++;
    const o = await mcp(endpoint, token, 'tools/call', { name, arguments: args }, REQUEST_BOUND_MS);
    samples.push({ at: now(), what, o });
    return o;
  };
  const loadOn = () => loadEndedAt === undefined && requests < MAX_REQUESTS;

  const reader = async (i: number) => {
    const calls: [string, Record<string, unknown>][] = [
      ['list_orders', { limit: 5 }], ['get_order', { order_number: someOrder!.number }], ['search_products', { query: 'a' }], ['view_cart', {}],
    ];
    for (let n = i; loadOn(); n++) {
      const [name, args] = calls[n % calls.length]!;
      await call(readerToken, `reader ${name}`, name, args);
      await sleep(15);
    }
  };

  /** Retries one step until it answers (a tool error is an answer); false when the load ended first. */
  const step = async (token: string, name: string, args: Record<string, unknown>): Promise<CallOutcome | null> => {
    for (;;) {
      const o = await call(token, `writer ${name}`, name, args);
      if (!failed(o)) return o;
      if (!loadOn() && now() > (loadEndedAt ?? now()) + RECOVERY_BOUND_MS) return null;
      await sleep(100);
    }
  };

  const writer = async (email: string) => {
    const token = await tokenFor(email);
    while (loadOn()) {
      const key = `f1-${randomUUID()}`;
      if (!(await step(token, 'add_to_cart', { sku: product.sku, quantity: 1 }))) return;
      const summary = await step(token, 'place_order', { idempotency_key: key });
      if (!summary) return;
      const confirmation = summary.rpc!.result!.structuredContent?.confirmation_token;
      if (typeof confirmation !== 'string') continue; // e.g. an empty cart after a lost answer: try again
      // The confirmed write is retried with the same key and token until it answers: F4 as well.
      const done = await step(token, 'place_order', { idempotency_key: key, confirmation_token: confirmation });
      if (!done) return;
      const result = done.rpc!.result!;
      if (!result.isError && result.structuredContent?.status === 'created') created.set(key, String(result.structuredContent.order_number));
    }
  };

  const watchHealth = async () => {
    while (!stopping) {
      health.push({ at: now(), what: '/healthz', o: await get(`${s.publicUrl}/healthz`, 2_000) });
      await sleep(200);
    }
  };

  const succeeded = (from: number) => samples.filter((x) => x.at > from && !failed(x.o)).length;
  const failedSince = (from: number) => samples.filter((x) => x.at > from && failed(x.o)).length;
  /** Waits until `reached` (true) or the phase bound (false); the verdict is asserted afterwards. */
  const phase = async (reached: () => boolean): Promise<boolean> => {
    const from = now();
    while (!reached()) {
      if (now() - from > PHASE_BOUND_MS || requests >= MAX_REQUESTS) return false;
      await sleep(50);
    }
    return true;
  };

  const fault = async () => {
    try {
      const warmedUp = await phase(() => succeeded(0) >= PHASE_SAMPLES);
      const stoppedAt = now();
      await s.db.embedded!.stop();
      const downAt = now();
      const readyWhileDown = await get(`${s.publicUrl}/readyz`, 5_000);
      const felt = await phase(() => failedSince(downAt) >= DOWN_SAMPLES && now() - downAt >= DOWN_MS);
      restarted = await startEmbeddedPostgres(dataDir, pgPort, log);
      const upAt = now();
      const recovered = await phase(() => succeeded(upAt) >= PHASE_SAMPLES && created.size >= WRITERS);
      return { stoppedAt, downAt, upAt, readyWhileDown, warmedUp, felt, recovered };
    } finally {
      loadEndedAt = now();
    }
  };

  const watcher = watchHealth();
  const [window] = await Promise.all([
    fault(),
    ...Array.from({ length: READERS }, (_, i) => reader(i)),
    ...customers.slice(1).map((c) => writer(c.email)),
  ]);

  // ---------- recovery on its own ----------
  let ready: CallOutcome | undefined;
  const recovering = performance.now();
  while (performance.now() - recovering < RECOVERY_BOUND_MS) {
    ready = await get(`${s.publicUrl}/readyz`, 3_000);
    if (ready.status === 200) break;
    await sleep(200);
  }
  stopping = true;
  await watcher;
  assert.equal(ready?.status, 200, `/readyz back to 200 within ${RECOVERY_BOUND_MS / 1000} s of the restart`);
  const afterCall = await mcp(endpoint, readerToken, 'tools/call', { name: 'list_orders', arguments: { limit: 1 } }, REQUEST_BOUND_MS);
  assert.equal(afterCall.status, 200, `a call succeeds after recovery: ${afterCall.text.slice(0, 200)}`);
  assert.ok(afterCall.rpc?.result && !afterCall.rpc.result.isError);

  // ---------- no crash, no hang, clean errors ----------
  const all = [...samples, ...health];
  const summary = {
    requests: samples.length, failed: samples.filter((x) => failed(x.o)).length, ordersCreated: created.size,
    statuses: Object.fromEntries([...new Set(samples.map((x) => x.o.status))].map((st) => [st, samples.filter((x) => x.o.status === st).length])),
    window: { stop: Math.round(window.stoppedAt), down: Math.round(window.downAt), up: Math.round(window.upAt) },
    slowestMs: Math.round(Math.max(...all.map((x) => x.o.ms))),
  };
  console.log('F1', JSON.stringify(summary));
  assert.ok(window.warmedUp, `${PHASE_SAMPLES} successful calls before the restart (${summary.requests} requests in all)`);
  assert.ok(window.felt, `${DOWN_SAMPLES} failed calls while PostgreSQL was down`);
  assert.ok(window.recovered, `${PHASE_SAMPLES} successful calls and ${WRITERS} orders after the restart (${created.size} orders)`);
  for (const x of all) {
    assert.notEqual(x.o.status, -1, `${x.what} at ${Math.round(x.at)} ms hung past ${REQUEST_BOUND_MS} ms`);
    assert.notEqual(x.o.status, 0, `${x.what} at ${Math.round(x.at)} ms: connection failed (${x.o.text}) — the service stopped answering`);
    assertNoStackTrace(x.o.text, `${x.what} at ${Math.round(x.at)} ms`);
  }
  for (const h of health) assert.equal(h.o.status, 200, `/healthz at ${Math.round(h.at)} ms: ${h.o.status} — liveness must not depend on the database`);
  assert.equal(window.readyWhileDown.status, 503, '/readyz says 503 while PostgreSQL is down');
  assert.ok(Number(window.readyWhileDown.retryAfter) >= 1, '/readyz while down carries Retry-After');
  const failures = samples.filter((x) => failed(x.o));
  assert.ok(failures.length > 0, 'the restart was felt (some calls failed while PostgreSQL was down)');
  for (const f of failures) {
    // A JSON-RPC error object, or a 503 (busy / unavailable): never HTML, never a bare 500 page.
    const isRpcError = typeof f.o.rpc?.error?.code === 'number' && typeof f.o.rpc.error.message === 'string';
    assert.ok(isRpcError || f.o.status === 503, `${f.what} at ${Math.round(f.at)} ms: ${f.o.status} ${f.o.text.slice(0, 200)}`);
    if (isRpcError) {
      assert.match(f.o.rpc!.error!.message, /^(Internal error|The service is busy or its database is unavailable; retry after \d+ s)$/,
        'a generic message, no detail of the failure');
    }
  }
  assert.ok(samples.some((x) => x.at < window.stoppedAt && !failed(x.o)), 'calls succeeded before the restart');
  assert.ok(samples.some((x) => x.at > window.upAt && !failed(x.o)), 'calls succeeded after the restart, during the load');
  assert.ok(created.size >= WRITERS, `writers placed orders (${created.size})`);

  // ---------- nothing half applied ----------
  const keys = await db<{ key: string; subject: string; response: { order_number?: string } | null }[]>`
    select key, subject, response from idempotency_keys where tenant_id = ${acme!.id} and tool = 'place_order' and key like 'f1-%'`;
  assert.deepEqual(keys.filter((k) => !k.response).map((k) => k.key), [], 'no key claimed without its result (a claim commits with its effect)');
  const byKey = new Map(keys.map((k) => [k.key, k.response!.order_number!]));
  for (const [key, number] of created) assert.equal(byKey.get(key), number, `key ${key}: the client's answer is the stored one`);
  const newOrders = await db<{ number: string; customer_id: string; total_cents: string; lines: number; line_total: string; line_qty: number; payments: number; paid: string }[]>`
    select o.number, o.customer_id, o.total_cents::text,
      (select count(*)::int from order_lines l where l.tenant_id = o.tenant_id and l.order_id = o.id) as lines,
      (select coalesce(sum(l.quantity * l.unit_price_cents), 0)::text from order_lines l where l.tenant_id = o.tenant_id and l.order_id = o.id) as line_total,
      (select coalesce(sum(l.quantity), 0)::int from order_lines l where l.tenant_id = o.tenant_id and l.order_id = o.id and l.product_id = ${product.id}) as line_qty,
      (select count(*)::int from payments p where p.tenant_id = o.tenant_id and p.order_id = o.id) as payments,
      (select coalesce(sum(p.amount_cents), 0)::text from payments p where p.tenant_id = o.tenant_id and p.order_id = o.id) as paid
    from orders o where o.tenant_id = ${acme!.id}`;
  const fresh = newOrders.filter((o) => !ordersBefore.has(o.number));
  // Exactly one order per key with a result, and no order without one.
  const keyedNumbers = [...byKey.values()].sort();
  assert.deepEqual(fresh.map((o) => o.number).sort(), keyedNumbers, 'orders created == orders recorded under idempotency keys (one each, no duplicate)');
  for (const o of fresh) {
    assert.ok(writerIds.includes(o.customer_id), `${o.number} belongs to a writer`);
    assert.ok(o.lines >= 1, `${o.number} has its lines`);
    assert.equal(o.line_total, o.total_cents, `${o.number}: lines add up to the total`);
    assert.equal(o.payments, 1, `${o.number}: exactly one payment`);
    assert.equal(o.paid, o.total_cents, `${o.number}: payment equals the total`);
  }
  const [reservedAfter] = await db<{ n: string }[]>`select coalesce(sum(reserved), 0)::text as n from stock_levels where tenant_id = ${acme!.id} and product_id = ${product.id}`;
  const orderedQty = fresh.reduce((n, o) => n + o.line_qty, 0);
  assert.equal(Number(reservedAfter!.n) - Number(reservedBefore!.n), orderedQty, 'stock reserved exactly for the orders placed');
  await sealAudit(db);
  const chain = await verifyAuditChain(db, 'acme');
  assert.ok(chain.ok, `audit chain intact across the restart: ${JSON.stringify(chain.firstBreak)}`);
  assert.equal(chain.unsealed, 0, 'every committed entry got its place in the chain across the restart');
});
