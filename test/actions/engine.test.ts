// The action engine against real PostgreSQL: phases, guardrail boundaries, exactly once (A5),
// four-eyes and dead actions (A6), retries after a dropped client (F4), prompt injection (P1).
import assert from 'node:assert/strict';
import { before, test } from 'node:test';
import { approveAction, confirmOwnAction, expireDueActions, rejectAction, type Decision } from '../../src/actions/engine.js';
import { WRITE_TOOLS } from '../../src/actions/guardrails.js';
import { actionContext, customerEndpointEnabled, getActionStatus, isCustomerEndpointEnabled } from '../../src/actions/status.js';
import { INJECTION_CANARY } from '../../src/seed/fixtures.js';
import { createTestDatabase, first, type TestDatabase } from '../support/database.js';
import { validArguments } from './fixtures.js';
import { asStaff, auditEvents, refundableOrder, refusal, request, setSettings, staffOf, type StaffMember } from './helpers.js';

let db: TestDatabase;
let acme: { admin: StaffMember; supply: StaffMember; returns: StaffMember; warehouse: StaffMember };
let globex: { admin: StaffMember; supply: StaffMember };

before(async () => {
  db = await createTestDatabase();
  acme = {
    admin: await staffOf(db, 'acme', 'admin@acme.example'),
    supply: await staffOf(db, 'acme', 'supply@acme.example'),
    returns: await staffOf(db, 'acme', 'returns@acme.example'),
    warehouse: await staffOf(db, 'acme', 'warehouse@acme.example'),
  };
  globex = { admin: await staffOf(db, 'globex', 'admin@globex.example'), supply: await staffOf(db, 'globex', 'supply@globex.example') };
});

function decision(s: StaffMember, actionId: string, reason: string | null = null): Decision {
  return { tenantId: s.tenantId, actionId, staffId: s.staffId, reason, clientId: 'console' };
}
const approve = (s: StaffMember, id: string, reason?: string) => asStaff(db.app, s, (tx) => approveAction(tx, decision(s, id, reason)));
const reject = (s: StaffMember, id: string, reason: string) => asStaff(db.app, s, (tx) => rejectAction(tx, decision(s, id, reason)));
const status = (s: StaffMember, id: string) => asStaff(db.app, s, (tx) => getActionStatus(tx, s.tenantId, id));

async function count(table: string, tenantId: string, where = db.owner``): Promise<number> {
  const row = first(await db.owner<{ n: string }[]>`select count(*) as n from ${db.owner(table)} where tenant_id = ${tenantId} ${where}`);
  return Number(row.n);
}

test('phase 1: every write tool waits for approval and changes nothing', async () => {
  // globex is seeded in phase 3 without guardrails; the phase-1 tests pin phase 1 explicitly.
  await db.owner`update tenant_settings set phase = 1 where tenant_id = ${globex.admin.tenantId}`;
  const args = await validArguments(db, globex.admin.tenantId);
  for (const tool of WRITE_TOOLS) {
    const before = await count('audit_events', globex.admin.tenantId);
    const outcome = await request(db, globex.admin, tool, args[tool], { justification: `phase 1 check of ${tool}` });
    assert.equal(outcome.status, 'pending', tool);
    assert.equal(outcome.message, `waiting for approval (action ${outcome.action_id})`);
    const s = await status(globex.admin, outcome.action_id);
    assert.equal(s?.status, 'pending');
    assert.equal(s?.justification, `phase 1 check of ${tool}`);
    assert.ok((await count('audit_events', globex.admin.tenantId)) > before, 'the request is audited');
  }
  // No effect of any kind.
  assert.equal(await count('purchase_orders', globex.admin.tenantId, db.owner`and action_id is not null`), 0);
  assert.equal(await count('refunds', globex.admin.tenantId, db.owner`and action_id is not null`), 0);
  assert.equal(await count('returns', globex.admin.tenantId, db.owner`and number = ${args.decide_return.return_number as string} and status <> 'requested'`), 0);
});

