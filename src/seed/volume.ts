// Volume data for the "latency must not grow with data" goal (docs/DESIGN.md §7: 10 k → 1 M orders).
// Fills one existing tenant with N orders plus their lines, shipments, payments and refunds, spread
// over the tenant's customers (topped up with bulk "volume" customers). Rows go in as one bulk
// INSERT per table and batch, one transaction per batch, on the owner connection (its
// owner_maintenance policy lets it write any tenant's rows; see demo.ts). Order numbers are reserved
// from tenant_counters up front, so the service can keep drawing numbers while this runs.
import { randomBytes, randomUUID } from 'node:crypto';
import type postgres from 'postgres';
import { hashPassword } from '../tenants/passwords.js';
import { COUNTER_NAMES, NUMBER_PREFIXES, TENANT_CANARIES } from './demo.js';
import { LATE_CAUSES, NAME_PARTS, ORDER_NOTES, type LateCauseCode } from './fixtures.js';
import { SeededRandom } from './random.js';

export interface VolumeOptions {
  tenant: string;
  orders: number;
  /** Bulk customers to have in the tenant (created once, reused by later runs). Default 10,000. */
  customers?: number;
  /** Orders per COPY batch (one transaction each). Default 10,000. */
  batchSize?: number;
  /** Batches in flight on separate connections. Default 2. */
  concurrency?: number;
  /** Orders span the two years before this time. Default: now. */
  reference?: Date;
  onProgress?: (done: number, total: number) => void;
}

export interface VolumeSummary {
  tenant: string;
  orders: number;
  firstNumber: string;
  lastNumber: string;
  customersCreated: number;
  rows: Record<string, number>;
  elapsedMs: number;
  rowsPerSecond: number;
}

const VOLUME_EMAIL_PREFIX = 'volume-';
const DAY_MS = 86_400_000;
const HOUR_MS = 3_600_000;
const SPAN_DAYS = 730;

interface TenantCatalogue {
  tenantId: string;
  currency: string;
  canary: string;
  products: { id: string; cents: number }[];
  warehouses: string[];
  carriers: { id: string; drivers: string[] }[];
}

export async function seedVolume(ownerSql: postgres.Sql, options: VolumeOptions): Promise<VolumeSummary> {
  const started = performance.now();
  const total = Math.floor(options.orders);
  if (!(total > 0)) throw new RangeError('orders must be a positive integer');
  const batchSize = options.batchSize ?? 10_000;
  const concurrency = Math.max(1, options.concurrency ?? 2);
  const reference = options.reference ?? new Date();
  const catalogue = await loadCatalogue(ownerSql, options.tenant);

  const customersCreated = await ensureVolumeCustomers(ownerSql, catalogue, options.tenant, options.customers ?? 10_000);
  const customerIds = (await ownerSql<{ id: string }[]>`
    select id from customers where tenant_id = ${catalogue.tenantId} and disabled_at is null order by email`).map((r) => r.id);
  if (customerIds.length === 0) throw new Error(`tenant ${options.tenant} has no customers`);

  // Reserve the whole number range in one short transaction.
  const [counter] = await ownerSql<{ value: string }[]>`
    insert into tenant_counters (tenant_id, name, value) values (${catalogue.tenantId}, ${COUNTER_NAMES.orders}, ${1000 + total})
    on conflict (tenant_id, name) do update set value = tenant_counters.value + ${total}
    returning value`;
  const firstNumber = Number(counter!.value) - total + 1;

  const rows: Record<string, number> = { orders: 0, order_lines: 0, shipments: 0, payments: 0, refunds: 0 };
  const batches: { start: number; count: number }[] = [];
  for (let start = 0; start < total; start += batchSize) batches.push({ start, count: Math.min(batchSize, total - start) });

  let done = 0;
  let next = 0;
  const worker = async () => {
    while (next < batches.length) {
      const batch = batches[next++]!;
      const rng = new SeededRandom(`volume:${options.tenant}:${firstNumber + batch.start}`);
      const data = generateBatch(rng, catalogue, customerIds, reference, firstNumber + batch.start, batch.count);
      await ownerSql.begin(async (tx) => {
        // Volume data is regenerable: skip the WAL flush per batch.
        await tx`set local synchronous_commit = off`;
        await insertBulk(tx, 'orders', ORDER_COLUMNS, data.orders);
        await insertBulk(tx, 'order_lines', LINE_COLUMNS, data.lines);
        await insertBulk(tx, 'shipments', SHIPMENT_COLUMNS, data.shipments);
        await insertBulk(tx, 'payments', PAYMENT_COLUMNS, data.payments);
        await insertBulk(tx, 'refunds', REFUND_COLUMNS, data.refunds);
      });
      rows.orders! += batch.count;
      rows.order_lines! += data.counts.lines;
      rows.shipments! += data.counts.shipments;
      rows.payments! += batch.count;
      rows.refunds! += data.counts.refunds;
      done += batch.count;
      options.onProgress?.(done, total);
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, batches.length) }, worker));
  // Fresh statistics, so the planner sees the new size before the first benchmark query.
  await ownerSql`analyze customers, orders, order_lines, shipments, payments, refunds`;

  const elapsedMs = Math.round(performance.now() - started);
  const inserted = Object.values(rows).reduce((a, b) => a + b, 0) + customersCreated;
  return {
    tenant: options.tenant,
    orders: total,
    firstNumber: `${NUMBER_PREFIXES.orders}${firstNumber}`,
    lastNumber: `${NUMBER_PREFIXES.orders}${firstNumber + total - 1}`,
    customersCreated,
    rows: { customers: customersCreated, ...rows },
    elapsedMs,
    rowsPerSecond: Math.round(inserted / (elapsedMs / 1000)),
  };
}

