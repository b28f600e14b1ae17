// R8: the audit chain verifies, and any owner edit, deletion or truncation is found at its entry.
import assert from 'node:assert/strict';
import { before, test } from 'node:test';
import type postgres from 'postgres';
import { recordAudit } from '../../src/audit/record.js';
import { sealAudit } from '../../src/audit/sealer.js';
import { exportAuditLog, verifyAuditChain } from '../../src/audit/verify.js';
import { runAdmin } from '../../src/cli/admin.js';
import { withContext } from '../../src/db/context.js';
import { createTestDatabase, first, type TestDatabase } from '../support/database.js';

let db: TestDatabase;
let tenantId: string;
let staffId: string;

before(async () => {
  db = await createTestDatabase();
  ({ id: tenantId } = first(await db.owner<{ id: string }[]>`select id from tenants where slug = 'acme'`));
  ({ id: staffId } = first(await db.owner<{ id: string }[]>`select id from staff where tenant_id = ${tenantId} limit 1`));
});

/**
 * Seals until nothing committed is left unsealed. The sealer's horizon is the whole cluster's: a
 * transaction of another test file still in flight holds a round back, so a single round may seal
 * only part (a bounded poll, not a timed assertion).
 */
async function sealCommitted(owner: postgres.Sql): Promise<number> {
  let sealed = 0;
  for (let round = 0; round < 400; round++) {
    sealed += await sealAudit(owner);
    const [row] = await owner<{ n: number }[]>`select count(*)::int as n from audit_events where seq is null`;
    if (row!.n === 0) break;
    await new Promise((r) => setTimeout(r, 25));
  }
  return sealed;
}

async function append(n: number, concurrently = false) {
  const one = (i: number) => withContext(db.app, { kind: 'staff', tenantId, staffId, role: 'tenant_admin' }, (tx) =>
    recordAudit(tx, { tenantId, event: 'tool.call', outcome: 'ok', actorKind: 'staff', actorId: staffId, tool: 'search_orders',
      arguments: { query: `q${i}`, password: 'hunter2' } }));
  if (concurrently) await Promise.all(Array.from({ length: n }, (_, i) => one(i)));
  else for (let i = 0; i < n; i++) await one(i);
  await sealCommitted(db.owner);
}

const staffCtx = (t: string, s: string) => ({ kind: 'staff' as const, tenantId: t, staffId: s, role: 'tenant_admin' as const });
const entry = (t: string, s: string, tool: string) => ({ tenantId: t, event: 'tool.call', outcome: 'ok', actorKind: 'staff' as const, actorId: s, tool });

test('R8 an untouched chain verifies, also when written concurrently', async () => {
  await append(5);
  await append(20, true);
  const report = await verifyAuditChain(db.owner, 'acme');
  assert.equal(report.ok, true, JSON.stringify(report.firstBreak));
  assert.ok(report.entries >= 25);
});

test('audit arguments are redacted', async () => {
  const [row] = await db.owner<{ arguments: { password: string } }[]>`
    select arguments from audit_events where tenant_id = ${tenantId} and tool = 'search_orders' limit 1`;
  assert.equal(row!.arguments.password, '[redacted]');
});

test('R8 an owner edit of one entry is detected at that entry', async () => {
  const { seq } = first(await db.owner<{ seq: string }[]>`
    select seq from audit_events where tenant_id = ${tenantId} order by seq offset 7 limit 1`);
  await db.owner`update audit_events set outcome = 'denied' where tenant_id = ${tenantId} and seq = ${seq}`;
  const report = await verifyAuditChain(db.owner, 'acme');
  assert.equal(report.ok, false);
  assert.deepEqual(report.firstBreak, { seq: Number(seq), problem: 'content_changed' });
});