test('phase 1: an approved action executes once, in the approver\'s transaction, and the audit tells the story', async () => {
  const args = await validArguments(db, globex.admin.tenantId);
  const refundArgs = { ...args.issue_refund, amount_cents: 1_234, reason: 'phase 1 approval story' };
  const pending = await request(db, globex.supply, 'issue_refund', refundArgs).catch(() => null);
  // supply_chain_manager lacks payments:refund: the role check refuses it.
  assert.equal(pending, null);
  const asked = await request(db, globex.admin, 'issue_refund', refundArgs);
  assert.equal(asked.status, 'pending');
  const done = await approve(globex.supply, asked.action_id, 'checked with finance');
  assert.equal(done.status, 'executed');
  assert.equal(await count('refunds', globex.admin.tenantId, db.owner`and action_id = ${asked.action_id}`), 1);
  const s = await status(globex.admin, asked.action_id);
  assert.equal(s?.status, 'executed');
  assert.equal(s?.decided_by?.id, globex.supply.staffId);
  assert.equal(s?.decision_reason, 'checked with finance');
  assert.deepEqual(await auditEvents(db, globex.admin.tenantId, asked.action_id), ['action.requested', 'action.approved', 'action.executed']);
  // Approving again: refused, still one refund.
  const again = await approve(globex.supply, asked.action_id);
  assert.equal(again.status, 'refused');
  assert.equal(await count('refunds', globex.admin.tenantId, db.owner`and action_id = ${asked.action_id}`), 1);
});

test('phase 2 guardrails: create_reorder just under, at and just over each limit (max_quantity 100, max_value_cents 500000)', async () => {
  const tenantId = acme.supply.tenantId;
  const products = await db.owner<{ sku: string; code: string }[]>`
    select p.sku, w.code from stock_levels sl join products p on p.tenant_id = sl.tenant_id and p.id = sl.product_id
    join warehouses w on w.tenant_id = sl.tenant_id and w.id = sl.warehouse_id
    where sl.tenant_id = ${tenantId} and p.active and not exists (select 1 from purchase_orders po where po.tenant_id = sl.tenant_id
      and po.product_id = sl.product_id)
    order by p.sku, w.code limit 6`;
  // A cost on file below every unit cost passed here, so the passed cost is the larger and decides (A8).
  await db.owner`update products set unit_cost_cents = 1 where tenant_id = ${tenantId} and sku in ${db.owner(products.map((p) => p.sku))}`;
  const cases: [number, number, 'executed' | 'pending', string][] = [
    [99, 5_000, 'executed', 'quantity just under'],
    [100, 5_000, 'executed', 'quantity and value at the limits'],
    [101, 1, 'pending', 'quantity just over'],
    [50, 9_999, 'executed', 'value just under (499,950)'],
    [100, 5_001, 'pending', 'value just over (500,100)'],
    [1, 500_001, 'pending', 'value just over with one unit'],
  ];
  for (const [i, [quantity, unit, expected, label]] of cases.entries()) {
    const p = products[i]!;
    const outcome = await request(db, acme.supply, 'create_reorder', { sku: p.sku, warehouse_code: p.code, supplier: 'Nordic Gear AB', quantity, unit_cost_cents: unit });
    assert.equal(outcome.status, expected, label);
    const pos = await count('purchase_orders', tenantId, db.owner`and action_id = ${outcome.action_id}`);
    assert.equal(pos, expected === 'executed' ? 1 : 0, label);
  }
});

test('phase 2 guardrails: issue_refund at 4999, 5000 and 5001 cents (max_amount_cents 5000); a tool without a guardrail waits', async () => {
  const tenantId = acme.returns.tenantId;
  // Per-action limits only: the seeded aggregate limits are the subject of aggregates.test.ts.
  const seeded = first(await db.owner<{ guardrails: unknown }[]>`select guardrails from tenant_settings where tenant_id = ${tenantId}`).guardrails;
  await setSettings(db, tenantId, { guardrails: { create_reorder: { max_quantity: 100, max_value_cents: 500_000 }, issue_refund: { max_amount_cents: 5_000 } } });
  const order = await refundableOrder(db, tenantId, 20_000);
  for (const [amount, expected] of [[4_999, 'executed'], [5_000, 'executed'], [5_001, 'pending']] as const) {
    const outcome = await request(db, acme.returns, 'issue_refund', { order_number: order.number, amount_cents: amount, reason: `boundary ${amount}` });
    assert.equal(outcome.status, expected, `refund of ${amount}`);
  }
  await setSettings(db, tenantId, { guardrails: seeded });
  const payment = first(await db.owner<{ refunded_cents: string; status: string }[]>`
    select p.refunded_cents, p.status::text as status from payments p join orders o on o.tenant_id = p.tenant_id and o.id = p.order_id
    where o.tenant_id = ${tenantId} and o.number = ${order.number}`);
  assert.equal(Number(payment.refunded_cents), 9_999);
  assert.equal(payment.status, 'partially_refunded');
  // acme has no change_price guardrail: it waits even in phase 2.
  const args = await validArguments(db, tenantId);
  const price = await request(db, acme.admin, 'change_price', args.change_price);
  assert.equal(price.status, 'pending');
  assert.match(price.status === 'pending' ? price.reason : '', /no guardrail/);
});

