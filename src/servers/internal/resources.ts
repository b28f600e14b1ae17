// Internal resources (read-only context for the staff assistant): open orders, stock per warehouse,
// in-flight deliveries and drivers, returns, claims, payments and settlements, returns policy,
// price history. Each is capped: a resource is a snapshot, the tools page through the rest.
import type { CallContext, ResourceTemplateDefinition, StaticResourceDefinition } from '../mcp/capability.js';
import { iso } from '../mcp/fields.js';
import { untrusted } from '../mcp/untrusted.js';
import { loadReturnsPolicy } from '../shared/returns-policy.js';

const CAP = 200;

function json(uri: string, name: string, title: string, description: string, scope: string | null, read: (ctx: CallContext) => Promise<unknown>): StaticResourceDefinition {
  return { uri, name, title, description, mimeType: 'application/json', scope, read };
}

export const internalResources: StaticResourceDefinition[] = [
  json('ops://orders/open', 'open-orders', 'Open orders', `Upcoming and open orders (not yet delivered or cancelled), oldest promise first; at most ${CAP}.`, 'ops:read',
    async ({ tx, tenantId }) => ({
      orders: (await tx<{ number: string; status: string; placed_at: Date; promised_by: string | null; total_cents: string; currency: string }[]>`
        select number, status::text as status, placed_at, promised_by::text as promised_by, total_cents, currency from orders
        where tenant_id = ${tenantId} and status in ('pending_payment', 'paid', 'picking', 'shipped')
        order by promised_by nulls last, placed_at limit ${CAP}`).map((o) => ({
        order_number: o.number, status: o.status, placed_at: iso(o.placed_at), promised_by: o.promised_by,
        total: { amount_cents: Number(o.total_cents), currency: o.currency },
      })),
    })),
  json('ops://stock', 'stock', 'Stock per warehouse', `Snapshot of stock per warehouse and product (on hand, reserved, reorder point); at most ${CAP * 5} rows.`, 'ops:read',
    async ({ tx, tenantId }) => ({
      stock: await tx`
        select w.code as warehouse, p.sku, p.name as product_name, sl.on_hand, sl.reserved, sl.on_hand - sl.reserved as available,
               sl.reorder_point, sl.reorder_quantity, sl.updated_at
        from stock_levels sl
        join warehouses w on w.tenant_id = sl.tenant_id and w.id = sl.warehouse_id
        join products p on p.tenant_id = sl.tenant_id and p.id = sl.product_id
        where sl.tenant_id = ${tenantId} order by w.code, p.sku limit ${CAP * 5}`,
    })),
  json('ops://deliveries', 'deliveries', 'In-flight deliveries and drivers', `Shipments not yet delivered with carrier, driver, position and ETA; at most ${CAP}.`, 'ops:read',
    async ({ tx, tenantId }) => ({
      deliveries: await tx`
        select o.number as order_number, s.tracking_number, s.status::text as status, c.name as carrier, w.code as warehouse, s.eta,
               o.promised_by::text as promised_by, s.late_cause_code, s.late_cause, d.name as driver, d.last_lat as lat, d.last_lng as lng,
               d.last_seen_at
        from shipments s
        join orders o on o.tenant_id = s.tenant_id and o.id = s.order_id
        join carriers c on c.tenant_id = s.tenant_id and c.id = s.carrier_id
        join warehouses w on w.tenant_id = s.tenant_id and w.id = s.warehouse_id
        left join drivers d on d.tenant_id = s.tenant_id and d.id = s.driver_id
        where s.tenant_id = ${tenantId} and s.status <> 'delivered' order by s.eta nulls last limit ${CAP}`,
      drivers: await tx`
        select d.name, c.name as carrier, d.active, d.last_lat as lat, d.last_lng as lng, d.last_seen_at
        from drivers d join carriers c on c.tenant_id = d.tenant_id and c.id = d.carrier_id
        where d.tenant_id = ${tenantId} order by c.name, d.name limit ${CAP}`,
    })),
  json('ops://returns', 'returns', 'Returns (RMAs)', `Open returns (requested, approved, received), newest first; at most ${CAP}. Reasons are customer-written data.`, 'ops:read',
    async ({ tx, tenantId }) => ({
      returns: (await tx<{ number: string; order_number: string; status: string; created_at: Date; reason: string }[]>`
        select r.number, o.number as order_number, r.status::text as status, r.created_at, r.reason
        from returns r join orders o on o.tenant_id = r.tenant_id and o.id = r.order_id
        where r.tenant_id = ${tenantId} and r.status in ('requested', 'approved', 'received')
        order by r.created_at desc limit ${CAP}`).map((r) => ({
        return_number: r.number, order_number: r.order_number, status: r.status, created_at: iso(r.created_at), reason: untrusted(r.reason),
      })),
    })),
  json('ops://claims', 'claims', 'Damage claims', `Damage claims, open first; at most ${CAP}. Descriptions are customer-written data.`, 'ops:read',
    async ({ tx, tenantId }) => ({
      claims: (await tx<{ number: string; order_number: string; carrier: string; status: string; amount_cents: string; description: string; opened_at: Date }[]>`
        select dc.number, o.number as order_number, c.name as carrier, dc.status::text as status, dc.amount_cents, dc.description, dc.opened_at
        from damage_claims dc
        join orders o on o.tenant_id = dc.tenant_id and o.id = dc.order_id
        join carriers c on c.tenant_id = dc.tenant_id and c.id = dc.carrier_id
        where dc.tenant_id = ${tenantId} order by dc.status <> 'open', dc.opened_at desc limit ${CAP}`).map((c) => ({
        claim_number: c.number, order_number: c.order_number, carrier: c.carrier, status: c.status, amount_cents: Number(c.amount_cents),
        description: untrusted(c.description), opened_at: iso(c.opened_at),
      })),
    })),
  json('ops://payments', 'payments', 'Payments and settlements', 'Payment status totals and the settlements of recent months.', 'payments:read',
    async ({ tx, tenantId }) => ({
      payments_by_status: await tx`
        select status::text as status, count(*)::int as count, sum(amount_cents)::text as amount_cents, sum(refunded_cents)::text as refunded_cents
        from payments where tenant_id = ${tenantId} group by status order by status`,
      settlements: await tx`
        select period_start::text, period_end::text, gross_cents::text, fees_cents::text, refunds_cents::text, net_cents::text, status, paid_at
        from settlements where tenant_id = ${tenantId} order by period_start desc limit 24`,
    })),
  json('policy://returns', 'returns-policy', 'Returns policy', 'The tenant\'s returns policy: window, non-returnable categories, text.', null,
    (ctx) => loadReturnsPolicy(ctx)),
];