async function loadCatalogue(sql: postgres.Sql, slug: string): Promise<TenantCatalogue> {
  const [tenant] = await sql<{ id: string; currency: string | null }[]>`
    select t.id, s.currency from tenants t left join tenant_settings s on s.tenant_id = t.id where t.slug = ${slug}`;
  if (!tenant) throw new Error(`tenant ${slug} not found (seed the demo tenants first, or create it)`);
  const products = await sql<{ id: string; cents: string }[]>`
    select p.id, pp.amount_cents as cents from products p
    join product_prices pp on pp.tenant_id = p.tenant_id and pp.product_id = p.id and pp.valid_to is null
    where p.tenant_id = ${tenant.id} and p.active order by p.sku`;
  const warehouses = await sql<{ id: string }[]>`select id from warehouses where tenant_id = ${tenant.id} order by code`;
  const carriers = await sql<{ id: string; drivers: string[] | null }[]>`
    select c.id, array_agg(d.id order by d.name) filter (where d.id is not null) as drivers
    from carriers c left join drivers d on d.tenant_id = c.tenant_id and d.carrier_id = c.id and d.active
    where c.tenant_id = ${tenant.id} group by c.id, c.name order by c.name`;
  if (!products.length || !warehouses.length || !carriers.length) {
    throw new Error(`tenant ${slug} needs products with prices, warehouses and carriers before volume data`);
  }
  return {
    tenantId: tenant.id,
    currency: tenant.currency ?? 'EUR',
    canary: (TENANT_CANARIES as Record<string, string>)[slug] ?? `CANARY-${slug.toUpperCase()}`,
    products: products.map((p) => ({ id: p.id, cents: Number(p.cents) })),
    warehouses: warehouses.map((w) => w.id),
    carriers: carriers.map((c) => ({ id: c.id, drivers: c.drivers ?? [] })),
  };
}

/** Tops the tenant up to `wanted` bulk customers. They share one hash of a random, discarded password. */
async function ensureVolumeCustomers(sql: postgres.Sql, catalogue: TenantCatalogue, slug: string, wanted: number): Promise<number> {
  const [row] = await sql<{ n: string }[]>`
    select count(*) as n from customers where tenant_id = ${catalogue.tenantId} and email like ${VOLUME_EMAIL_PREFIX + '%'}`;
  const have = Number(row!.n);
  if (have >= wanted) return 0;
  const passwordHash = await hashPassword(randomBytes(24).toString('base64url'));
  const rng = new SeededRandom(`volume-customers:${slug}`);
  const tag = catalogue.canary.toLowerCase();
  const lines: Value[][] = [];
  for (let i = have + 1; i <= wanted; i++) {
    const name = `${rng.pick(NAME_PARTS.first)} ${rng.pick(NAME_PARTS.last)}`;
    const email = `${VOLUME_EMAIL_PREFIX}${String(i).padStart(6, '0')}+${tag}@${slug}.example`;
    lines.push([catalogue.tenantId, randomUUID(), email, name, passwordHash]);
  }
  await sql.begin(async (tx) => insertBulk(tx, 'customers', ['tenant_id', 'id', 'email', 'name', 'password_hash'], lines));
  return lines.length;
}

