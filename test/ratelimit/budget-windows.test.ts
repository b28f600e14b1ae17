// The shared budget store itself (migrations/013_budget_windows.sql, src/ratelimit/windows.ts):
// all or nothing and exact under concurrency from two pools (two instances, F5), for every budget
// a call spends (A9, A10); ended windows are swept without losing a budget in use.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { openRateLimitPool } from '../../src/db/database.js';
import { RateLimits, type Call } from '../../src/ratelimit/limits.js';
import { PostgresWindows } from '../../src/ratelimit/windows.js';
import { createTestDatabase, onCleanup } from '../support/database.js';

const budget = (points: number) => ({ points, durationSeconds: 60 });

test('F5 A9 A10 many calls at once from two instances: every budget exact, and refused calls charge nothing', async () => {
  const db = await createTestDatabase();
  const pools = [openRateLimitPool(db.appUrl), openRateLimitPool(db.appUrl)];
  onCleanup(() => Promise.all(pools.map((p) => p.end({ timeout: 1 }))));
  const budgets = { token: budget(10), subject: budget(25), client: budget(1000), tenant: budget(60) };
  const instances = pools.map((sql) => new RateLimits(sql, { store: 'postgres', budgets, subjectSharePercent: 100 }));
  // 4 people with 3 tokens each; reads and writes mixed; far more asked for than the budgets allow.
  const calls: Call[] = Array.from({ length: 400 }, (_, i) => ({
    tenantId: 'tenant-x', kind: 'customer', subjectId: `person-${i % 4}`, tokenId: `token-${i % 12}`, clientId: 'client-x', weight: i % 7 === 0 ? 5 : 1,
  }));
  // Twice: while the buckets are being created, and once they all exist, by instances that know
  // nothing yet (no first line) and allow twice as much.
  const first = await Promise.all(calls.map((c, i) => instances[i % 2]!.consumeCall(c)));
  const doubled = { token: budget(20), subject: budget(50), client: budget(2000), tenant: budget(120) };
  const again = pools.map((sql) => new RateLimits(sql, { store: 'postgres', budgets: doubled, subjectSharePercent: 100 }));
  const second = await Promise.all(calls.map((c, i) => again[(i + 1) % 2]!.consumeCall(c)));
  const decisions = [...first, ...second];
  const all = [...calls, ...calls];
  const sum = (pick: (c: Call) => boolean) => all.reduce((n, c, i) => n + (decisions[i]!.allowed && pick(c) ? c.weight : 0), 0);
  const rows = await db.owner<{ key: string; points: number }[]>`select key, points from mcp_budget_windows where key like 't:tenant-x:%'`;
  const points = new Map(rows.map((r) => [r.key, r.points]));
  assert.equal(points.get('t:tenant-x:customer'), sum(() => true), 'tenant: exactly the accepted calls');
  assert.ok(sum(() => true) <= 120, `never more than the tenant budget: ${sum(() => true)}`);
  assert.equal(points.get('t:tenant-x:customer:client:client-x'), sum(() => true), 'client: exactly the accepted calls');
  for (let p = 0; p < 4; p++) {
    const spent = sum((c) => c.subjectId === `person-${p}`);
    assert.equal(points.get(`t:tenant-x:customer:subject:person-${p}`) ?? 0, spent, `person ${p}: exactly their accepted calls`);
    assert.ok(spent <= 50);
  }
  for (let t = 0; t < 12; t++) {
    const spent = sum((c) => c.tokenId === `token-${t}`);
    assert.equal(points.get(`t:tenant-x:token:token-${t}`) ?? 0, spent, `token ${t}: exactly its accepted calls`);
    assert.ok(spent <= 20);
  }
  assert.ok(decisions.filter((d) => !d.allowed).length >= 800 - 120, 'most calls were refused');
  assert.ok(second.some((d) => d.allowed), 'the second round was decided by the store, not only refused');
});

test('F5 a call that fits exactly is charged; one point more is refused and charges nothing', async () => {
  const db = await createTestDatabase();
  const sql = openRateLimitPool(db.appUrl);
  onCleanup(() => sql.end({ timeout: 1 }));
  const windows = new PostgresWindows(sql);
  const charges = (cost: number) => [
    { key: 'a', cost, cap: 5, windowMs: 60_000 },
    { key: 'b', cost, cap: 6, windowMs: 60_000 },
  ];
  assert.equal((await windows.spend(charges(5))).charged, true, 'at the limit of a');
  const refused = await windows.spend(charges(1));
  assert.equal(refused.charged, false, 'one over the limit of a');
  assert.deepEqual(refused.states.map((s) => s.spent), [5, 5], 'b keeps what it had');
  assert.equal((await windows.spend([{ key: 'b', cost: 1, cap: 6, windowMs: 60_000 }])).charged, true, 'b alone: at its limit');
  assert.equal((await windows.spend([{ key: 'b', cost: 1, cap: 6, windowMs: 60_000 }])).charged, false, 'b alone: one over');
});

test('ended windows are swept; a swept budget starts a new window when next used', async () => {
  const db = await createTestDatabase();
  const sql = openRateLimitPool(db.appUrl);
  onCleanup(() => sql.end({ timeout: 1 }));
  const windows = new PostgresWindows(sql);
  await windows.spend([{ key: 'old', cost: 3, cap: 3, windowMs: 60_000 }, { key: 'current', cost: 1, cap: 3, windowMs: 60_000 }]);
  await db.owner`update mcp_budget_windows set ends_at = ends_at - 180000 where key = 'old'`;
  assert.equal(await windows.sweep(), 1);
  const rows = await db.owner<{ key: string }[]>`select key from mcp_budget_windows order by key`;
  assert.deepEqual(rows.map((r) => r.key), ['current']);
  const again = await windows.spend([{ key: 'old', cost: 3, cap: 3, windowMs: 60_000 }, { key: 'current', cost: 1, cap: 3, windowMs: 60_000 }]);
  assert.equal(again.charged, true);
  assert.deepEqual(again.states.map((s) => s.spent), [3, 2]);
});
