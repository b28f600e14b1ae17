// Every write tool's executor: its effect when it runs, and each refusal an agent can act on.
// The tenant is put in phase 2 with guardrails wide enough that valid requests run at once.
import assert from 'node:assert/strict';
import { before, test } from 'node:test';
import { createTestDatabase, first, type TestDatabase } from '../support/database.js';
import { validArguments } from './fixtures.js';
import { refusal, request, setSettings, staffOf, type StaffMember } from './helpers.js';
import type { WriteTool } from '../../src/actions/guardrails.js';

let db: TestDatabase;
let admin: StaffMember;
let args: Record<WriteTool, Record<string, unknown>>;
const WIDE = 1_000_000_000;

before(async () => {
  db = await createTestDatabase();
  admin = await staffOf(db, 'globex', 'admin@globex.example');
  await setSettings(db, admin.tenantId, {
    phase: 2,
    guardrails: {
      create_reorder: { max_quantity: WIDE, max_value_cents: WIDE }, reroute_delivery: { run_at_once: true },
      decide_return: { max_value_cents: WIDE }, open_damage_claim: { max_amount_cents: WIDE }, resolve_damage_claim: { max_amount_cents: WIDE },
      issue_refund: { max_amount_cents: WIDE }, change_price: { max_change_percent: 1000 },
    },
  });
  args = await validArguments(db, admin.tenantId);
});

const run = (tool: string, a: unknown) => request(db, admin, tool, a);
const refused = (tool: string, a: unknown) => refusal(run(tool, a));

test('every tool refuses unknown or malformed arguments (strict schemas) and unknown tools', async () => {
  assert.match(await refused('create_reorder', { ...args.create_reorder, extra: 1 }), /invalid arguments for create_reorder: .*extra/i);
  assert.match(await refused('issue_refund', { ...args.issue_refund, amount_cents: -5 }), /invalid arguments for issue_refund: amount_cents/);
  assert.match(await refused('drop_tables', {}), /not a write tool/);
  const warehouse = await staffOf(db, 'globex', 'warehouse@globex.example');
  assert.match(await refusal(request(db, warehouse, 'issue_refund', args.issue_refund)), /may not request issue_refund \(needs payments:refund\)/);
});

test('create_reorder: places a purchase order; refuses unknown SKU, warehouse, supplier, a second open order, and a missing unit cost', async () => {
  const a = args.create_reorder as { sku: string; warehouse_code: string; supplier: string };
  assert.match(await refused('create_reorder', { ...a, sku: 'NOPE-999' }), /no product with SKU NOPE-999/);
  assert.match(await refused('create_reorder', { ...a, warehouse_code: 'XXX-9' }), /no warehouse XXX-9: use one of MAD-1, MIL-1, VIE-1/);
  assert.match(await refused('create_reorder', { ...a, supplier: 'Nobody Ltd' }), /no supplier named "Nobody Ltd": use one of/);
  // No purchase order and no catalogue cost on file: the unit cost must be passed.
  const [cost] = await db.owner<{ unit_cost_cents: string | null }[]>`
    update products p set unit_cost_cents = null from products old
    where p.tenant_id = ${admin.tenantId} and p.sku = ${a.sku} and old.tenant_id = p.tenant_id and old.id = p.id returning old.unit_cost_cents`;
  assert.match(await refused('create_reorder', { ...a, unit_cost_cents: undefined }), /pass unit_cost_cents/);
  await db.owner`update products set unit_cost_cents = ${cost!.unit_cost_cents} where tenant_id = ${admin.tenantId} and sku = ${a.sku}`;
  const withdrawn = first(await db.owner<{ sku: string }[]>`select sku from products where tenant_id = ${admin.tenantId} and not active limit 1`);
  assert.match(await refused('create_reorder', { ...a, sku: withdrawn.sku }), /withdrawn from sale/);
  const done = await run('create_reorder', args.create_reorder);
  assert.equal(done.status, 'executed');
  const result = (done as unknown as { result: { purchase_order_number: string; total: { amount_cents: number } } }).result;
  assert.match(result.purchase_order_number, /^PO-\d+$/);
  assert.equal(result.total.amount_cents, 10_000);
  const po = first(await db.owner<{ quantity: number; action_id: string; created_by: string }[]>`
    select quantity, action_id, created_by from purchase_orders where tenant_id = ${admin.tenantId} and number = ${result.purchase_order_number}`);
  assert.deepEqual(po, { quantity: 10, action_id: done.action_id, created_by: admin.staffId });
  assert.match(await refused('create_reorder', { ...args.create_reorder, quantity: 20 }), /purchase order PO-\d+ .* is still sent/);
});