// ---------------------------------------------------------------------------------------------
// Batch generation: rows as positional value arrays, in the column order of the *_COLUMNS lists.

const ORDER_COLUMNS = ['tenant_id', 'id', 'number', 'customer_id', 'status', 'currency', 'total_cents', 'shipping_address', 'note', 'promised_by', 'placed_at', 'updated_at'];
const LINE_COLUMNS = ['tenant_id', 'order_id', 'line_no', 'customer_id', 'product_id', 'quantity', 'unit_price_cents'];
const SHIPMENT_COLUMNS = ['tenant_id', 'id', 'order_id', 'customer_id', 'warehouse_id', 'carrier_id', 'driver_id', 'tracking_number', 'status', 'shipped_at', 'eta', 'delivered_at', 'late_cause_code', 'late_cause', 'updated_at'];
const PAYMENT_COLUMNS = ['tenant_id', 'id', 'order_id', 'customer_id', 'amount_cents', 'refunded_cents', 'currency', 'method', 'status', 'created_at'];
const REFUND_COLUMNS = ['tenant_id', 'id', 'payment_id', 'order_id', 'customer_id', 'amount_cents', 'reason', 'created_at'];

const ADDRESSES = ['Amsterdam|1012 AB|NL', 'Berlin|10115|DE', 'Lyon|69002|FR', 'Madrid|28013|ES', 'Milan|20121|IT', 'Vienna|1010|AT', 'Antwerp|2000|BE']
  .map((a) => { const [city, postal_code, country] = a.split('|'); return { city, postal_code, country }; });
const LATE_CODES = Object.keys(LATE_CAUSES) as LateCauseCode[];

type VolumeStatus = 'pending_payment' | 'paid' | 'picking' | 'shipped' | 'delivered' | 'cancelled';

/** Old orders are settled (delivered or cancelled); the last two weeks hold the in-flight mix. */
function statusFor(rng: SeededRandom, ageDays: number): VolumeStatus {
  if (ageDays > 14) return rng.chance(0.04) ? 'cancelled' : 'delivered';
  if (ageDays < 0.5) return rng.weighted([['pending_payment', 3], ['paid', 5], ['cancelled', 1]] as const);
  if (ageDays < 1.5) return rng.weighted([['paid', 2], ['picking', 5], ['cancelled', 1]] as const);
  if (ageDays < 4) return rng.weighted([['picking', 1], ['shipped', 8], ['delivered', 1]] as const);
  return rng.weighted([['shipped', 1], ['delivered', 30], ['cancelled', 2]] as const);
}

