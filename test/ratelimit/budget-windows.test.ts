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

test('F5 A9 A10 many calls at once from two instances leasing slices: every budget exact, and refused calls charge nothing', async () => {
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
  // The store counts what it leased: every point an instance accepted, plus what the four
  // instances still hold unspent (src/ratelimit/windows.ts). Exactly, for every budget.
  const rows = await db.owner<{ key: string; points: number }[]>`select key, points from mcp_budget_windows where key like 't:tenant-x:%'`;
  const points = new Map(rows.map((r) => [r.key, r.points]));
  const held = (key: string) => [...instances, ...again].reduce((n, rl) => n + rl.held(key), 0);
  const exact = (key: string, accepted: number, cap: number, what: string) => {
    assert.equal(points.get(key) ?? 0, accepted + held(key), `${what}: leased = accepted + held`);
    assert.ok(accepted <= cap, `${what}: never more than its budget (${accepted} of ${cap})`);
  };
  exact('t:tenant-x:customer', sum(() => true), 120, 'tenant');
  exact('t:tenant-x:customer:client:client-x', sum(() => true), 2000, 'client');
  for (let p = 0; p < 4; p++) exact(`t:tenant-x:customer:subject:person-${p}`, sum((c) => c.subjectId === `person-${p}`), 50, `person ${p}`);
  for (let t = 0; t < 12; t++) exact(`t:tenant-x:token:token-${t}`, sum((c) => c.tokenId === `token-${t}`), 20, `token ${t}`);
  // The first round alone stays within the first budgets.
  const firstSum = calls.reduce((n, c, i) => n + (first[i]!.allowed ? c.weight : 0), 0);
  assert.ok(firstSum <= 60, `the first round within the first tenant budget: ${firstSum}`);
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

test('F5 a slice held under one cap is given back when the cap changes, and at shutdown', async () => {
  const db = await createTestDatabase();
  const sql = openRateLimitPool(db.appUrl);
  onCleanup(() => sql.end({ timeout: 1 }));
  const windows = new PostgresWindows(sql);
  const leased = async () => (await db.owner<{ points: number }[]>`select points from mcp_budget_windows where key = 'k'`)[0]?.points ?? 0;
  const charge = (cap: number) => [{ key: 'k', cost: 1, cap, windowMs: 60_000 }];
  assert.equal((await windows.spend(charge(100))).charged, true);
  assert.ok(windows.held('k') > 0, 'a slice beyond the call is held');
  assert.equal(await leased(), 1 + windows.held('k'), 'leased = accepted + held');
  // The tenant lowers the budget to 5: the slice leased under 100 goes back, the 1 point spent stays.
  const under5 = [];
  for (let i = 0; i < 6; i++) under5.push((await windows.spend(charge(5))).charged);
  assert.deepEqual(under5, [true, true, true, true, false, false], 'exactly 4 more under the new cap of 5, not one more');
  assert.equal(await leased(), 5);
  // At shutdown what is held goes back: leased = accepted.
  const w2 = new PostgresWindows(sql);
  assert.equal((await w2.spend([{ key: 'j', cost: 1, cap: 1000, windowMs: 60_000 }])).charged, true);
  assert.ok(w2.held('j') > 0);
  await w2.release();
  assert.equal(w2.held('j'), 0);
  assert.equal((await db.owner<{ points: number }[]>`select points from mcp_budget_windows where key = 'j'`)[0]!.points, 1, 'only the accepted call stays leased');
});

test('F5 a slice is never spent after its window: the next window starts from the store', async () => {
  const db = await createTestDatabase();
  const sql = openRateLimitPool(db.appUrl);
  onCleanup(() => sql.end({ timeout: 1 }));
  const windows = new PostgresWindows(sql);
  const charge = [{ key: 'w', cost: 1, cap: 50, windowMs: 300 }];
  assert.equal((await windows.spend(charge)).charged, true);
  const heldBefore = windows.held('w');
  assert.ok(heldBefore > 0);
  await new Promise((r) => setTimeout(r, 400));
  assert.equal(windows.held('w'), 0, 'the old slice is not usable once its window has ended');
  assert.equal((await windows.spend(charge)).charged, true);
  const [row] = await db.owner<{ points: number }[]>`select points from mcp_budget_windows where key = 'w'`;
  assert.equal(row!.points, 1 + windows.held('w'), 'the new window counts only what was leased in it');
});
