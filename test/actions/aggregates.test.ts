// Guardrails that cannot be walked around (src/actions/guardrails.ts, aggregates.ts), against real
// PostgreSQL: A8 — a measure comes from the shop's data and an argument can only make it larger;
// A7 — aggregate limits per order, customer, product, requester and shop-day, counted over executed
// and pending actions, decided so that concurrent requests cannot both slip under a limit.
import assert from 'node:assert/strict';
import { before, test } from 'node:test';
import { rejectAction } from '../../src/actions/engine.js';
import { getActionStatus } from '../../src/actions/status.js';
import { createTestDatabase, first, type TestDatabase } from '../support/database.js';
import { asStaff, request, setSettings, staffOf, type StaffMember } from './helpers.js';

let db: TestDatabase;
let acme: { admin: StaffMember; supply: StaffMember; returns: StaffMember };
let globex: { admin: StaffMember; returns: StaffMember };
let seededAcme: unknown;

before(async () => {
  db = await createTestDatabase();
  acme = {
    admin: await staffOf(db, 'acme', 'admin@acme.example'),
    supply: await staffOf(db, 'acme', 'supply@acme.example'),
    returns: await staffOf(db, 'acme', 'returns@acme.example'),
  };
  globex = { admin: await staffOf(db, 'globex', 'admin@globex.example'), returns: await staffOf(db, 'globex', 'returns@globex.example') };
  seededAcme = first(await db.owner<{ guardrails: unknown }[]>`select guardrails from tenant_settings where tenant_id = ${acme.admin.tenantId}`).guardrails;
});

/** Orders with a captured, unrefunded payment of at least minCents, none used by an earlier test. */
const used = new Set<string>();
async function freshOrders(tenantId: string, n: number, minCents = 20_000, sameCustomer = false): Promise<{ number: string; customer: string }[]> {
  const rows = await db.owner<{ number: string; customer_id: string }[]>`
    select o.number, o.customer_id from orders o join payments p on p.tenant_id = o.tenant_id and p.order_id = o.id
    where o.tenant_id = ${tenantId} and p.status = 'captured' and p.refunded_cents = 0 and p.amount_cents >= ${minCents}
    order by o.number`;
  const free = rows.filter((r) => !used.has(r.number));
  let pick = free.slice(0, n);
  if (sameCustomer) {
    const byCustomer = new Map<string, typeof free>();
    for (const r of free) byCustomer.set(r.customer_id, [...(byCustomer.get(r.customer_id) ?? []), r]);
    pick = [...byCustomer.values()].find((list) => list.length >= n)?.slice(0, n) ?? [];
  }
  assert.equal(pick.length, n, `${n} refundable orders${sameCustomer ? ' of one customer' : ''}`);
  for (const r of pick) used.add(r.number);
  return pick.map((r) => ({ number: r.number, customer: r.customer_id }));
}

const refund = (s: StaffMember, order: string, cents: number, reason: string) =>
  request(db, s, 'issue_refund', { order_number: order, amount_cents: cents, reason });

async function reasonOf(s: StaffMember, id: string): Promise<string | null> {
  return (await asStaff(db.app, s, (tx) => getActionStatus(tx, s.tenantId, id)))?.wait_reason ?? null;
}

/** A stocked product without any purchase order, with its catalogue cost set to `cost` (null: none on file). */
async function productWithCost(tenantId: string, cost: number | null, skip: string[] = []): Promise<{ sku: string; warehouses: string[] }> {
  const rows = await db.owner<{ sku: string; code: string }[]>`
    select p.sku, w.code from stock_levels sl join products p on p.tenant_id = sl.tenant_id and p.id = sl.product_id
    join warehouses w on w.tenant_id = sl.tenant_id and w.id = sl.warehouse_id
    where sl.tenant_id = ${tenantId} and p.active
      and not exists (select 1 from purchase_orders po where po.tenant_id = sl.tenant_id and po.product_id = sl.product_id)
    order by p.sku desc, w.code`;
  const sku = rows.find((r) => !skip.includes(r.sku))!.sku;
  await db.owner`update products set unit_cost_cents = ${cost} where tenant_id = ${tenantId} and sku = ${sku}`;
  return { sku, warehouses: rows.filter((r) => r.sku === sku).map((r) => r.code) };
}

const reorder = (sku: string, warehouse: string, quantity: number, unit?: number) =>
  request(db, acme.supply, 'create_reorder', { sku, warehouse_code: warehouse, supplier: 'Nordic Gear AB', quantity, ...(unit === undefined ? {} : { unit_cost_cents: unit }) });

const REORDER = { max_quantity: 100, max_value_cents: 500_000 };
const skus: string[] = [];

