// The demo seed loads the shop's data through the ingestion code path (src/ingest): the generated
// rows become ingestion records (the kinds a shop uploads), are validated by the same zod schemas
// and written by the same upserts, in the tenant's service context. What a shop cannot upload
// (staff, suppliers, drivers, purchase orders, claims, refunds, carts, counters, and the few
// columns that name staff or drivers) the seed still writes itself, after mapping the generator's
// ids to the rows ingestion made.
import { setRequestContext, type Tx } from '../db/context.js';
import { applyRecords } from '../ingest/apply.js';
import type { Numbered } from '../ingest/kinds.js';
import { parseRecord, type AnyRecord } from '../ingest/records.js';

type Row = Record<string, unknown>;
export type SeedRows = Record<string, Row[]>;

const iso = (d: unknown): string | null => (d instanceof Date ? d.toISOString() : d === null || d === undefined ? null : String(d));
const isoOr = (d: unknown): string | undefined => iso(d) ?? undefined;

/** The ingestion records for the generated rows, in dependency order, with the generator's id each stands for. */
function recordsOf(rows: SeedRows): { record: unknown; builderId: string | null; table: string | null }[] {
  const by = (table: string) => new Map(rows[table]!.map((r) => [r.id as string, r]));
  const products = by('products');
  const warehouses = by('warehouses');
  const carriers = by('carriers');
  const customers = by('customers');
  const orders = by('orders');
  const settlements = by('settlements');
  const sku = (id: unknown) => products.get(id as string)!.sku as string;
  const settlementExt = (s: Row) => `settlement-${String(s.period_start)}`;
  const out: { record: unknown; builderId: string | null; table: string | null }[] = [];
  const add = (record: Record<string, unknown>, row: Row | null, table: string | null) => out.push({ record, builderId: (row?.id as string) ?? null, table });

  for (const w of rows.warehouses!) add({ kind: 'warehouse', external_id: w.code, code: w.code, name: w.name, city: w.city }, w, 'warehouses');
  for (const c of rows.carriers!) add({ kind: 'carrier', external_id: c.name, name: c.name, tracking_url_template: c.tracking_url_template }, c, 'carriers');
  for (const p of rows.products!) {
    add({ kind: 'product', external_id: p.sku, sku: p.sku, name: p.name, description: p.description, category: p.category,
      returnable: p.returnable, active: p.active, created_at: isoOr(p.created_at) }, p, 'products');
  }
  const priceCount = new Map<string, number>();
  for (const pp of rows.product_prices!) {
    const s = sku(pp.product_id);
    const n = (priceCount.get(s) ?? 0) + 1;
    priceCount.set(s, n);
    add({ kind: 'price', external_id: `price-${s}-${n}`, product: s, amount_cents: pp.amount_cents, currency: pp.currency,
      valid_from: iso(pp.valid_from), valid_to: iso(pp.valid_to) }, pp, 'product_prices');
  }
  for (const p of rows.products!) if (p.unit_cost_cents != null) add({ kind: 'supplier_cost', product: p.sku, unit_cost_cents: p.unit_cost_cents }, null, null);
  for (const s of rows.stock_levels!) {
    add({ kind: 'stock', warehouse: warehouses.get(s.warehouse_id as string)!.code, product: sku(s.product_id), on_hand: s.on_hand,
      reserved: s.reserved, reorder_point: s.reorder_point, reorder_quantity: s.reorder_quantity, updated_at: isoOr(s.updated_at) }, null, null);
  }
  for (const c of rows.customers!) {
    add({ kind: 'customer', external_id: c.email, email: c.email, name: c.name, payment_method: c.payment_method, created_at: isoOr(c.created_at) }, c, 'customers');
  }
  for (const s of rows.settlements!) {
    add({ kind: 'settlement', external_id: settlementExt(s), period_start: s.period_start, period_end: s.period_end, gross_cents: s.gross_cents,
      fees_cents: s.fees_cents, refunds_cents: s.refunds_cents, net_cents: s.net_cents, status: s.status, paid_at: iso(s.paid_at) }, s, 'settlements');
  }
  const linesOf = new Map<string, Row[]>();
  for (const l of rows.order_lines!) linesOf.set(l.order_id as string, [...(linesOf.get(l.order_id as string) ?? []), l]);
  for (const o of rows.orders!) {
    add({ kind: 'order', external_id: o.number, number: o.number, customer: customers.get(o.customer_id as string)!.email, status: o.status,
      currency: o.currency, placed_at: isoOr(o.placed_at), updated_at: isoOr(o.updated_at), promised_by: o.promised_by, note: o.note,
      shipping_address: o.shipping_address,
      lines: linesOf.get(o.id as string)!.map((l) => ({ line_no: l.line_no, product: sku(l.product_id), quantity: l.quantity, unit_price_cents: l.unit_price_cents })),
    }, o, 'orders');
  }
  for (const s of rows.shipments!) {
    add({ kind: 'shipment', external_id: s.tracking_number, order: orders.get(s.order_id as string)!.number,
      warehouse: warehouses.get(s.warehouse_id as string)!.code, carrier: carriers.get(s.carrier_id as string)!.name,
      tracking_number: s.tracking_number, status: s.status, shipped_at: iso(s.shipped_at), eta: iso(s.eta), delivered_at: iso(s.delivered_at),
      late_cause_code: s.late_cause_code, late_cause: s.late_cause, updated_at: isoOr(s.updated_at) }, s, 'shipments');
  }
  const returnLinesOf = new Map<string, Row[]>();
  for (const l of rows.return_lines!) returnLinesOf.set(l.return_id as string, [...(returnLinesOf.get(l.return_id as string) ?? []), l]);
  for (const r of rows.returns!) {
    add({ kind: 'return', external_id: r.number, number: r.number, order: orders.get(r.order_id as string)!.number, status: r.status,
      reason: r.reason, created_at: isoOr(r.created_at), decided_at: iso(r.decided_at), decision_note: r.decision_note,
      lines: returnLinesOf.get(r.id as string)!.map((l) => ({ line_no: l.line_no, quantity: l.quantity, condition: l.condition })) }, r, 'returns');
  }
  for (const p of rows.payments!) {
    const order = orders.get(p.order_id as string)!;
    const settlement = p.settlement_id ? settlements.get(p.settlement_id as string)! : null;
    add({ kind: 'payment', external_id: `payment-${order.number as string}`, order: order.number, amount_cents: p.amount_cents,
      refunded_cents: p.refunded_cents, currency: p.currency, method: p.method, status: p.status,
      settlement: settlement ? settlementExt(settlement) : null, created_at: isoOr(p.created_at) }, p, 'payments');
  }
  for (const c of rows.competitor_price_observations ?? []) {
    add({ kind: 'competitor_price', external_id: c.external_id, product: sku(c.product_id), competitor: c.competitor,
      price_cents: c.price_cents, currency: c.currency, observed_at: isoOr(c.observed_at) }, null, null);
  }
  return out;
}

