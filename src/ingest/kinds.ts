// How each kind of record is written: its references resolved to this tenant's rows (A1: looked up
// by external id inside the tenant, under its RLS context; an id of another tenant is simply
// unknown here), then the group written set-based (upsert.ts). A record with an unknown reference
// is refused before anything is written; an order or return is written with all its lines or not
// at all.
import type { Tx } from '../db/context.js';
import type { AnyRecord, Kind, RecordOf } from './records.js';
import { deleteStaleChildren, keyOf, upsertRows, type TableSpec } from './upsert.js';

const TS = { type: 'timestamptz', default: 'now()' };

export const SPECS = {
  warehouses: { table: 'warehouses', key: { external_id: 'text' }, columns: { code: 'text', name: 'text', city: 'text' }, natural: ['t.code', 'r.code'] },
  carriers: { table: 'carriers', key: { external_id: 'text' }, columns: { name: 'text', tracking_url_template: 'text' }, natural: ['t.name', 'r.name'] },
  products: {
    table: 'products', key: { external_id: 'text' },
    columns: { sku: 'text', name: 'text', description: 'text', category: 'text', returnable: 'boolean', active: 'boolean' },
    keep: { created_at: TS }, natural: ['t.sku', 'r.sku'],
  },
  prices: {
    table: 'product_prices', key: { external_id: 'text' },
    columns: { product_id: 'uuid', amount_cents: 'bigint', currency: 'text', valid_from: 'timestamptz', valid_to: 'timestamptz' },
    natural: ['t.id::text', 'r.external_id'],
  },
  stock: {
    table: 'stock_levels', key: { warehouse_id: 'uuid', product_id: 'uuid' },
    columns: { on_hand: 'int', reserved: 'int', reorder_point: 'int', reorder_quantity: 'int' }, keep: { updated_at: TS },
  },
  customers: {
    table: 'customers', key: { external_id: 'text' }, columns: { email: 'text', name: 'text', payment_method: 'jsonb' },
    keep: { created_at: TS },
    // No password: an uploaded customer cannot sign in until the shop gives them one (admin CLI).
    insertOnly: { password_hash: `'!'` }, natural: ['t.email', 'r.email'],
  },
  settlements: {
    table: 'settlements', key: { external_id: 'text' },
    columns: { period_start: 'date', period_end: 'date', gross_cents: 'bigint', fees_cents: 'bigint', refunds_cents: 'bigint',
      net_cents: 'bigint', status: 'text', paid_at: 'timestamptz' },
    natural: ['t.period_start', 'r.period_start'],
  },
  orders: {
    table: 'orders', key: { external_id: 'text' },
    columns: { number: 'text', customer_id: 'uuid', status: 'order_status', currency: 'text', total_cents: 'bigint',
      shipping_address: 'jsonb', note: 'text', promised_by: 'date' },
    keep: { placed_at: TS, updated_at: TS }, natural: ['t.number', 'r.number'],
  },
  orderLines: {
    table: 'order_lines', key: { order_id: 'uuid', line_no: 'int' },
    columns: { customer_id: 'uuid', product_id: 'uuid', quantity: 'int', unit_price_cents: 'bigint' },
  },
  shipments: {
    table: 'shipments', key: { external_id: 'text' },
    columns: { order_id: 'uuid', customer_id: 'uuid', warehouse_id: 'uuid', carrier_id: 'uuid', tracking_number: 'text',
      status: 'shipment_status', shipped_at: 'timestamptz', eta: 'timestamptz', delivered_at: 'timestamptz',
      late_cause_code: 'text', late_cause: 'text' },
    keep: { updated_at: TS }, natural: ['t.tracking_number', 'r.tracking_number'],
  },
  returns: {
    table: 'returns', key: { external_id: 'text' },
    columns: { number: 'text', order_id: 'uuid', customer_id: 'uuid', status: 'return_status', reason: 'text',
      decided_at: 'timestamptz', decision_note: 'text' },
    keep: { created_at: TS }, natural: ['t.number', 'r.number'],
  },
  returnLines: {
    table: 'return_lines', key: { return_id: 'uuid', line_no: 'int' },
    columns: { order_id: 'uuid', customer_id: 'uuid', quantity: 'int', condition: 'text' },
  },
  payments: {
    table: 'payments', key: { external_id: 'text' },
    columns: { order_id: 'uuid', customer_id: 'uuid', amount_cents: 'bigint', refunded_cents: 'bigint', currency: 'text',
      method: 'text', status: 'payment_status', settlement_id: 'uuid' },
    keep: { created_at: TS }, natural: ['t.id::text', 'r.external_id'],
  },
  competitorPrices: {
    table: 'competitor_price_observations', key: { external_id: 'text' },
    columns: { product_id: 'uuid', competitor: 'text', price_cents: 'bigint', currency: 'text', observed_at: 'timestamptz', url: 'text' },
  },
} as const satisfies Record<string, TableSpec>;