test('A8 a reorder at unit cost 1 is measured by the cost on file: the 100-tent reorder waits', async () => {
  await setSettings(db, acme.supply.tenantId, { phase: 2, guardrails: { create_reorder: REORDER } });
  const p = await productWithCost(acme.supply.tenantId, 20_000);
  skus.push(p.sku);
  const cheap = await reorder(p.sku, p.warehouses[0]!, 100, 1);
  assert.equal(cheap.status, 'pending', 'quantity 100 × cost on file 200.00 = 20,000.00 > 5,000.00');
  assert.match(cheap.status === 'pending' ? cheap.reason : '', /reorder value 20000\.00 EUR is above the limit 5000\.00 EUR \(max_value_cents\)/);
  assert.match(cheap.summary, /20000\.00 EUR at the cost on file/);
  assert.equal(await reasonOf(acme.supply, cheap.action_id), cheap.status === 'pending' ? cheap.reason : '', 'the reason is stored with the action');
  assert.equal(Number(first(await db.owner<{ n: string }[]>`select count(*) as n from purchase_orders where action_id = ${cheap.action_id}`).n), 0);
  // At the limit by the cost on file (25 × 200.00 = 5,000.00) it runs, whatever lower cost is named.
  const q = await productWithCost(acme.supply.tenantId, 20_000, skus);
  skus.push(q.sku);
  assert.equal((await reorder(q.sku, q.warehouses[0]!, 25, 1)).status, 'executed');
  const r = await productWithCost(acme.supply.tenantId, 20_000, skus);
  skus.push(r.sku);
  assert.equal((await reorder(r.sku, r.warehouses[0]!, 26, 1)).status, 'pending', 'one unit over at the cost on file');
});

test('A8 a unit cost above the cost on file makes the measure larger; the highest recent purchase-order cost counts too', async () => {
  const tenantId = acme.supply.tenantId;
  await setSettings(db, tenantId, { phase: 2, guardrails: { create_reorder: REORDER } });
  const p = await productWithCost(tenantId, 100, skus);
  skus.push(p.sku);
  const over = await reorder(p.sku, p.warehouses[0]!, 10, 50_001);
  assert.equal(over.status, 'pending', '10 × 500.01 > 5,000.00 although the cost on file is 1.00');
  const at = await reorder(p.sku, p.warehouses[1]!, 10, 50_000);
  assert.equal(at.status, 'executed', '10 × 500.00 = 5,000.00 at the limit');
  // A received purchase order at 600.00 is on file: 10 units now measure 6,000.00 whatever is passed.
  const q = await productWithCost(tenantId, 100, skus);
  skus.push(q.sku);
  await db.owner`
    insert into purchase_orders (tenant_id, number, supplier_id, warehouse_id, product_id, quantity, unit_cost_cents, status, created_at)
    select ${tenantId}, 'PO-TEST-A8', s.id, w.id, p.id, 10, 60000, 'received', now() - interval '30 days'
    from products p, suppliers s, warehouses w
    where p.tenant_id = ${tenantId} and p.sku = ${q.sku} and s.tenant_id = ${tenantId} and s.name = 'Nordic Gear AB'
      and w.tenant_id = ${tenantId} and w.code = ${q.warehouses[0]!}`;
  const history = await reorder(q.sku, q.warehouses[0]!, 10, 1);
  assert.equal(history.status, 'pending');
  assert.match(history.status === 'pending' ? history.reason : '', /6000\.00 EUR is above the limit/);
});

test('A8 no cost on file: the value cannot be measured and the reorder waits, whatever unit cost is named', async () => {
  await setSettings(db, acme.supply.tenantId, { phase: 2, guardrails: { create_reorder: REORDER } });
  const p = await productWithCost(acme.supply.tenantId, null, skus);
  skus.push(p.sku);
  const r = await reorder(p.sku, p.warehouses[0]!, 1, 1);
  assert.equal(r.status, 'pending');
  assert.match(r.status === 'pending' ? r.reason : '', /value_cents could not be measured/);
});

