// The pure phase and guardrail policy (src/actions/guardrails.ts): at the limit runs, above waits,
// a missing limit waits, phase 1 always waits.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { decide, guardrailsSchema, parseAggregateKey, selfApprovalAllowed, TOOL_AGGREGATES, TOOL_LIMITS, WRITE_TOOLS } from '../../src/actions/guardrails.js';
import { changePercent } from '../../src/actions/change-price.js';

const ACME = { create_reorder: { max_quantity: 100, max_value_cents: 500_000 }, issue_refund: { max_amount_cents: 5_000 } };

test('phase 1: every tool waits, whatever the guardrails', () => {
  for (const tool of WRITE_TOOLS) assert.equal(decide(1, tool, { run_at_once: true, max_quantity: 1e9, max_value_cents: 1e9, max_amount_cents: 1e9, max_change_percent: 1000 }, {}).run, 'wait');
});

test('phase 2 and 3: just under and at each limit run, just over waits', () => {
  for (const phase of [2, 3]) {
    const r = (q: number, v: number) => decide(phase, 'create_reorder', ACME.create_reorder, { quantity: q, value_cents: v }).run;
    assert.equal(r(99, 499_999), 'now');
    assert.equal(r(100, 500_000), 'now');
    assert.equal(r(101, 500_000), 'wait');
    assert.equal(r(100, 500_001), 'wait');
    const f = (a: number) => decide(phase, 'issue_refund', ACME.issue_refund, { amount_cents: a }).run;
    assert.deepEqual([f(4_999), f(5_000), f(5_001)], ['now', 'now', 'wait']);
    assert.equal(decide(phase, 'change_price', { max_change_percent: 10 }, { change_percent: 10 }).run, 'now');
    assert.equal(decide(phase, 'change_price', { max_change_percent: 10 }, { change_percent: 10.01 }).run, 'wait');
  }
});

test('fail-safe: no entry, a missing limit, an unmeasured value or a malformed entry waits', () => {
  assert.equal(decide(2, 'change_price', undefined, { change_percent: 0 }).run, 'wait');
  assert.equal(decide(2, 'create_reorder', { max_quantity: 100 }, { quantity: 1, value_cents: 1 }).run, 'wait');
  assert.equal(decide(2, 'issue_refund', { max_amount_cents: 5_000 }, {}).run, 'wait');
  assert.equal(decide(2, 'issue_refund', { max_amount_cents: 'lots' }, { amount_cents: 1 }).run, 'wait');
  assert.equal(decide(2, 'reroute_delivery', {}, {}).run, 'wait');
  assert.equal(decide(2, 'reroute_delivery', { run_at_once: true }, {}).run, 'now');
});

test('the guardrails document is validated: unknown tools and keys are refused', () => {
  assert.ok(guardrailsSchema.safeParse(ACME).success);
  assert.ok(!guardrailsSchema.safeParse({ drop_tables: {} }).success);
  assert.ok(!guardrailsSchema.safeParse({ issue_refund: { max_amount_cents: -1 } }).success);
  assert.ok(!guardrailsSchema.safeParse({ issue_refund: { max_amount: 5 } }).success);
  for (const tool of WRITE_TOOLS) assert.ok(Array.isArray(TOOL_LIMITS[tool]));
});

test('self-approval only with a positive limit covering a money value', () => {
  assert.equal(selfApprovalAllowed(0, 0), false);
  assert.equal(selfApprovalAllowed(1_000, 1_000), true);
  assert.equal(selfApprovalAllowed(1_000, 1_001), false);
  assert.equal(selfApprovalAllowed(1_000, null), false);
});

test('price change percent rounds up, so a limit is never undercut by rounding', () => {
  assert.equal(changePercent(1_000, 1_100), 10);
  assert.equal(changePercent(3_000, 3_001), 0.04);
  assert.equal(changePercent(1_000, 900), 10);
});

test('A7 aggregate limits: at the limit runs, one over waits and names the limit; an uncounted total waits', () => {
  const e = { max_amount_cents: 5_000, per_order_max_amount_cents: 5_000, per_tenant_day_max_amount_cents: 100_000 };
  const d = (order: number, day: number) => decide(2, 'issue_refund', e, { amount_cents: 1_000 },
    { per_order_max_amount_cents: order, per_tenant_day_max_amount_cents: day });
  assert.equal(d(5_000, 100_000).run, 'now');
  assert.deepEqual(d(10_000, 1), { run: 'wait', reason: 'per-order refund total 100.00 EUR would exceed 50.00 EUR (per_order_max_amount_cents)' });
  assert.match(d(1, 100_001).reason, /shop-wide 24-hour refund total 1000\.01 EUR would exceed 1000\.00 EUR/);
  assert.equal(decide(2, 'issue_refund', e, { amount_cents: 1_000 }, { per_order_max_amount_cents: 1 }).run, 'wait', 'a total that could not be counted');
  // Phase 1 still waits first, and says so.
  assert.equal(decide(1, 'issue_refund', e, { amount_cents: 1 }, {}).reason, 'phase 1: every write waits for approval');
});

test('A7 the guardrails document: aggregate limits are optional (older entries keep their meaning) and only the tool\'s own are accepted', () => {
  assert.ok(guardrailsSchema.safeParse({ issue_refund: { max_amount_cents: 5_000 } }).success);
  assert.ok(guardrailsSchema.safeParse({ issue_refund: { max_amount_cents: 5_000, per_order_max_amount_cents: 5_000, per_customer_day_max_amount_cents: 1,
    per_requester_day_max_amount_cents: 1, per_tenant_day_max_amount_cents: 1 } }).success);
  assert.ok(guardrailsSchema.safeParse({ create_reorder: { per_product_day_max_quantity: 200, per_product_day_max_value_cents: 1 } }).success);
  assert.ok(!guardrailsSchema.safeParse({ issue_refund: { per_product_day_max_quantity: 1 } }).success, 'not a refund aggregate');
  assert.ok(!guardrailsSchema.safeParse({ issue_refund: { per_order_max_amount_cents: -1 } }).success);
  assert.ok(!guardrailsSchema.safeParse({ issue_refund: { per_week_max_amount_cents: 1 } }).success);
  for (const tool of WRITE_TOOLS) for (const key of TOOL_AGGREGATES[tool]) assert.ok(parseAggregateKey(key), key);
});