test('reroute_delivery: reassigns a driver and reroutes; refuses delivered shipments, other carriers\' or off-duty drivers, no-ops', async () => {
  const a = args.reroute_delivery as { tracking_number: string; driver_name: string };
  assert.match(await refused('reroute_delivery', { tracking_number: a.tracking_number }), /nothing to change/);
  assert.match(await refused('reroute_delivery', { tracking_number: 'NOPE123' , driver_name: 'X' }), /no shipment with tracking number NOPE123/);
  assert.match(await refused('reroute_delivery', { ...a, driver_name: 'Nobody Driver' }), /has no driver named "Nobody Driver": on-duty drivers of/);
  const offDuty = first(await db.owner<{ name: string; tracking_number: string }[]>`
    select d.name, s.tracking_number from drivers d join shipments s on s.tenant_id = d.tenant_id and s.carrier_id = d.carrier_id
    where s.tenant_id = ${admin.tenantId} and s.status <> 'delivered' and not d.active limit 1`);
  assert.match(await refused('reroute_delivery', { tracking_number: offDuty.tracking_number, driver_name: offDuty.name }), /is off duty/);
  const otherCarrier = first(await db.owner<{ name: string }[]>`
    select d.name from drivers d join shipments s on s.tenant_id = d.tenant_id and s.carrier_id <> d.carrier_id
    where s.tenant_id = ${admin.tenantId} and s.tracking_number = ${a.tracking_number} and d.active limit 1`);
  assert.match(await refused('reroute_delivery', { ...a, driver_name: otherCarrier.name }), /has no driver named/);
  const delivered = first(await db.owner<{ tracking_number: string }[]>`select tracking_number from shipments where tenant_id = ${admin.tenantId} and status = 'delivered' limit 1`);
  assert.match(await refused('reroute_delivery', { tracking_number: delivered.tracking_number, driver_name: a.driver_name }), /already delivered/);
  const done = await run('reroute_delivery', { ...a, new_address: { line1: 'Gran Via 1', postal_code: '28013', city: 'Madrid', country: 'ES' } });
  assert.equal(done.status, 'executed');
  const s = first(await db.owner<{ driver: string; city: string }[]>`
    select d.name as driver, o.shipping_address->>'city' as city from shipments s join drivers d on d.tenant_id = s.tenant_id and d.id = s.driver_id
    join orders o on o.tenant_id = s.tenant_id and o.id = s.order_id where s.tenant_id = ${admin.tenantId} and s.tracking_number = ${a.tracking_number}`);
  assert.deepEqual(s, { driver: a.driver_name, city: 'Madrid' });
  assert.match(await refused('reroute_delivery', a), /already has shipment/);
});

test('decide_return: approves or rejects; refuses decided returns, non-returnable lines, rejections without a note', async () => {
  const a = args.decide_return as { return_number: string };
  assert.match(await refused('decide_return', { return_number: 'RMA-0000', decision: 'approve' }), /no return RMA-0000/);
  assert.match(await refused('decide_return', { ...a, decision: 'reject' }), /a rejection needs a note/);
  const blocked = await db.owner<{ number: string }[]>`
    select r.number from returns r where r.tenant_id = ${admin.tenantId} and r.status = 'requested' and exists (
      select 1 from return_lines rl join order_lines ol on ol.tenant_id = rl.tenant_id and ol.order_id = rl.order_id and ol.line_no = rl.line_no
      join products p on p.tenant_id = ol.tenant_id and p.id = ol.product_id where rl.tenant_id = r.tenant_id and rl.return_id = r.id and not p.returnable) limit 1`;
  if (blocked[0]) assert.match(await refused('decide_return', { return_number: blocked[0].number, decision: 'approve' }), /non-returnable/);
  const done = await run('decide_return', a);
  assert.equal(done.status, 'executed');
  const r = first(await db.owner<{ status: string; decided_by: string }[]>`select status::text as status, decided_by from returns where tenant_id = ${admin.tenantId} and number = ${a.return_number}`);
  assert.deepEqual(r, { status: 'approved', decided_by: admin.staffId });
  assert.match(await refused('decide_return', { ...a, decision: 'reject', note: 'changed my mind' }), /already approved: only a requested return can be decided/);
});

