// The record kinds of an upload (docs/INGESTION.md): one zod schema per kind, strict (A3: no
// tenant_id, id, password or any field not listed here), texts that PostgreSQL can store (E1: no
// NUL, no lone surrogate, bounded), references by the tenant's own external ids only (A1: an
// internal uuid is never accepted, so nothing can point across tenants).
import { z } from 'zod';

/** A storable text: no NUL or lone surrogate (E1), at most `max` characters. */
const text = (max: number) =>
  z.string().max(max).refine((s) => !s.includes('\u0000') && s.isWellFormed(), 'NUL or lone surrogate characters are not allowed');
const required = (max: number) => text(max).refine((s) => s.trim().length > 0, 'must not be empty');

/** The tenant's own id of a record, and of a record referred to. */
export const externalId = required(200);
const ref = externalId;
const cents = z.number().int().min(0).max(1_000_000_000_000);
const count = z.number().int().min(0).max(100_000_000);
const currency = z.string().regex(/^[A-Z]{3}$/, 'ISO 4217 code in capitals');
const timestamp = z.iso.datetime({ offset: true });
const date = z.iso.date();

const warehouse = z.strictObject({
  kind: z.literal('warehouse'), external_id: externalId, code: required(50), name: required(200), city: required(200),
});

const carrier = z.strictObject({
  kind: z.literal('carrier'), external_id: externalId, name: required(200), tracking_url_template: text(500).default(''),
});

const product = z.strictObject({
  kind: z.literal('product'), external_id: externalId, sku: required(100), name: required(300), description: text(5000).default(''),
  category: required(100), returnable: z.boolean().default(true), active: z.boolean().default(true), created_at: timestamp.optional(),
});

/** A price of a product from `valid_from`; without `valid_to` it becomes the current price. */
const price = z.strictObject({
  kind: z.literal('price'), external_id: externalId, product: ref, amount_cents: cents, currency,
  valid_from: timestamp, valid_to: timestamp.nullable().default(null),
}).refine((p) => p.valid_to === null || p.valid_to > p.valid_from, { message: 'valid_to must be after valid_from', path: ['valid_to'] });

/** The unit cost on file for a product (what reorders are valued at, A8). */
const supplierCost = z.strictObject({ kind: z.literal('supplier_cost'), product: ref, unit_cost_cents: cents });

const stock = z.strictObject({
  kind: z.literal('stock'), warehouse: ref, product: ref, on_hand: count, reserved: count.default(0),
  reorder_point: count.default(0), reorder_quantity: count.default(0), updated_at: timestamp.optional(),
});

const customer = z.strictObject({
  kind: z.literal('customer'), external_id: externalId,
  email: z.email().max(254).transform((e) => e.toLowerCase()),
  name: required(200),
  payment_method: z.strictObject({ type: z.literal('test_card'), brand: text(20).optional(), last4: z.string().regex(/^\d{4}$/) })
    .default({ type: 'test_card', last4: '4242' }),
  created_at: timestamp.optional(),
});

const settlement = z.strictObject({
  kind: z.literal('settlement'), external_id: externalId, period_start: date, period_end: date,
  gross_cents: z.number().int().min(-1e12).max(1e12), fees_cents: z.number().int().min(-1e12).max(1e12),
  refunds_cents: z.number().int().min(-1e12).max(1e12), net_cents: z.number().int().min(-1e12).max(1e12),
  status: z.enum(['pending', 'paid']), paid_at: timestamp.nullable().default(null),
});

const orderLine = z.strictObject({
  line_no: z.number().int().min(1).max(10_000), product: ref, quantity: z.number().int().min(1).max(1_000_000), unit_price_cents: cents,
});

const ORDER_STATUSES = ['pending_payment', 'paid', 'picking', 'shipped', 'delivered', 'cancelled', 'returned'] as const;

/** An order and all its lines: written whole or not at all. Its total is the sum of its lines. */
const order = z.strictObject({
  kind: z.literal('order'), external_id: externalId, number: required(100), customer: ref, status: z.enum(ORDER_STATUSES),
  currency, placed_at: timestamp.optional(), updated_at: timestamp.optional(), promised_by: date.nullable().default(null),
  note: text(2000).nullable().default(null),
  shipping_address: z.record(text(50), text(300)).refine((a) => Object.keys(a).length <= 20, 'at most 20 fields').default({}),
  lines: z.array(orderLine).min(1).max(500),
}).refine((o) => new Set(o.lines.map((l) => l.line_no)).size === o.lines.length, { message: 'line numbers repeat', path: ['lines'] });

const SHIPMENT_STATUSES = ['label_created', 'in_transit', 'out_for_delivery', 'delivered', 'exception'] as const;
const EVENT_STATUSES = ['label_created', 'picked_up', 'in_transit', 'out_for_delivery', 'delivered', 'exception'] as const;
export const LATE_CAUSE_CODES = ['weather', 'carrier_capacity', 'address_issue', 'customs', 'warehouse_backlog', 'vehicle_breakdown'] as const;