test('A7 the issue\'s exploit: four 50.00 refunds on one order by a returns specialist — the first runs, the rest wait naming the per-order limit', async () => {
  const tenantId = acme.returns.tenantId;
  const seeded = seededAcme as Record<string, Record<string, number>>;
  assert.equal(seeded.issue_refund?.per_order_max_amount_cents, 5_000, 'the demo seed limits refunds per order');
  await setSettings(db, tenantId, { phase: 3, guardrails: seeded });
  const [order] = await freshOrders(tenantId, 1);
  const outcomes = [];
  for (const reason of ['damaged', 'late', 'goodwill', 'wrong colour']) outcomes.push(await refund(acme.returns, order!.number, 5_000, reason));
  assert.deepEqual(outcomes.map((o) => o.status), ['executed', 'pending', 'pending', 'pending']);
  for (const o of outcomes.slice(1)) {
    assert.match(o.status === 'pending' ? o.reason : '', /per-order refund total \d+\.00 EUR would exceed 50\.00 EUR \(per_order_max_amount_cents\)/);
    assert.match(await reasonOf(acme.returns, o.action_id) ?? '', /per-order refund total/);
  }
  // Counted pending: the second waits at 100.00, the third at 150.00 (50.00 refunded + 50.00 pending + itself).
  assert.match(outcomes[1]!.status === 'pending' ? outcomes[1]!.reason : '', /total 100\.00 EUR/);
  assert.match(outcomes[2]!.status === 'pending' ? outcomes[2]!.reason : '', /total 150\.00 EUR/);
});

test('A7 per order: at the limit runs, one cent over waits; refunds already on the payment count', async () => {
  const tenantId = acme.returns.tenantId;
  await setSettings(db, tenantId, { phase: 2, guardrails: { issue_refund: { max_amount_cents: 5_000, per_order_max_amount_cents: 5_000 } } });
  const [a, b] = await freshOrders(tenantId, 2);
  assert.equal((await refund(acme.returns, a!.number, 3_000, 'part one')).status, 'executed');
  assert.equal((await refund(acme.returns, a!.number, 2_000, 'part two')).status, 'executed', '30.00 + 20.00 = 50.00 at the limit');
  assert.equal((await refund(acme.returns, a!.number, 1, 'one cent more')).status, 'pending');
  // A refund made outside the action engine (on file on the payment) counts as well.
  await db.owner`update payments set refunded_cents = 4_000, status = 'partially_refunded' where tenant_id = ${tenantId}
                 and order_id = (select id from orders where tenant_id = ${tenantId} and number = ${b!.number})`;
  assert.equal((await refund(acme.returns, b!.number, 1_000, 'at the limit with what is on file')).status, 'executed');
  assert.equal((await refund(acme.returns, b!.number, 1, 'over with what is on file')).status, 'pending');
});

test('A7 pending actions count: splitting while the first part waits does not help; a rejected one stops counting', async () => {
  const tenantId = acme.returns.tenantId;
  await setSettings(db, tenantId, { phase: 2, guardrails: { issue_refund: { max_amount_cents: 3_000, per_order_max_amount_cents: 5_000 } } });
  const [order] = await freshOrders(tenantId, 1);
  const big = await refund(acme.returns, order!.number, 4_000, 'the large one');
  assert.equal(big.status, 'pending', 'above the per-action limit');
  const split = await refund(acme.returns, order!.number, 2_000, 'the rest, split off');
  assert.equal(split.status, 'pending', '40.00 pending + 20.00 = 60.00 > 50.00');
  assert.match(split.status === 'pending' ? split.reason : '', /per-order refund total 60\.00 EUR would exceed 50\.00 EUR/);
  for (const id of [big.action_id, split.action_id]) {
    const d = await asStaff(db.app, acme.admin, (tx) => rejectAction(tx, { tenantId, actionId: id, staffId: acme.admin.staffId, reason: 'no', clientId: 'console' }));
    assert.equal(d.status, 'rejected');
  }
  assert.equal((await refund(acme.returns, order!.number, 2_000, 'after the rejection')).status, 'executed');
});

test('A7 per customer and day: two orders of one customer share the limit', async () => {
  const tenantId = acme.returns.tenantId;
  const orders = await freshOrders(tenantId, 2, 10_000, true);
  const { already } = first(await db.owner<{ already: string }[]>`
    select coalesce(sum(amount_cents), 0) as already from refunds where tenant_id = ${tenantId} and customer_id = ${orders[0]!.customer}
      and created_at > now() - interval '24 hours'`);
  const limit = Number(already) + 6_000;
  await setSettings(db, tenantId, { phase: 2, guardrails: { issue_refund: { max_amount_cents: 5_000, per_customer_day_max_amount_cents: limit } } });
  assert.equal((await refund(acme.returns, orders[0]!.number, 3_000, 'customer part one')).status, 'executed');
  assert.equal((await refund(acme.returns, orders[1]!.number, 3_000, 'customer part two')).status, 'executed', 'at the limit');
  const over = await refund(acme.returns, orders[1]!.number, 1, 'customer one over');
  assert.equal(over.status, 'pending');
  assert.match(over.status === 'pending' ? over.reason : '', /per-customer 24-hour refund total/);
});