function generateBatch(rng: SeededRandom, c: TenantCatalogue, customerIds: string[], reference: Date, firstNumber: number, count: number) {
  const orders: Value[][] = [];
  const lines: Value[][] = [];
  const shipments: Value[][] = [];
  const payments: Value[][] = [];
  const refunds: Value[][] = [];
  const now = reference.getTime();
  const t = c.tenantId;
  for (let i = 0; i < count; i++) {
    const number = firstNumber + i;
    // Skewed towards recent dates (growing business): age = span * u^1.5.
    const ageDays = SPAN_DAYS * Math.pow(rng.next(), 1.5);
    const placed = now - ageDays * DAY_MS;
    const status = statusFor(rng, ageDays);
    const orderId = randomUUID();
    const customerId = customerIds[rng.int(0, customerIds.length - 1)]!;

    const lineCount = rng.weighted([[1, 5], [2, 3], [3, 2]] as const);
    let totalCents = 0;
    const first = rng.int(0, c.products.length - 1);
    for (let l = 1; l <= lineCount; l++) {
      const product = c.products[(first + (l - 1) * 7) % c.products.length]!;
      const quantity = rng.weighted([[1, 6], [2, 3], [3, 1]] as const);
      totalCents += product.cents * quantity;
      lines.push([t, orderId, l, customerId, product.id, quantity, product.cents]);
    }

    let updated = placed + HOUR_MS;
    if (status === 'picking' || status === 'shipped' || status === 'delivered') {
      const carrier = c.carriers[rng.int(0, c.carriers.length - 1)]!;
      const driver = carrier.drivers.length ? carrier.drivers[rng.int(0, carrier.drivers.length - 1)]! : null;
      const warehouse = c.warehouses[rng.int(0, c.warehouses.length - 1)]!;
      const shippedAt = placed + rng.int(8, 26) * HOUR_MS;
      let shipStatus: string;
      let shipped: number | null = shippedAt;
      let eta = shippedAt + rng.int(40, 60) * HOUR_MS;
      let delivered: number | null = null;
      let lateCode: LateCauseCode | null = null;
      if (status === 'picking') {
        shipStatus = 'label_created';
        shipped = null;
        eta = Math.max(eta, now + rng.int(12, 48) * HOUR_MS);
      } else if (status === 'delivered') {
        shipStatus = 'delivered';
        delivered = Math.min(eta + rng.int(-8, 4) * HOUR_MS, now - HOUR_MS);
        if (rng.chance(0.05)) { lateCode = rng.pick(LATE_CODES); delivered = Math.min(eta + rng.int(6, 30) * HOUR_MS, now - HOUR_MS); }
        updated = delivered;
      } else {
        shipStatus = rng.weighted([['in_transit', 7], ['out_for_delivery', 2], ['exception', 1]] as const);
        if (shipped > now) shipped = now - HOUR_MS;
        if (eta < now || shipStatus === 'exception') lateCode = rng.pick(LATE_CODES); // late: a cause, always
        if (shipStatus === 'exception' && eta > now) eta = now - rng.int(2, 24) * HOUR_MS;
        updated = now - rng.int(1, 6) * HOUR_MS;
      }
      const lateCause = lateCode ? rng.pick(LATE_CAUSES[lateCode]).replace('{hub}', 'the regional') : null;
      shipments.push([t, randomUUID(), orderId, customerId, warehouse, carrier.id,
        shipStatus === 'label_created' ? null : driver, `VX${number}`, shipStatus, iso(shipped), iso(eta), iso(delivered),
        lateCode, lateCause, iso(updated)]);
    }

    const paymentId = randomUUID();
    let paymentStatus: string;
    let refunded = 0;
    if (status === 'pending_payment') paymentStatus = rng.chance(0.2) ? 'failed' : 'authorized';
    else if (status === 'cancelled') {
      paymentStatus = rng.chance(0.5) ? 'failed' : 'refunded';
      if (paymentStatus === 'refunded') {
        refunded = totalCents;
        refunds.push([t, randomUUID(), paymentId, orderId, customerId, totalCents, 'Order cancelled before shipping', iso(placed + 2 * HOUR_MS)]);
      }
    } else paymentStatus = 'captured';
    payments.push([t, paymentId, orderId, customerId, totalCents, refunded, c.currency, 'test_card', paymentStatus, iso(placed + 60_000)]);

    const a = ADDRESSES[number % ADDRESSES.length]!;
    const address = { line1: `Volume Street ${(number % 200) + 1}`, city: a.city!, postal_code: a.postal_code!, country: a.country! };
    const note = rng.chance(0.1) ? `${rng.pick(ORDER_NOTES)} ${c.canary}` : null;
    orders.push([t, orderId, `${NUMBER_PREFIXES.orders}${number}`, customerId, status, c.currency, totalCents, address, note,
      new Date(placed + 5 * DAY_MS).toISOString().slice(0, 10), iso(placed), iso(Math.min(updated, now))]);
  }
  return { orders, lines, shipments, payments, refunds, counts: { lines: lines.length, shipments: shipments.length, refunds: refunds.length } };
}

function iso(ms: number | null): string | null {
  return ms === null ? null : new Date(ms).toISOString();
}

type Value = string | number | null | Record<string, string>;

/**
 * Inserts many rows with one statement: the batch travels as a single JSON parameter and
 * json_populate_recordset turns it into rows of `table`, so RLS WITH CHECK applies as to any insert.
 * (COPY FROM is refused for roles subject to row-level security, which the owner is under FORCE;
 * and a multi-row VALUES list would hit the protocol's 65,535-parameter limit.)
 */
async function insertBulk(tx: postgres.TransactionSql, table: string, columns: readonly string[], rows: Value[][]): Promise<void> {
  if (rows.length === 0) return;
  const objects = rows.map((row) => {
    const object: Record<string, Value> = {};
    for (let i = 0; i < columns.length; i++) object[columns[i]!] = row[i] ?? null;
    return object;
  });
  const payload = JSON.stringify(objects);
  await tx`insert into ${tx(table)} (${tx(columns as string[])})
    select ${tx(columns as string[])} from json_populate_recordset(null::${tx(table)}, ${payload}::text::json)`;
}