const trackingEvent = z.strictObject({
  status: z.enum(EVENT_STATUSES), occurred_at: timestamp, location: text(200).nullable().default(null), description: text(500).nullable().default(null),
});

/** A shipment of an order, with tracking events (added, never removed). */
const shipment = z.strictObject({
  kind: z.literal('shipment'), external_id: externalId, order: ref, warehouse: ref, carrier: ref, tracking_number: required(100),
  status: z.enum(SHIPMENT_STATUSES), shipped_at: timestamp.nullable().default(null), eta: timestamp.nullable().default(null),
  delivered_at: timestamp.nullable().default(null), late_cause_code: z.enum(LATE_CAUSE_CODES).nullable().default(null),
  late_cause: text(500).nullable().default(null), updated_at: timestamp.optional(),
  events: z.array(trackingEvent).max(200).default([]),
});

const returnLine = z.strictObject({
  line_no: z.number().int().min(1).max(10_000), quantity: z.number().int().min(1).max(1_000_000),
  condition: z.enum(['unopened', 'opened', 'damaged']).default('unopened'),
});

/** A return (RMA) of lines of one order: written whole or not at all. */
const returnRecord = z.strictObject({
  kind: z.literal('return'), external_id: externalId, number: required(100), order: ref,
  status: z.enum(['requested', 'approved', 'rejected', 'received', 'refunded']), reason: required(2000),
  created_at: timestamp.optional(), decided_at: timestamp.nullable().default(null), decision_note: text(2000).nullable().default(null),
  lines: z.array(returnLine).min(1).max(500),
}).refine((r) => new Set(r.lines.map((l) => l.line_no)).size === r.lines.length, { message: 'line numbers repeat', path: ['lines'] });

const payment = z.strictObject({
  kind: z.literal('payment'), external_id: externalId, order: ref, amount_cents: cents, refunded_cents: cents.default(0), currency,
  method: required(50).default('test_card'), status: z.enum(['authorized', 'captured', 'partially_refunded', 'refunded', 'failed']),
  settlement: ref.nullable().default(null), created_at: timestamp.optional(),
}).refine((p) => p.refunded_cents <= p.amount_cents, { message: 'refunded_cents exceeds amount_cents', path: ['refunded_cents'] });

const competitorPrice = z.strictObject({
  kind: z.literal('competitor_price'), external_id: externalId, product: ref, competitor: required(200), price_cents: cents, currency,
  observed_at: timestamp, url: z.url({ protocol: /^https?$/ }).max(2000).nullable().default(null),
});

/** The kinds in the order their records are applied within a chunk: what is referred to comes first. */
export const KINDS = [
  'warehouse', 'carrier', 'product', 'price', 'supplier_cost', 'stock', 'customer', 'settlement', 'order', 'shipment',
  'return', 'payment', 'competitor_price',
] as const;
export type Kind = (typeof KINDS)[number];

export const RECORD_SCHEMAS = {
  warehouse, carrier, product, price, supplier_cost: supplierCost, stock, customer, settlement, order, shipment,
  return: returnRecord, payment, competitor_price: competitorPrice,
} as const satisfies Record<Kind, z.ZodType>;

export type RecordOf<K extends Kind> = z.output<(typeof RECORD_SCHEMAS)[K]>;
export type AnyRecord = { [K in Kind]: RecordOf<K> }[Kind];

export function isKind(k: unknown): k is Kind {
  return typeof k === 'string' && (KINDS as readonly string[]).includes(k);
}

/** One parsed line: the record, or why it is refused (a short, field-naming reason). */
export type ParsedLine = { ok: true; record: AnyRecord } | { ok: false; reason: string };

export function parseRecord(value: unknown): ParsedLine {
  if (!value || typeof value !== 'object' || Array.isArray(value)) return { ok: false, reason: 'not a JSON object' };
  const kind = (value as { kind?: unknown }).kind;
  if (!isKind(kind)) return { ok: false, reason: `kind: one of ${KINDS.join(', ')}` };
  const parsed = RECORD_SCHEMAS[kind].safeParse(value);
  if (parsed.success) return { ok: true, record: parsed.data as AnyRecord };
  const issue = parsed.error.issues[0]!;
  const where = issue.path.length ? `${issue.path.join('.')}: ` : '';
  // A3: a field the kind does not have (tenant_id, id, password_hash, ...) is refused, by name.
  if (issue.code === 'unrecognized_keys') return { ok: false, reason: `${where}unknown field ${issue.keys.map((k) => JSON.stringify(k.slice(0, 60))).join(', ')}` };
  return { ok: false, reason: `${where || `${kind}: `}${issue.message}` };
}
