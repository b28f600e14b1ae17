// One order with its lines, shipments (carrier, tracking, driver, ETA, lateness and its cause) and
// returns, in ONE statement: the customer's order-status call is the hot path (docs/DESIGN.md §7).
// Runs under the request's RLS context; the explicit tenant (and, for customers, customer)
// predicates are defence in depth and let the planner use the (tenant_id, number) key.
// Late: a recorded cause, an ETA past the promise, or a promise already broken.
import { z } from 'zod';
import type { Tx } from '../../db/context.js';
import { iso, money, moneyOf, untrustedText } from '../mcp/fields.js';
import { untrustedOrNull } from '../mcp/untrusted.js';

export const shipmentOutput = z.object({
  tracking_number: z.string(),
  carrier: z.string(),
  tracking_url: z.string().nullable(),
  status: z.string(),
  shipped_at: z.string().nullable(),
  eta: z.string().nullable(),
  delivered_at: z.string().nullable(),
  late: z.boolean(),
  late_cause_code: z.string().nullable(),
  late_cause: z.string().nullable(),
  driver: z.object({
    name: z.string(),
    position: z.object({ lat: z.number(), lng: z.number() }).nullable(),
    last_seen_at: z.string().nullable(),
  }).nullable().describe('Only while the parcel is on its way'),
});

export const orderDetailOutput = z.object({
  order_number: z.string(),
  status: z.string(),
  placed_at: z.string(),
  promised_by: z.string().nullable(),
  late: z.boolean(),
  total: money,
  lines: z.array(z.object({
    line_no: z.number().int(),
    sku: z.string(),
    product_name: z.string(),
    quantity: z.number().int(),
    unit_price: money,
  })),
  shipments: z.array(shipmentOutput),
  returns: z.array(z.object({ return_number: z.string(), status: z.string(), created_at: z.string() })),
  customer_note: untrustedText.nullable(),
});
export type OrderDetail = z.infer<typeof orderDetailOutput>;

interface Row {
  number: string; status: string; placed_at: Date; promised_by: string | null; total_cents: string; currency: string;
  note: string | null; lines: { line_no: number; sku: string; name: string; quantity: number; unit_price_cents: number }[];
  shipments: {
    tracking_number: string; carrier: string; tracking_url: string | null; status: string; shipped_at: string | null;
    eta: string | null; delivered_at: string | null; late: boolean; late_cause_code: string | null; late_cause: string | null;
    driver_name: string | null; lat: number | null; lng: number | null; last_seen_at: string | null;
  }[];
  returns: { number: string; status: string; created_at: string }[];
  customer_name?: string; customer_email?: string;
}

export async function loadOrderDetail(tx: Tx, tenantId: string, customerId: string | null, number: string): Promise<(OrderDetail & { customer_id: string }) | null> {
  const rows = await tx<(Row & { customer_id: string })[]>`
    select o.number, o.status::text as status, o.placed_at, o.promised_by::text as promised_by, o.total_cents, o.currency,
           o.note, o.customer_id,
      coalesce((select json_agg(json_build_object('line_no', l.line_no, 'sku', p.sku, 'name', p.name,
                       'quantity', l.quantity, 'unit_price_cents', l.unit_price_cents) order by l.line_no)
                from order_lines l join products p on p.tenant_id = l.tenant_id and p.id = l.product_id
                where l.tenant_id = o.tenant_id and l.order_id = o.id), '[]') as lines,
      coalesce((select json_agg(json_build_object('tracking_number', s.tracking_number, 'carrier', c.name,
                       'tracking_url', nullif(replace(c.tracking_url_template, '{tracking_number}', s.tracking_number), ''),
                       'status', s.status, 'shipped_at', s.shipped_at, 'eta', s.eta, 'delivered_at', s.delivered_at,
                       'late', coalesce(s.late_cause_code is not null
                                  or (s.delivered_at is null and s.eta::date > o.promised_by)
                                  or (s.delivered_at is null and o.promised_by < current_date)
                                  or (s.delivered_at::date > o.promised_by), false), 'late_cause_code', s.late_cause_code, 'late_cause', s.late_cause,
                       'driver_name', case when s.status in ('in_transit', 'out_for_delivery') then d.name end,
                       'lat', case when s.status in ('in_transit', 'out_for_delivery') then d.last_lat end,
                       'lng', case when s.status in ('in_transit', 'out_for_delivery') then d.last_lng end,
                       'last_seen_at', case when s.status in ('in_transit', 'out_for_delivery') then d.last_seen_at end)
                       order by s.shipped_at nulls last, s.tracking_number)
                from shipments s
                join carriers c on c.tenant_id = s.tenant_id and c.id = s.carrier_id
                left join drivers d on d.tenant_id = s.tenant_id and d.id = s.driver_id
                where s.tenant_id = o.tenant_id and s.order_id = o.id), '[]') as shipments,
      coalesce((select json_agg(json_build_object('number', r.number, 'status', r.status, 'created_at', r.created_at)
                       order by r.created_at)
                from returns r where r.tenant_id = o.tenant_id and r.order_id = o.id), '[]') as returns
    from orders o
    where o.tenant_id = ${tenantId} and o.number = ${number}
      ${customerId ? tx`and o.customer_id = ${customerId}` : tx``}`;
  const r = rows[0];
  if (!r) return null;
  const shipments = r.shipments.map((s) => ({
    tracking_number: s.tracking_number,
    carrier: s.carrier,
    tracking_url: s.tracking_url,
    status: s.status,
    shipped_at: iso(s.shipped_at),
    eta: iso(s.eta),
    delivered_at: iso(s.delivered_at),
    late: s.late,
    late_cause_code: s.late_cause_code,
    late_cause: s.late_cause,
    driver: s.driver_name
      ? {
          name: s.driver_name,
          position: s.lat !== null && s.lng !== null ? { lat: Number(s.lat), lng: Number(s.lng) } : null,
          last_seen_at: iso(s.last_seen_at),
        }
      : null,
  }));
  const open = !['delivered', 'cancelled', 'returned'].includes(r.status);
  const brokenPromise = open && r.promised_by !== null && r.promised_by < new Date().toISOString().slice(0, 10);
  return {
    customer_id: r.customer_id,
    order_number: r.number,
    status: r.status,
    placed_at: iso(r.placed_at)!,
    promised_by: r.promised_by,
    late: shipments.some((s) => s.late) || (shipments.length === 0 && brokenPromise),
    total: moneyOf(r.total_cents, r.currency),
    lines: r.lines.map((l) => ({
      line_no: l.line_no, sku: l.sku, product_name: l.name, quantity: l.quantity, unit_price: moneyOf(l.unit_price_cents, r.currency),
    })),
    shipments,
    returns: r.returns.map((x) => ({ return_number: x.number, status: x.status, created_at: iso(x.created_at)! })),
    customer_note: untrustedOrNull(r.note),
  };
}