/** Tables a record may refer to, and the natural key that names a row made without an external id. */
const REFERABLE = {
  warehouse: { table: 'warehouses', natural: 'code', extra: '' },
  carrier: { table: 'carriers', natural: 'name', extra: '' },
  product: { table: 'products', natural: 'sku', extra: '' },
  customer: { table: 'customers', natural: 'email', extra: '' },
  settlement: { table: 'settlements', natural: 'period_start::text', extra: '' },
  order: { table: 'orders', natural: 'number', extra: ', customer_id::text as customer_id' },
} as const;
type Referable = keyof typeof REFERABLE;
interface Target { id: string; customer_id?: string }

/** The tenant's rows named by external id (or, for rows without one, by natural key). */
export class References {
  readonly #found = new Map<Referable, Map<string, Target>>();
  constructor(private readonly tx: Tx, private readonly tenantId: string) {}

  async load(kind: Referable, refs: Iterable<string>): Promise<void> {
    const wanted = [...new Set(refs)];
    const map = this.#found.get(kind) ?? new Map<string, Target>();
    this.#found.set(kind, map);
    const missing = wanted.filter((r) => !map.has(r));
    if (!missing.length) return;
    const { table, natural, extra } = REFERABLE[kind];
    // A row's own external id wins over another row's natural key.
    const rows = await this.tx.unsafe<{ ref: string; id: string; customer_id?: string }[]>(
      `select coalesce(external_id, ${natural}) as ref, id::text as id${extra} from ${table}
       where tenant_id = $1::uuid and (external_id = any (array(select jsonb_array_elements_text($2::text::jsonb)))
         or (external_id is null and ${natural} = any (array(select jsonb_array_elements_text($2::text::jsonb)))))
       order by external_id is null`,
      [this.tenantId, JSON.stringify(missing)]);
    for (const r of rows) if (!map.has(r.ref)) map.set(r.ref, { id: r.id, ...(r.customer_id ? { customer_id: r.customer_id } : {}) });
  }

  get(kind: Referable, ref: string): Target | undefined {
    return this.#found.get(kind)?.get(ref);
  }

  /** Forgets what was looked up of a kind (after a group of it was written). */
  forget(kind: Referable): void {
    this.#found.delete(kind);
  }
}

export class Unresolved extends Error {}

export interface Numbered<R = AnyRecord> {
  line: number;
  record: R;
}

/** What writing a group did, by line. */
export interface GroupResult {
  inserted: number[];
  updated: number[];
}

export interface KindHandler<K extends Kind> {
  /** References the records need, to look up before resolving. */
  refs(r: RecordOf<K>): [Referable, string][];
  /** The key two records of one group must not share (they are then written one by one, in order). */
  key(r: RecordOf<K>): string;
  /** Writes the group (all resolved); throws on a database refusal. */
  write(tx: Tx, tenantId: string, items: Numbered<RecordOf<K>>[], refs: References): Promise<GroupResult>;
  /** The reference kind this kind provides (its cached look-ups are stale after a write). */
  provides?: Referable;
}