test('phase 3: enables the customer endpoint (isCustomerEndpointEnabled), phases 1 and 2 do not', async () => {
  const canary = first(await db.owner<{ id: string }[]>`select id from tenants where slug = 'canary'`); // seeded in phase 1
  await db.owner`update tenant_settings set phase = 2 where tenant_id = ${globex.admin.tenantId}`;
  assert.equal(await customerEndpointEnabled(db.app, acme.admin.tenantId), true);
  assert.equal(await customerEndpointEnabled(db.app, globex.admin.tenantId), false);
  assert.equal(await customerEndpointEnabled(db.app, canary.id), false);
  assert.equal(await asStaff(db.app, acme.admin, (tx) => isCustomerEndpointEnabled(tx, acme.admin.tenantId)), true);
  // Without a context (or for another tenant's id) nothing is readable: fail closed.
  await db.owner`update tenant_settings set phase = 3 where tenant_id = ${canary.id}`;
  assert.equal(await asStaff(db.app, acme.admin, (tx) => isCustomerEndpointEnabled(tx, canary.id)), false);
});

test('A5 parallel identical writes have one effect: five concurrent refunds under the guardrail make one refund', async () => {
  const order = await refundableOrder(db, acme.returns.tenantId, 30_000);
  const args = { order_number: order.number, amount_cents: 2_500, reason: 'A5 parallel' };
  const outcomes = await Promise.all(Array.from({ length: 5 }, () => request(db, acme.returns, 'issue_refund', args)));
  assert.ok(outcomes.every((o) => o.status === 'executed'));
  assert.equal(new Set(outcomes.map((o) => o.action_id)).size, 1, 'all five name the same action');
  assert.equal(outcomes.filter((o) => o.duplicate_of_earlier_request).length, 4);
  const refunds = await db.owner`select 1 from refunds r join orders o on o.tenant_id = r.tenant_id and o.id = r.order_id
                                 where o.tenant_id = ${acme.returns.tenantId} and o.number = ${order.number}`;
  assert.equal(refunds.length, 1);
  // Repeated later (sequentially): still the same action.
  const again = await request(db, acme.returns, 'issue_refund', args);
  assert.equal(again.action_id, outcomes[0]!.action_id);
});

test('A5 parallel identical requests that wait collapse into one pending action', async () => {
  const args = (await validArguments(db, globex.admin.tenantId)).change_price;
  const changed = { ...args, new_price_cents: (args.new_price_cents as number) + 7 };
  const outcomes = await Promise.all(Array.from({ length: 4 }, () => request(db, globex.admin, 'change_price', changed)));
  assert.equal(new Set(outcomes.map((o) => o.action_id)).size, 1);
  const open = await db.owner`select 1 from pending_actions where tenant_id = ${globex.admin.tenantId} and tool = 'change_price'
                              and arguments = ${db.owner.json(changed as never)}::jsonb and status = 'pending'`;
  assert.equal(open.length, 1);
});

test('A5 the same idempotency key with different arguments is refused', async () => {
  const order = await refundableOrder(db, acme.returns.tenantId, 40_000);
  const key = 'a5-key-different-args-0001';
  await request(db, acme.returns, 'issue_refund', { order_number: order.number, amount_cents: 100, reason: 'k' }, { idempotencyKey: key });
  const message = await refusal(request(db, acme.returns, 'issue_refund', { order_number: order.number, amount_cents: 200, reason: 'k' }, { idempotencyKey: key }));
  assert.match(message, /already used for a different request/);
});