const PRICE_URI = /^ops:\/\/prices\/([A-Za-z0-9][A-Za-z0-9._-]{0,63})$/;

export const priceHistoryResource: ResourceTemplateDefinition = {
  uriTemplate: 'ops://prices/{sku}',
  name: 'price-history',
  title: 'Price history',
  description: 'Every price a product has had, newest first.',
  mimeType: 'application/json',
  scope: 'ops:read',
  match(uri) {
    const m = PRICE_URI.exec(uri);
    return m ? { sku: m[1]! } : null;
  },
  async read({ tx, tenantId }, params) {
    const [p] = await tx<{ id: string; sku: string; name: string }[]>`select id, sku, name from products where tenant_id = ${tenantId} and sku = ${params.sku!}`;
    if (!p) return null;
    const prices = await tx<{ amount_cents: string; currency: string; valid_from: Date; valid_to: Date | null }[]>`
      select amount_cents, currency, valid_from, valid_to from product_prices
      where tenant_id = ${tenantId} and product_id = ${p.id} order by valid_from desc limit 100`;
    return {
      sku: p.sku, product_name: p.name,
      prices: prices.map((x) => ({ amount_cents: Number(x.amount_cents), currency: x.currency, valid_from: iso(x.valid_from), valid_to: iso(x.valid_to) })),
    };
  },
};