function must(refs: References, kind: Referable, ref: string): Target {
  const t = refs.get(kind, ref);
  if (!t) throw new Unresolved(`${kind}: unknown ${kind} "${ref}"`);
  return t;
}

/** Which lines' records were inserted or updated, from the keys upsert reported. */
function byLine<R>(items: Numbered<R>[], keyOfItem: (r: R) => string, result: { inserted: Set<string>; updated: Set<string> }, alsoUpdated = new Set<string>()): GroupResult {
  const out: GroupResult = { inserted: [], updated: [] };
  for (const it of items) {
    const k = keyOfItem(it.record);
    if (result.inserted.has(k)) out.inserted.push(it.line);
    else if (result.updated.has(k) || alsoUpdated.has(k)) out.updated.push(it.line);
  }
  return out;
}

async function simple<R>(tx: Tx, tenantId: string, spec: TableSpec, items: Numbered<R>[],
  row: (r: R) => Record<string, unknown>): Promise<GroupResult> {
  const rows = items.map((it) => row(it.record));
  const result = await upsertRows(tx, spec, tenantId, rows);
  const keys = new Map(items.map((it, i) => [it.record, keyOf(spec, rows[i]!)]));
  return byLine(items, (r) => keys.get(r)!, result);
}

/** The ids of the tenant's rows of `table` with these external ids. */
async function idsByExternalId(tx: Tx, table: string, tenantId: string, externalIds: string[]): Promise<Map<string, string>> {
  const rows = await tx.unsafe<{ external_id: string; id: string }[]>(
    `select external_id, id::text as id from ${table} where tenant_id = $1::uuid and external_id = any (array(select jsonb_array_elements_text($2::text::jsonb)))`,
    [tenantId, JSON.stringify(externalIds)]);
  return new Map(rows.map((r) => [r.external_id, r.id]));
}

const byExternalId = (r: { external_id: string }) => r.external_id;

/**
 * The numbers the platform draws itself (src/servers/customer/cart.ts, returns.ts, the action
 * executor): `<prefix><counter>`. An uploaded number of that form moves the tenant's counter past
 * it, so a later order or return placed here never draws a number the shop already used.
 */
const PLATFORM_NUMBERS = { order: { counter: 'orders', prefix: 'ORD-' }, return: { counter: 'returns', prefix: 'RMA-' } } as const;

async function advanceCounter(tx: Tx, tenantId: string, kind: keyof typeof PLATFORM_NUMBERS, numbers: string[]): Promise<void> {
  const { counter, prefix } = PLATFORM_NUMBERS[kind];
  let max = 0;
  for (const n of numbers) {
    const m = n.startsWith(prefix) ? /^\d{1,15}$/.exec(n.slice(prefix.length)) : null;
    if (m) max = Math.max(max, Number(m[0]));
  }
  if (!max) return;
  await tx`insert into tenant_counters (tenant_id, name, value) values (${tenantId}, ${counter}, ${max})
           on conflict (tenant_id, name) do update set value = greatest(tenant_counters.value, excluded.value)
           where tenant_counters.value < excluded.value`;
}