/**
 * Writes the shop's data of one generated tenant through ingestion (in the caller's transaction,
 * as the tenant's service actor); returns generator id → database id for every row it made.
 */
export async function seedThroughIngestion(tx: Tx, tenantId: string, rows: SeedRows): Promise<Map<string, string>> {
  await setRequestContext(tx, { kind: 'service', tenantId, clientId: 'seed' });
  const planned = recordsOf(rows);
  const items: Numbered<AnyRecord>[] = planned.map((p, i) => {
    const parsed = parseRecord(p.record);
    if (!parsed.ok) throw new Error(`seed record ${i + 1} (${JSON.stringify(p.record).slice(0, 200)}) refused: ${parsed.reason}`);
    return { line: i + 1, record: parsed.record };
  });
  // In chunks, as an upload would be (the whole seed stays one transaction).
  for (let i = 0; i < items.length; i += 500) {
    const result = await applyRecords(tx, tenantId, items.slice(i, i + 500));
    if (result.rejections.length) throw new Error(`seed records refused by ingestion: ${JSON.stringify(result.rejections.slice(0, 3))}`);
  }
  const ids = new Map<string, string>();
  const tables = [...new Set(planned.map((p) => p.table).filter((t): t is string => t !== null))];
  for (const table of tables) {
    const made = new Map((await tx.unsafe<{ external_id: string; id: string }[]>(
      `select external_id, id::text as id from ${table} where tenant_id = $1::uuid and external_id is not null`, [tenantId]))
      .map((r) => [r.external_id, r.id]));
    for (const p of planned) {
      if (p.table !== table || !p.builderId) continue;
      const id = made.get((p.record as { external_id: string }).external_id);
      if (!id) throw new Error(`seed: no ${table} row for ${(p.record as { external_id: string }).external_id}`);
      ids.set(p.builderId, id);
    }
  }
  return ids;
}

/** The generator's ids in `row` replaced by the database's. */
export function remapIds(row: Row, ids: Map<string, string>): Row {
  return Object.fromEntries(Object.entries(row).map(([k, v]) => [k, typeof v === 'string' && ids.has(v) ? ids.get(v)! : v]));
}

/** Sets columns ingestion does not take (they name staff, drivers, or hold a password hash) on rows it made. */
export async function patchRows(tx: Tx, table: string, tenantId: string, columns: Record<string, string>, rows: Row[]): Promise<void> {
  const cols = Object.keys(columns);
  if (!rows.length) return;
  for (let i = 0; i < rows.length; i += 500) {
    const chunk = rows.slice(i, i + 500).map((r) => Object.fromEntries([['id', r.id], ...cols.map((c) => [c, r[c] instanceof Date ? (r[c] as Date).toISOString() : r[c] ?? null])]));
    await tx.unsafe(
      `update ${table} t set ${cols.map((c) => `${c} = r.${c}`).join(', ')}
       from jsonb_to_recordset($1::text::jsonb) as r(id uuid, ${cols.map((c) => `${c} ${columns[c]}`).join(', ')})
       where t.tenant_id = $2::uuid and t.id = r.id`, [JSON.stringify(chunk), tenantId]);
  }
}