test('R8 a recomputed hash (forged entry) breaks the next link; a deletion is a gap; a cut tail is truncation', async () => {
  const fresh = await createTestDatabase();
  const { id: t } = first(await fresh.owner<{ id: string }[]>`select id from tenants where slug = 'globex'`);
  const { id: s } = first(await fresh.owner<{ id: string }[]>`select id from staff where tenant_id = ${t} limit 1`);
  for (let i = 0; i < 6; i++) {
    await withContext(fresh.app, { kind: 'staff', tenantId: t, staffId: s, role: 'tenant_admin' }, (tx) =>
      recordAudit(tx, { tenantId: t, event: 'tool.call', outcome: 'ok', actorKind: 'staff', actorId: s }));
  }
  await sealCommitted(fresh.owner);
  assert.equal((await verifyAuditChain(fresh.owner, 'globex')).ok, true);
  await fresh.owner`update audit_events e set outcome = 'denied' where tenant_id = ${t} and seq = 2`;
  await fresh.owner`update audit_events e set hash = app.audit_hash(e) where tenant_id = ${t} and seq = 2`;
  assert.deepEqual((await verifyAuditChain(fresh.owner, 'globex')).firstBreak, { seq: 3, problem: 'link_broken' });
  await fresh.owner`delete from audit_events where tenant_id = ${t} and seq in (2, 3)`;
  assert.deepEqual((await verifyAuditChain(fresh.owner, 'globex')).firstBreak, { seq: 4, problem: 'gap', expected: 2 });
  const other = await createTestDatabase();
  const { id: t2 } = first(await other.owner<{ id: string }[]>`select id from tenants where slug = 'globex'`);
  const { id: s2 } = first(await other.owner<{ id: string }[]>`select id from staff where tenant_id = ${t2} limit 1`);
  for (let i = 0; i < 3; i++) {
    await withContext(other.app, { kind: 'staff', tenantId: t2, staffId: s2, role: 'tenant_admin' }, (tx) =>
      recordAudit(tx, { tenantId: t2, event: 'tool.call', outcome: 'ok', actorKind: 'staff', actorId: s2 }));
  }
  await sealCommitted(other.owner);
  await other.owner`delete from audit_events where tenant_id = ${t2} and seq = 3`;
  assert.equal((await verifyAuditChain(other.owner, 'globex')).firstBreak?.problem, 'truncated');
});

test('the export writes one JSON line per entry, in order', async () => {
  const lines: string[] = [];
  const n = await exportAuditLog(db.owner, 'acme', (l) => lines.push(l));
  assert.equal(n, lines.length);
  const seqs = lines.map((l) => Number(JSON.parse(l).seq));
  assert.deepEqual(seqs, [...seqs].sort((a, b) => a - b));
});

test('R8 the admin command verifies a chain (exit status 1 at a break) and exports it', async () => {
  const fresh = await createTestDatabase();
  const { id: t } = first(await fresh.owner<{ id: string }[]>`select id from tenants where slug = 'acme'`);
  const { id: s } = first(await fresh.owner<{ id: string }[]>`select id from staff where tenant_id = ${t} limit 1`);
  for (let i = 0; i < 3; i++) {
    await withContext(fresh.app, { kind: 'staff', tenantId: t, staffId: s, role: 'tenant_admin' }, (tx) =>
      recordAudit(tx, { tenantId: t, event: 'tool.call', outcome: 'ok', actorKind: 'staff', actorId: s }));
  }
  await sealCommitted(fresh.owner);
  const run = async (...argv: string[]) => { const out: string[] = []; const code = await runAdmin(fresh.owner, argv, (l) => out.push(l)); return { out, code }; };
  const intact = await run('audit', 'verify', 'acme');
  assert.match(intact.out[0]!, /^ok: \d+ entries, chain intact$/);
  assert.equal(intact.code, 0);
  const lines = (await run('audit', 'export', 'acme')).out;
  assert.ok(lines.length >= 3 && lines.every((l) => typeof JSON.parse(l).hash === 'string'));
  await fresh.owner`update audit_events set outcome = 'denied' where tenant_id = ${t} and seq = 2`;
  const broken = await run('audit', 'verify', 'acme');
  assert.equal(broken.out[0], `BROKEN at entry 2: content_changed (${lines.length} entries read)`);
  assert.equal(broken.code, 1);
});