test('open_damage_claim: opens a claim; refuses shipments in transit, a second open claim, and more than the order is worth', async () => {
  const a = args.open_damage_claim as { tracking_number: string };
  const inTransit = first(await db.owner<{ tracking_number: string }[]>`select tracking_number from shipments where tenant_id = ${admin.tenantId} and status = 'in_transit' limit 1`);
  assert.match(await refused('open_damage_claim', { ...a, tracking_number: inTransit.tracking_number }), /is in_transit: a damage claim can be opened once/);
  assert.match(await refused('open_damage_claim', { ...a, amount_cents: 999_999_999 }), /more than order .* is worth/);
  const done = await run('open_damage_claim', a);
  assert.equal(done.status, 'executed');
  const number = (done as unknown as { result: { claim_number: string } }).result.claim_number;
  const c = first(await db.owner<{ status: string; amount_cents: string }[]>`select status::text as status, amount_cents from damage_claims where tenant_id = ${admin.tenantId} and number = ${number}`);
  assert.deepEqual({ ...c, amount_cents: Number(c.amount_cents) }, { status: 'open', amount_cents: 1_000 });
  assert.match(await refused('open_damage_claim', { ...a, amount_cents: 1_001 }), new RegExp(`claim ${number} is already open`));
});

test('resolve_damage_claim: resolves an open claim; refuses unknown and already resolved claims', async () => {
  const a = args.resolve_damage_claim as { claim_number: string };
  assert.match(await refused('resolve_damage_claim', { ...a, claim_number: 'CLM-0000' }), /no damage claim CLM-0000/);
  const done = await run('resolve_damage_claim', a);
  assert.equal(done.status, 'executed');
  const c = first(await db.owner<{ status: string; resolution: string }[]>`select status::text as status, resolution from damage_claims where tenant_id = ${admin.tenantId} and number = ${a.claim_number}`);
  assert.deepEqual(c, { status: 'resolved_paid', resolution: 'Carrier paid in full' });
  assert.match(await refused('resolve_damage_claim', { ...a, outcome: 'rejected' }), /already resolved paid/);
});

test('issue_refund: refunds and updates the payment; refuses unpaid, fully refunded, unknown orders and amounts above what is refundable', async () => {
  const a = args.issue_refund as { order_number: string };
  assert.match(await refused('issue_refund', { ...a, order_number: 'ORD-0000' }), /no order ORD-0000/);
  const unpaid = first(await db.owner<{ number: string }[]>`select o.number from orders o join payments p on p.tenant_id = o.tenant_id and p.order_id = o.id
    where o.tenant_id = ${admin.tenantId} and p.status in ('authorized', 'failed') limit 1`);
  assert.match(await refused('issue_refund', { ...a, order_number: unpaid.number }), /not captured: nothing was charged/);
  const full = first(await db.owner<{ number: string }[]>`select o.number from orders o join payments p on p.tenant_id = o.tenant_id and p.order_id = o.id
    where o.tenant_id = ${admin.tenantId} and p.status = 'refunded' limit 1`);
  assert.match(await refused('issue_refund', { ...a, order_number: full.number }), /already fully refunded/);
  assert.match(await refused('issue_refund', { ...a, amount_cents: 999_999_999 }), /at most .* can still be refunded .* lower amount_cents/);
  const done = await run('issue_refund', a);
  assert.equal(done.status, 'executed');
  const p = first(await db.owner<{ refunded_cents: string; status: string }[]>`select p.refunded_cents, p.status::text as status from payments p
    join orders o on o.tenant_id = p.tenant_id and o.id = p.order_id where o.tenant_id = ${admin.tenantId} and o.number = ${a.order_number}`);
  assert.deepEqual({ ...p, refunded_cents: Number(p.refunded_cents) }, { refunded_cents: 1_000, status: 'partially_refunded' });
});

test('change_price: keeps the history and sets the new current price; refuses unknown SKUs and no-op changes', async () => {
  const a = args.change_price as { sku: string; new_price_cents: number };
  assert.match(await refused('change_price', { ...a, sku: 'NOPE-1' }), /no product with SKU NOPE-1/);
  assert.match(await refused('change_price', { ...a, new_price_cents: a.new_price_cents - 100 }), /already costs .*nothing to change/);
  const done = await run('change_price', a);
  assert.equal(done.status, 'executed');
  const prices = await db.owner<{ amount_cents: string; valid_to: Date | null; changed_by: string | null }[]>`
    select pp.amount_cents, pp.valid_to, pp.changed_by from product_prices pp join products p on p.tenant_id = pp.tenant_id and p.id = pp.product_id
    where p.tenant_id = ${admin.tenantId} and p.sku = ${a.sku} order by pp.valid_from desc limit 2`;
  assert.equal(Number(prices[0]!.amount_cents), a.new_price_cents);
  assert.equal(prices[0]!.valid_to, null);
  assert.equal(prices[0]!.changed_by, admin.staffId);
  assert.equal(Number(prices[1]!.amount_cents), a.new_price_cents - 100);
  assert.ok(prices[1]!.valid_to instanceof Date);
});