test('A7 per requester and per shop-day: the requester\'s total binds them only; the shop total binds everyone', async () => {
  const tenantId = globex.returns.tenantId;
  const orders = await freshOrders(tenantId, 5, 10_000);
  const { shop } = first(await db.owner<{ shop: string }[]>`
    select coalesce(sum(amount_cents), 0) as shop from refunds where tenant_id = ${tenantId} and created_at > now() - interval '24 hours'`);
  await setSettings(db, tenantId, { phase: 2, guardrails: { issue_refund: {
    max_amount_cents: 5_000, per_requester_day_max_amount_cents: 6_000, per_tenant_day_max_amount_cents: Number(shop) + 9_000 } } });
  assert.equal((await refund(globex.returns, orders[0]!.number, 3_000, 'requester one')).status, 'executed');
  assert.equal((await refund(globex.returns, orders[1]!.number, 3_000, 'requester two')).status, 'executed', 'requester at the limit');
  const mine = await refund(globex.returns, orders[2]!.number, 1, 'requester one over');
  assert.equal(mine.status, 'pending');
  assert.match(mine.status === 'pending' ? mine.reason : '', /per-requester 24-hour refund total 60\.01 EUR would exceed 60\.00 EUR/);
  // Another staff member still may — up to the shop's total (60.00 + 0.01 pending + 29.99 = 90.00 at the limit).
  assert.equal((await refund(globex.admin, orders[3]!.number, 2_999, 'admin at the shop limit')).status, 'executed');
  const shopOver = await refund(globex.admin, orders[4]!.number, 1, 'admin over the shop limit');
  assert.equal(shopOver.status, 'pending');
  assert.match(shopOver.status === 'pending' ? shopOver.reason : '', /shop-wide 24-hour refund total/);
});

test('A7 per product and day: reorders of one SKU to several warehouses share the quantity limit', async () => {
  const tenantId = acme.supply.tenantId;
  await setSettings(db, tenantId, { phase: 2, guardrails: { create_reorder: { ...REORDER, per_product_day_max_quantity: 100 } } });
  const p = await productWithCost(tenantId, 100, skus);
  skus.push(p.sku);
  assert.ok(p.warehouses.length >= 2, 'stocked in two warehouses');
  assert.equal((await reorder(p.sku, p.warehouses[0]!, 60)).status, 'executed');
  const second = await reorder(p.sku, p.warehouses[1]!, 41);
  assert.equal(second.status, 'pending');
  assert.match(second.status === 'pending' ? second.reason : '', /per-product 24-hour reorder total 101 would exceed 100 \(per_product_day_max_quantity\)/);
});

test('A7 concurrent requests at the limit: of eight fired at once, exactly the five the limit allows run', async () => {
  const tenantId = acme.returns.tenantId;
  await setSettings(db, tenantId, { phase: 2, guardrails: { issue_refund: { max_amount_cents: 5_000, per_order_max_amount_cents: 5_000 } } });
  const [order] = await freshOrders(tenantId, 1);
  const outcomes = await Promise.all(Array.from({ length: 8 }, (_, i) => refund(acme.returns, order!.number, 1_000, `concurrent ${i}`)));
  assert.equal(outcomes.filter((o) => o.status === 'executed').length, 5);
  assert.equal(outcomes.filter((o) => o.status === 'pending').length, 3);
  const paid = first(await db.owner<{ refunded_cents: string }[]>`
    select p.refunded_cents from payments p join orders o on o.tenant_id = p.tenant_id and o.id = p.order_id
    where o.tenant_id = ${tenantId} and o.number = ${order!.number}`);
  assert.equal(Number(paid.refunded_cents), 5_000);
});

test('A7 concurrent requests across orders hold the shop-day limit too', async () => {
  const tenantId = globex.returns.tenantId;
  const orders = await freshOrders(tenantId, 6, 10_000);
  const { counted } = first(await db.owner<{ counted: string }[]>`
    select (select coalesce(sum(amount_cents), 0) from refunds where tenant_id = ${tenantId} and created_at > now() - interval '24 hours')
         + (select coalesce(sum((measures->>'amount_cents')::numeric), 0) from pending_actions
            where tenant_id = ${tenantId} and tool = 'issue_refund' and status = 'pending' and expires_at > now()) as counted`);
  await setSettings(db, tenantId, { phase: 2, guardrails: { issue_refund: { max_amount_cents: 5_000, per_tenant_day_max_amount_cents: Number(counted) + 4_000 } } });
  const staff = [globex.returns, globex.admin];
  const outcomes = await Promise.all(orders.map((o, i) => refund(staff[i % 2]!, o.number, 1_000, `shop concurrent ${i}`)));
  assert.equal(outcomes.filter((o) => o.status === 'executed').length, 4);
  assert.equal(outcomes.filter((o) => o.status === 'pending').length, 2);
});