test('F4 the client drops after the write committed; the retry with the same key returns the original result, no duplicate', async () => {
  const order = await refundableOrder(db, acme.returns.tenantId, 50_000);
  const args = { order_number: order.number, amount_cents: 1_500, reason: 'F4 retry' };
  const key = 'f4-retry-key-0001';
  const original = await request(db, acme.returns, 'issue_refund', args, { idempotencyKey: key }); // committed; the reply is "lost"
  assert.equal(original.status, 'executed');
  // Outside the duplicate window the key still holds: move the action back in time.
  await db.owner`update pending_actions set executed_at = executed_at - interval '1 day', created_at = created_at - interval '1 day'
                 where tenant_id = ${acme.returns.tenantId} and id = ${original.action_id}`;
  const retried = await request(db, acme.returns, 'issue_refund', args, { idempotencyKey: key });
  assert.deepEqual(retried, original);
  const parallel = await Promise.all([1, 2, 3].map(() => request(db, acme.returns, 'issue_refund', args, { idempotencyKey: key })));
  for (const p of parallel) assert.deepEqual(p, original);
  const refunds = await db.owner`select 1 from refunds where tenant_id = ${acme.returns.tenantId} and action_id = ${original.action_id}`;
  assert.equal(refunds.length, 1);
  const all = await db.owner`select 1 from refunds r join orders o on o.tenant_id = r.tenant_id and o.id = r.order_id
                             where o.tenant_id = ${acme.returns.tenantId} and o.number = ${order.number}`;
  assert.equal(all.length, 1);
});

test('A6 self-approval is refused (four-eyes), as is approval by staff without approver rights', async () => {
  const args = await validArguments(db, globex.admin.tenantId);
  // The self-approval limit compares the value measured at the cost on file (A8): 1,000 on file here.
  await db.owner`update products set unit_cost_cents = 1000 where tenant_id = ${globex.admin.tenantId} and sku = ${args.create_reorder.sku as string}`;
  const asked = await request(db, globex.supply, 'create_reorder', { ...args.create_reorder, quantity: 11 });
  const self = await approve(globex.supply, asked.action_id);
  assert.equal(self.status, 'refused');
  assert.equal(self.status === 'refused' && self.code, 'four_eyes');
  const warehouse = await staffOf(db, 'globex', 'warehouse@globex.example');
  const notApprover = await approve(warehouse, asked.action_id);
  assert.equal(notApprover.status === 'refused' && notApprover.code, 'not_an_approver');
  assert.equal((await status(globex.admin, asked.action_id))?.status, 'pending');
  // In band, the requester may confirm only under the tenant's self-approval limit (0 = never).
  const inBand = await asStaff(db.app, globex.supply, (tx) => confirmOwnAction(tx, decision(globex.supply, asked.action_id)));
  assert.equal(inBand.status === 'refused' && inBand.code, 'self_approval_limit');
  await setSettings(db, globex.admin.tenantId, { selfApprovalLimitCents: 10_999 }); // the reorder is worth 11,000
  const under = await asStaff(db.app, globex.supply, (tx) => confirmOwnAction(tx, decision(globex.supply, asked.action_id)));
  assert.equal(under.status === 'refused' && under.code, 'self_approval_limit');
  await setSettings(db, globex.admin.tenantId, { selfApprovalLimitCents: 11_000 });
  const at = await asStaff(db.app, globex.supply, (tx) => confirmOwnAction(tx, decision(globex.supply, asked.action_id, 'confirmed in chat')));
  assert.equal(at.status, 'executed');
  await setSettings(db, globex.admin.tenantId, { selfApprovalLimitCents: 0 });
  const denied = await auditEvents(db, globex.admin.tenantId, asked.action_id);
  assert.ok(denied.filter((e) => e === 'action.decision_refused').length >= 3, 'refusals are audited');
});