test('R8 the sealer links only committed entries, never past a transaction still in flight; verify says what is unsealed', async () => {
  const fresh = await createTestDatabase();
  const { id: t } = first(await fresh.owner<{ id: string }[]>`select id from tenants where slug = 'acme'`);
  const { id: s } = first(await fresh.owner<{ id: string }[]>`select id from staff where tenant_id = ${t} limit 1`);
  await sealCommitted(fresh.owner);
  const sealedBefore = (await verifyAuditChain(fresh.owner, 'acme')).entries;
  // An entry inserted first (lowest position) by a transaction that stays open ...
  let release!: () => void;
  const held = new Promise<void>((r) => { release = r; });
  let inserted!: () => void;
  const insertedP = new Promise<void>((r) => { inserted = r; });
  const inFlight = withContext(fresh.app, staffCtx(t, s), async (tx) => {
    await recordAudit(tx, entry(t, s, 'in_flight'));
    inserted();
    await held;
  });
  await insertedP;
  // ... then two that commit, and one that rolls back.
  for (const tool of ['after_1', 'after_2']) await withContext(fresh.app, staffCtx(t, s), (tx) => recordAudit(tx, entry(t, s, tool)));
  await assert.rejects(withContext(fresh.app, staffCtx(t, s), async (tx) => { await recordAudit(tx, entry(t, s, 'rolled_back')); throw new Error('undo'); }), /undo/);
  // Nothing is sealed past the open transaction (it might still commit below them); the committed ones are reported unsealed.
  assert.equal(await sealAudit(fresh.owner), 0);
  const waiting = await verifyAuditChain(fresh.owner, 'acme');
  assert.equal(waiting.ok, true);
  assert.equal(waiting.entries, sealedBefore);
  assert.equal(waiting.unsealed, 2);
  release();
  await inFlight;
  assert.equal(await sealCommitted(fresh.owner), 3);
  const done = await verifyAuditChain(fresh.owner, 'acme');
  assert.deepEqual([done.ok, done.entries, done.unsealed], [true, sealedBefore + 3, 0]);
  const tools = await fresh.owner<{ tool: string }[]>`select tool from audit_events where tenant_id = ${t} and seq > ${sealedBefore} order by seq`;
  assert.deepEqual(tools.map((r) => r.tool), ['in_flight', 'after_1', 'after_2'], 'linked in insert order; the rolled-back entry never appears');
  // The application role cannot link (or forge links) itself: its link fields are dropped on insert, and it cannot update.
  await withContext(fresh.app, staffCtx(t, s), (tx) => tx`insert into audit_events (tenant_id, seq, actor_kind, event, outcome, prev_hash, hash)
    values (${t}, 999, 'staff', 'forged', 'ok', 'x', 'y')`);
  const [forged] = await fresh.owner<{ seq: string | null; hash: string | null }[]>`select seq, hash from audit_events where event = 'forged'`;
  assert.deepEqual(forged, { seq: null, hash: null });
  await assert.rejects(withContext(fresh.app, staffCtx(t, s), (tx) => tx`update audit_events set seq = 1 where event = 'forged'`), /permission denied/);
  await assert.rejects(withContext(fresh.app, staffCtx(t, s), (tx) => tx`update audit_chain_heads set seq = 1`), /permission denied/);
});

test('R8 two sealers at once: one seals, the other returns 0 (advisory lock), the chain stays linear', async () => {
  await append(30, true);
  const unsealed = await Promise.all(Array.from({ length: 10 }, () => withContext(db.app, staffCtx(tenantId, staffId), (tx) => recordAudit(tx, entry(tenantId, staffId, 'race')))));
  assert.equal(unsealed.length, 10);
  const other = await db.owner.reserve();
  try {
    await other`begin`;
    const [held] = await other<{ n: number }[]>`select app.audit_seal(5000) as n`; // holds the lock until commit
    assert.equal(held!.n, 10);
    const [blocked] = await db.owner<{ n: number }[]>`select app.audit_seal(5000) as n`;
    assert.equal(blocked!.n, 0);
    await other`commit`;
  } finally {
    other.release();
  }
  const report = await verifyAuditChain(db.owner, 'acme');
  assert.equal(report.unsealed, 0);
});