export const HANDLERS: { [K in Kind]: KindHandler<K> } = {
  warehouse: {
    refs: () => [], key: byExternalId, provides: 'warehouse',
    write: (tx, t, items) => simple(tx, t, SPECS.warehouses, items, (r) => ({ external_id: r.external_id, code: r.code, name: r.name, city: r.city })),
  },
  carrier: {
    refs: () => [], key: byExternalId, provides: 'carrier',
    write: (tx, t, items) => simple(tx, t, SPECS.carriers, items, (r) => ({ external_id: r.external_id, name: r.name, tracking_url_template: r.tracking_url_template })),
  },
  product: {
    refs: () => [], key: byExternalId, provides: 'product',
    write: (tx, t, items) => simple(tx, t, SPECS.products, items, (r) => ({
      external_id: r.external_id, sku: r.sku, name: r.name, description: r.description, category: r.category,
      returnable: r.returnable, active: r.active, created_at: r.created_at,
    })),
  },
  price: {
    refs: (r) => [['product', r.product]],
    key: byExternalId, // applied one by one, in file order (a later price closes the one before)
    async write(tx, tenantId, items, refs) {
      const out: GroupResult = { inserted: [], updated: [] };
      for (const { line, record: r } of items) {
        const productId = must(refs, 'product', r.product).id;
        if (r.valid_to === null) {
          // A new current price closes the one before it (the history keeps one current row, 002).
          const [current] = await tx<{ id: string; external_id: string | null; newer: boolean }[]>`
            select id, external_id, valid_from >= ${r.valid_from}::timestamptz as newer from product_prices
            where tenant_id = ${tenantId} and product_id = ${productId} and valid_to is null`;
          if (current && (current.external_id ?? current.id) !== r.external_id) {
            if (current.newer) throw new Unresolved('valid_from: the product has a newer current price');
            await tx`update product_prices set valid_to = ${r.valid_from}::timestamptz where tenant_id = ${tenantId} and id = ${current.id}`;
          }
        }
        const res = await upsertRows(tx, SPECS.prices, tenantId, [{
          external_id: r.external_id, product_id: productId, amount_cents: r.amount_cents, currency: r.currency,
          valid_from: r.valid_from, valid_to: r.valid_to,
        }]);
        if (res.inserted.size) out.inserted.push(line);
        else if (res.updated.size) out.updated.push(line);
      }
      return out;
    },
  },
  supplier_cost: {
    refs: (r) => [['product', r.product]], key: (r) => r.product,
    async write(tx, tenantId, items, refs) {
      const rows = items.map(({ record: r }) => ({ product_id: must(refs, 'product', r.product).id, unit_cost_cents: r.unit_cost_cents }));
      const changed = await tx.unsafe<{ id: string }[]>(
        `with r as (select * from jsonb_to_recordset($1::text::jsonb) as r(product_id uuid, unit_cost_cents bigint))
         update products t set unit_cost_cents = r.unit_cost_cents from r
         where t.tenant_id = $2::uuid and t.id = r.product_id and t.unit_cost_cents is distinct from r.unit_cost_cents
         returning t.id::text as id`, [JSON.stringify(rows), tenantId]);
      const ids = new Set(changed.map((c) => c.id));
      return { inserted: [], updated: items.filter((_, i) => ids.has(rows[i]!.product_id)).map((it) => it.line) };
    },
  },
  stock: {
    refs: (r) => [['warehouse', r.warehouse], ['product', r.product]], key: (r) => `${r.warehouse}\u0000${r.product}`,
    write: (tx, t, items, refs) => simple(tx, t, SPECS.stock, items, (r) => ({
      warehouse_id: must(refs, 'warehouse', r.warehouse).id, product_id: must(refs, 'product', r.product).id,
      on_hand: r.on_hand, reserved: r.reserved, reorder_point: r.reorder_point, reorder_quantity: r.reorder_quantity, updated_at: r.updated_at,
    })),
  },
  customer: {
    refs: () => [], key: byExternalId, provides: 'customer',
    write: (tx, t, items) => simple(tx, t, SPECS.customers, items, (r) => ({
      external_id: r.external_id, email: r.email, name: r.name, payment_method: r.payment_method, created_at: r.created_at,
    })),
  },
  settlement: {
    refs: () => [], key: byExternalId, provides: 'settlement',
    write: (tx, t, items) => simple(tx, t, SPECS.settlements, items, (r) => ({
      external_id: r.external_id, period_start: r.period_start, period_end: r.period_end, gross_cents: r.gross_cents,
      fees_cents: r.fees_cents, refunds_cents: r.refunds_cents, net_cents: r.net_cents, status: r.status, paid_at: r.paid_at,
    })),
  },
  order: {
    refs: (r) => [['customer', r.customer], ...r.lines.map((l): [Referable, string] => ['product', l.product])],
    key: byExternalId, provides: 'order',
    async write(tx, tenantId, items, refs) {
      const rows = items.map(({ record: r }) => ({
        external_id: r.external_id, number: r.number, customer_id: must(refs, 'customer', r.customer).id, status: r.status,
        currency: r.currency, total_cents: r.lines.reduce((s, l) => s + l.quantity * l.unit_price_cents, 0),
        shipping_address: r.shipping_address, note: r.note, promised_by: r.promised_by, placed_at: r.placed_at, updated_at: r.updated_at,
      }));
      const lines = items.map(({ record: r }) => r.lines.map((l) => ({ ...l, product_id: must(refs, 'product', l.product).id })));
      // An order keeps its customer: its shipments, payments and returns carry that customer too
      // (the customer's RLS reads them by it), so moving it would hand them to someone else.
      const moved = await tx.unsafe<{ external_id: string }[]>(
        `select o.external_id from orders o join jsonb_to_recordset($1::text::jsonb) as r(external_id text, customer_id uuid)
           on o.external_id = r.external_id
         where o.tenant_id = $2::uuid and o.external_id = any (array(select jsonb_array_elements($1::text::jsonb)->>'external_id'))
           and o.customer_id <> r.customer_id`,
        [JSON.stringify(rows.map((r) => ({ external_id: r.external_id, customer_id: r.customer_id }))), tenantId]);
      if (moved.length) throw new Unresolved(`customer: order "${moved[0]!.external_id}" belongs to another customer; an order keeps its customer`);
      const result = await upsertRows(tx, SPECS.orders, tenantId, rows);
      await advanceCounter(tx, tenantId, 'order', rows.map((r) => r.number));
      const ids = await idsByExternalId(tx, 'orders', tenantId, rows.map((r) => r.external_id));
      const lineRows = items.flatMap(({ record: r }, i) => lines[i]!.map((l) => ({
        order_id: ids.get(r.external_id)!, line_no: l.line_no, customer_id: rows[i]!.customer_id, product_id: l.product_id,
        quantity: l.quantity, unit_price_cents: l.unit_price_cents,
      })));
      const lineResult = await upsertRows(tx, SPECS.orderLines, tenantId, lineRows);
      const stale = await deleteStaleChildren(tx, 'order_lines', 'order_id', tenantId, [...ids.values()],
        lineRows.map((l) => ({ parent: l.order_id, line_no: l.line_no })));
      const touched = new Set([...lineResult.inserted, ...lineResult.updated].map((k) => k.split('|')[0]!));
      for (const id of stale) touched.add(id);
      const linesChanged = new Set([...ids].filter(([, id]) => touched.has(id)).map(([ext]) => ext));
      return byLine(items, byExternalId, result, linesChanged);
    },
  },
  shipment: {
    refs: (r) => [['order', r.order], ['warehouse', r.warehouse], ['carrier', r.carrier]], key: byExternalId,
    async write(tx, tenantId, items, refs) {
      const rows = items.map(({ record: r }) => {
        const order = must(refs, 'order', r.order);
        return {
          external_id: r.external_id, order_id: order.id, customer_id: order.customer_id, warehouse_id: must(refs, 'warehouse', r.warehouse).id,
          carrier_id: must(refs, 'carrier', r.carrier).id, tracking_number: r.tracking_number, status: r.status, shipped_at: r.shipped_at,
          eta: r.eta, delivered_at: r.delivered_at, late_cause_code: r.late_cause_code, late_cause: r.late_cause, updated_at: r.updated_at,
        };
      });
      const result = await upsertRows(tx, SPECS.shipments, tenantId, rows);
      const withEvents = items.filter((it) => it.record.events.length);
      const eventsAdded = new Set<string>();
      if (withEvents.length) {
        const ids = await idsByExternalId(tx, 'shipments', tenantId, withEvents.map((it) => it.record.external_id));
        const events = withEvents.flatMap(({ record: r }) => r.events.map((e) => ({
          shipment_id: ids.get(r.external_id)!, customer_id: must(refs, 'order', r.order).customer_id, ...e,
        })));
        const added = await tx.unsafe<{ s: string }[]>(
          `insert into shipment_events (tenant_id, shipment_id, customer_id, status, occurred_at, location, description, source)
           select $2::uuid, r.shipment_id, r.customer_id, r.status, r.occurred_at, r.location, r.description, 'ingest'
           from jsonb_to_recordset($1::text::jsonb) as r(shipment_id uuid, customer_id uuid, status text, occurred_at timestamptz, location text, description text)
           on conflict (tenant_id, shipment_id, occurred_at, status) do nothing
           returning shipment_id::text as s`, [JSON.stringify(events), tenantId]);
        const changedIds = new Set(added.map((a) => a.s));
        for (const [ext, id] of ids) if (changedIds.has(id)) eventsAdded.add(ext);
      }
      return byLine(items, byExternalId, result, eventsAdded);
    },
  },
  return: {
    refs: (r) => [['order', r.order]], key: byExternalId,
    async write(tx, tenantId, items, refs) {
      const rows = items.map(({ record: r }) => {
        const order = must(refs, 'order', r.order);
        return {
          external_id: r.external_id, number: r.number, order_id: order.id, customer_id: order.customer_id, status: r.status,
          reason: r.reason, decided_at: r.decided_at, decision_note: r.decision_note, created_at: r.created_at,
        };
      });
      const result = await upsertRows(tx, SPECS.returns, tenantId, rows);
      await advanceCounter(tx, tenantId, 'return', rows.map((r) => r.number));
      const ids = await idsByExternalId(tx, 'returns', tenantId, rows.map((r) => r.external_id));
      const lineRows = items.flatMap(({ record: r }, i) => r.lines.map((l) => ({
        return_id: ids.get(r.external_id)!, line_no: l.line_no, order_id: rows[i]!.order_id, customer_id: rows[i]!.customer_id,
        quantity: l.quantity, condition: l.condition,
      })));
      const lineResult = await upsertRows(tx, SPECS.returnLines, tenantId, lineRows);
      const stale = await deleteStaleChildren(tx, 'return_lines', 'return_id', tenantId, [...ids.values()],
        lineRows.map((l) => ({ parent: l.return_id, line_no: l.line_no })));
      const touched = new Set([...lineResult.inserted, ...lineResult.updated].map((k) => k.split('|')[0]!));
      for (const id of stale) touched.add(id);
      return byLine(items, byExternalId, result, new Set([...ids].filter(([, id]) => touched.has(id)).map(([ext]) => ext)));
    },
  },
  payment: {
    refs: (r) => [['order', r.order], ...(r.settlement ? [['settlement', r.settlement] as [Referable, string]] : [])], key: byExternalId,
    write: (tx, t, items, refs) => simple(tx, t, SPECS.payments, items, (r) => {
      const order = must(refs, 'order', r.order);
      return {
        external_id: r.external_id, order_id: order.id, customer_id: order.customer_id, amount_cents: r.amount_cents,
        refunded_cents: r.refunded_cents, currency: r.currency, method: r.method, status: r.status,
        settlement_id: r.settlement ? must(refs, 'settlement', r.settlement).id : null, created_at: r.created_at,
      };
    }),
  },
  competitor_price: {
    refs: (r) => [['product', r.product]], key: byExternalId,
    write: (tx, t, items, refs) => simple(tx, t, SPECS.competitorPrices, items, (r) => ({
      external_id: r.external_id, product_id: must(refs, 'product', r.product).id, competitor: r.competitor,
      price_cents: r.price_cents, currency: r.currency, observed_at: r.observed_at, url: r.url,
    })),
  },
};