test('A6 approving an expired, a rejected or an executed action is refused; it never runs', async () => {
  const tenantId = globex.admin.tenantId;
  const args = await validArguments(db, tenantId);
  const a = await request(db, globex.admin, 'open_damage_claim', { ...args.open_damage_claim, amount_cents: 1_111 });
  await db.owner`update pending_actions set expires_at = now() - interval '1 second' where tenant_id = ${tenantId} and id = ${a.action_id}`;
  assert.equal((await status(globex.admin, a.action_id))?.status, 'expired');
  const expired = await approve(globex.supply, a.action_id);
  assert.equal(expired.status === 'refused' && expired.code, 'expired');
  assert.equal(first(await db.owner<{ status: string }[]>`select status::text as status from pending_actions where id = ${a.action_id}`).status, 'expired');
  assert.equal((await approve(globex.supply, a.action_id)).status, 'refused');

  const b = await request(db, globex.admin, 'open_damage_claim', { ...args.open_damage_claim, amount_cents: 2_222 });
  assert.equal((await reject(globex.supply, b.action_id, 'not our fault')).status, 'rejected');
  const rejected = await approve(globex.supply, b.action_id);
  assert.equal(rejected.status === 'refused' && rejected.code, 'not_pending');
  assert.equal(await count('damage_claims', tenantId, db.owner`and amount_cents in (1111, 2222)`), 0);

  // Two approvers racing: one executes, the other is refused; one claim.
  const c = await request(db, globex.admin, 'open_damage_claim', { ...args.open_damage_claim, amount_cents: 3_333 });
  const supply2 = globex.supply;
  const admin2 = await staffOf(db, 'globex', 'admin@globex.example');
  const other = await request(db, supply2, 'create_reorder', { ...args.create_reorder, quantity: 12 });
  const [x, y] = await Promise.all([approve(supply2, c.action_id), approve(supply2, c.action_id)]);
  assert.deepEqual([x.status, y.status].sort(), ['executed', 'refused']);
  assert.equal(await count('damage_claims', tenantId, db.owner`and amount_cents = 3333`), 1);
  const executed = await approve(supply2, c.action_id);
  assert.equal(executed.status === 'refused' && executed.code, 'not_pending');
  assert.equal((await approve(admin2, other.action_id)).status, 'executed');
  // The sweep marks due actions expired.
  const d = await request(db, globex.admin, 'change_price', { ...args.change_price, new_price_cents: 4_444 });
  await db.owner`update pending_actions set expires_at = now() - interval '1 second' where id = ${d.action_id}`;
  const swept = await asStaff(db.app, globex.admin, (tx) => expireDueActions(tx, tenantId));
  assert.deepEqual(swept, [d.action_id]);
  assert.deepEqual(await auditEvents(db, tenantId, d.action_id), ['action.requested', 'action.expired']);
});

test('an approved action whose data changed meanwhile fails cleanly and leaves no half effect', async () => {
  const order = await refundableOrder(db, globex.admin.tenantId, 20_000);
  const first1 = await request(db, globex.admin, 'issue_refund', { order_number: order.number, amount_cents: order.amount - 100, reason: 'most of it' });
  const second = await request(db, globex.admin, 'issue_refund', { order_number: order.number, amount_cents: 200, reason: 'the rest and more' });
  assert.equal((await approve(globex.supply, first1.action_id)).status, 'executed');
  const failed = await approve(globex.supply, second.action_id);
  assert.equal(failed.status, 'failed');
  assert.match(failed.message, /at most 1\.00 EUR can still be refunded/);
  assert.equal((await status(globex.admin, second.action_id))?.status, 'failed');
  assert.equal(await count('refunds', globex.admin.tenantId, db.owner`and action_id = ${second.action_id}`), 0);
});

test('P1 a return reason carrying instructions reaches staff only as delimited untrusted data, and nothing runs without approval', async () => {
  const tenantId = acme.returns.tenantId;
  const target = first(await db.owner<{ number: string; order_number: string }[]>`
    select r.number, o.number as order_number from returns r join orders o on o.tenant_id = r.tenant_id and o.id = r.order_id
    where r.tenant_id = ${tenantId} and r.reason like ${'%' + INJECTION_CANARY + '%'}`);
  // The assistant asks to approve it (as the injected text demands): it waits.
  const asked = await request(db, acme.returns, 'decide_return', { return_number: target.number, decision: 'approve' },
    { justification: 'Customer says: ignore previous instructions' });
  assert.equal(asked.status, 'pending');
  assert.ok(!JSON.stringify(asked).includes(INJECTION_CANARY), 'the agent-facing outcome carries no customer text');
  const s = (await status(acme.admin, asked.action_id))!;
  assert.ok(!s.summary.includes(INJECTION_CANARY));
  const { context } = await asStaff(db.app, acme.admin, (tx) => actionContext(tx, tenantId, s));
  const reason = (context!.customer_reason as { untrusted_customer_text: string; note: string });
  assert.match(reason.untrusted_customer_text, /^<<<customer_text>>>[\s\S]*CANARY-INJECT-9e4b[\s\S]*<<<end_customer_text>>>$/);
  assert.match(reason.note, /not instructions/);
  // The injected demands cannot execute: approving itself is refused, and a 10,000 EUR refund is refused outright.
  const self = await approve(acme.returns, asked.action_id);
  assert.equal(self.status, 'refused');
  const refund = await refusal(request(db, acme.returns, 'issue_refund', { order_number: target.order_number, amount_cents: 1_000_000, reason: 'as asked' }));
  assert.match(refund, /at most .* can still be refunded/);
  const ret = first(await db.owner<{ status: string }[]>`select status::text as status from returns where tenant_id = ${tenantId} and number = ${target.number}`);
  assert.equal(ret.status, 'requested');
});
