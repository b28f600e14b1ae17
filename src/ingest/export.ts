// A tenant's data as NDJSON records, in the kinds' dependency order: exactly what an upload takes
// (records.ts), so importing an export changes nothing. Rows made without an external id are named
// by their natural key (sku, email, order number, ...), which an import claims them by. Built in
// SQL as JSON (timestamps keep their full precision), read with a cursor (memory flat), in one
// repeatable-read transaction in the tenant's service context (one consistent snapshot).
import { setRequestContext, type Sql } from '../db/context.js';
import { KINDS, type Kind } from './records.js';
import type { ServiceActor } from './upload.js';

const ext = (alias: string, natural: string) => `coalesce(${alias}.external_id, ${alias}.${natural})`;

const QUERIES: Record<Kind, string> = {
  warehouse: `select json_build_object('kind', 'warehouse', 'external_id', ${ext('w', 'code')}, 'code', w.code, 'name', w.name, 'city', w.city) as j
    from warehouses w where w.tenant_id = $1::uuid order by w.code`,
  carrier: `select json_build_object('kind', 'carrier', 'external_id', ${ext('c', 'name')}, 'name', c.name, 'tracking_url_template', c.tracking_url_template) as j
    from carriers c where c.tenant_id = $1::uuid order by c.name`,
  product: `select json_build_object('kind', 'product', 'external_id', ${ext('p', 'sku')}, 'sku', p.sku, 'name', p.name, 'description', p.description,
      'category', p.category, 'returnable', p.returnable, 'active', p.active, 'created_at', p.created_at) as j
    from products p where p.tenant_id = $1::uuid order by p.sku`,
  // Oldest first: each later price closes the one before it on import, as it did here.
  price: `select json_build_object('kind', 'price', 'external_id', coalesce(pp.external_id, pp.id::text), 'product', ${ext('p', 'sku')},
      'amount_cents', pp.amount_cents, 'currency', pp.currency, 'valid_from', pp.valid_from, 'valid_to', pp.valid_to) as j
    from product_prices pp join products p on p.tenant_id = pp.tenant_id and p.id = pp.product_id
    where pp.tenant_id = $1::uuid order by p.sku, pp.valid_from, pp.valid_to nulls last`,
  supplier_cost: `select json_build_object('kind', 'supplier_cost', 'product', ${ext('p', 'sku')}, 'unit_cost_cents', p.unit_cost_cents) as j
    from products p where p.tenant_id = $1::uuid and p.unit_cost_cents is not null order by p.sku`,
  stock: `select json_build_object('kind', 'stock', 'warehouse', ${ext('w', 'code')}, 'product', ${ext('p', 'sku')}, 'on_hand', s.on_hand,
      'reserved', s.reserved, 'reorder_point', s.reorder_point, 'reorder_quantity', s.reorder_quantity, 'updated_at', s.updated_at) as j
    from stock_levels s join warehouses w on w.tenant_id = s.tenant_id and w.id = s.warehouse_id
    join products p on p.tenant_id = s.tenant_id and p.id = s.product_id where s.tenant_id = $1::uuid order by w.code, p.sku`,
  customer: `select json_build_object('kind', 'customer', 'external_id', ${ext('c', 'email')}, 'email', c.email, 'name', c.name,
      'payment_method', c.payment_method, 'created_at', c.created_at) as j
    from customers c where c.tenant_id = $1::uuid order by c.email`,
  settlement: `select json_build_object('kind', 'settlement', 'external_id', coalesce(s.external_id, s.period_start::text), 'period_start', s.period_start,
      'period_end', s.period_end, 'gross_cents', s.gross_cents, 'fees_cents', s.fees_cents, 'refunds_cents', s.refunds_cents,
      'net_cents', s.net_cents, 'status', s.status, 'paid_at', s.paid_at) as j
    from settlements s where s.tenant_id = $1::uuid order by s.period_start`,
  order: `select json_build_object('kind', 'order', 'external_id', ${ext('o', 'number')}, 'number', o.number, 'customer', ${ext('c', 'email')},
      'status', o.status, 'currency', o.currency, 'placed_at', o.placed_at, 'updated_at', o.updated_at, 'promised_by', o.promised_by,
      'note', o.note, 'shipping_address', o.shipping_address,
      'lines', (select json_agg(json_build_object('line_no', l.line_no, 'product', ${ext('p', 'sku')}, 'quantity', l.quantity,
                  'unit_price_cents', l.unit_price_cents) order by l.line_no)
                from order_lines l join products p on p.tenant_id = l.tenant_id and p.id = l.product_id
                where l.tenant_id = o.tenant_id and l.order_id = o.id)) as j
    from orders o join customers c on c.tenant_id = o.tenant_id and c.id = o.customer_id
    where o.tenant_id = $1::uuid and exists (select 1 from order_lines l where l.tenant_id = o.tenant_id and l.order_id = o.id)
    order by o.placed_at, o.number`,
  shipment: `select json_build_object('kind', 'shipment', 'external_id', ${ext('s', 'tracking_number')}, 'order', ${ext('o', 'number')},
      'warehouse', ${ext('w', 'code')}, 'carrier', ${ext('c', 'name')}, 'tracking_number', s.tracking_number, 'status', s.status,
      'shipped_at', s.shipped_at, 'eta', s.eta, 'delivered_at', s.delivered_at, 'late_cause_code', s.late_cause_code,
      'late_cause', s.late_cause, 'updated_at', s.updated_at,
      'events', coalesce((select json_agg(json_build_object('status', e.status, 'occurred_at', e.occurred_at, 'location', e.location,
                  'description', e.description) order by e.occurred_at, e.status)
                from shipment_events e where e.tenant_id = s.tenant_id and e.shipment_id = s.id), '[]'::json)) as j
    from shipments s join orders o on o.tenant_id = s.tenant_id and o.id = s.order_id
    join warehouses w on w.tenant_id = s.tenant_id and w.id = s.warehouse_id join carriers c on c.tenant_id = s.tenant_id and c.id = s.carrier_id
    where s.tenant_id = $1::uuid order by s.tracking_number`,
  return: `select json_build_object('kind', 'return', 'external_id', ${ext('r', 'number')}, 'number', r.number, 'order', ${ext('o', 'number')},
      'status', r.status, 'reason', r.reason, 'created_at', r.created_at, 'decided_at', r.decided_at, 'decision_note', r.decision_note,
      'lines', (select json_agg(json_build_object('line_no', rl.line_no, 'quantity', rl.quantity, 'condition', rl.condition) order by rl.line_no)
                from return_lines rl where rl.tenant_id = r.tenant_id and rl.return_id = r.id)) as j
    from returns r join orders o on o.tenant_id = r.tenant_id and o.id = r.order_id
    where r.tenant_id = $1::uuid and exists (select 1 from return_lines rl where rl.tenant_id = r.tenant_id and rl.return_id = r.id)
    order by r.number`,
  payment: `select json_build_object('kind', 'payment', 'external_id', coalesce(p.external_id, p.id::text), 'order', ${ext('o', 'number')},
      'amount_cents', p.amount_cents, 'refunded_cents', p.refunded_cents, 'currency', p.currency, 'method', p.method, 'status', p.status,
      'settlement', case when s.id is null then null else coalesce(s.external_id, s.period_start::text) end, 'created_at', p.created_at) as j
    from payments p join orders o on o.tenant_id = p.tenant_id and o.id = p.order_id
    left join settlements s on s.tenant_id = p.tenant_id and s.id = p.settlement_id
    where p.tenant_id = $1::uuid order by p.created_at, o.number, coalesce(p.external_id, p.id::text)`,
  competitor_price: `select json_build_object('kind', 'competitor_price', 'external_id', cp.external_id, 'product', ${ext('p', 'sku')},
      'competitor', cp.competitor, 'price_cents', cp.price_cents, 'currency', cp.currency, 'observed_at', cp.observed_at, 'url', cp.url) as j
    from competitor_price_observations cp join products p on p.tenant_id = cp.tenant_id and p.id = cp.product_id
    where cp.tenant_id = $1::uuid order by cp.observed_at, cp.external_id`,
};

/** Writes the tenant's records of `kinds` (all by default) as NDJSON lines to `out`; returns the count. */
export async function exportNdjson(sql: Sql, actor: ServiceActor, kinds: readonly Kind[], out: (line: string) => void | Promise<void>): Promise<number> {
  const wanted = KINDS.filter((k) => !kinds.length || kinds.includes(k));
  let n = 0;
  await sql.begin('isolation level repeatable read read only', async (tx) => {
    await setRequestContext(tx, actor);
    for (const kind of wanted) {
      for await (const rows of tx.unsafe<{ j: unknown }[]>(QUERIES[kind], [actor.tenantId]).cursor(500)) {
        for (const { j } of rows) {
          await out(JSON.stringify(j));
          n++;
        }
      }
    }
  });
  return n;
}
