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

/**
 * What both fills start with: the tenant's catalogue, its volume customers (created as needed) and
 * the whole range of order numbers, reserved in one short transaction.
 */
async function reserveVolume(ownerSql: postgres.Sql, tenant: string, customers: number, total: number) {
  const catalogue = await loadCatalogue(ownerSql, tenant);
  const customersCreated = await ensureVolumeCustomers(ownerSql, catalogue, tenant, customers);
  const customerIds = (await ownerSql<{ id: string }[]>`
    select id from customers where tenant_id = ${catalogue.tenantId} and disabled_at is null order by email`).map((r) => r.id);
  if (customerIds.length === 0) throw new Error(`tenant ${tenant} has no customers`);
  const [counter] = await ownerSql<{ value: string }[]>`
    insert into tenant_counters (tenant_id, name, value) values (${catalogue.tenantId}, ${COUNTER_NAMES.orders}, ${1000 + total})
    on conflict (tenant_id, name) do update set value = tenant_counters.value + ${total}
    returning value`;
  return { catalogue, customersCreated, customerIds, firstNumber: Number(counter!.value) - total + 1 };
}

export async function seedVolume(ownerSql: postgres.Sql, options: VolumeOptions): Promise<VolumeSummary> {
  const started = performance.now();
  const total = Math.floor(options.orders);
  if (!(total > 0)) throw new RangeError('orders must be a positive integer');
  const batchSize = options.batchSize ?? 10_000;
  const concurrency = Math.max(1, options.concurrency ?? 2);
  const reference = options.reference ?? new Date();
  const { catalogue, customersCreated, customerIds, firstNumber } = await reserveVolume(ownerSql, options.tenant, options.customers ?? 10_000, total);

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

// ---------------------------------------------------------------------------------------------
// The set-based path: the database generates the rows itself (generate_series, one transaction per
// chunk), so nothing but a few parameters travels over the wire. Same shape and mix as the batch
// path above (statusFor, generateBatch: lines, shipments with carrier, driver and lateness, payments,
// refunds) plus each shipment's carrier events; the draws come from a hash of the order number and a
// draw index (pg_temp.vol_u), so a given number always gets the same order (not the same as the
// batch path's, whose draws come from SeededRandom). Runs as the owner (owner_maintenance policy)
// with the tenant's own id in every row, like the batch path.
// Why it is fast: numbers follow time and the generated ids are time-ordered (uuidv7), rows go in
// key order, so every primary key, foreign-key probe and (tenant, order_id) index is appended to at
// its right edge instead of touched at random: with random ids (gen_random_uuid, as the service
// mints them) the indexes outgrow shared_buffers near a million orders and each insert pays random
// page reads and evictions (measured: 1 M orders 934 s with random ids on a loaded machine).

export interface SetVolumeOptions {
  tenant: string;
  orders: number;
  /** Bulk customers to have in the tenant (created once, reused by later runs). Default 10,000. */
  customers?: number;
  /** Orders per transaction. Default 50,000. */
  chunkSize?: number;
  /** Chunks in flight on separate connections. Default 2. */
  concurrency?: number;
  /** Orders span the two years before this time. Default: now. */
  reference?: Date;
  onProgress?: (done: number, total: number) => void;
}

/** 1 M orders (≈ 9.4 M rows with lines, shipments, their events and payments): 531 s of PostgreSQL CPU here (docs/HOT-PATH.md). */
export async function seedVolumeInDatabase(ownerSql: postgres.Sql, options: SetVolumeOptions): Promise<VolumeSummary> {
  const started = performance.now();
  const total = Math.floor(options.orders);
  if (!(total > 0)) throw new RangeError('orders must be a positive integer');
  const chunkSize = options.chunkSize ?? 50_000;
  const concurrency = Math.max(1, options.concurrency ?? 2);
  const reference = options.reference ?? new Date();
  const { catalogue, customersCreated, customerIds, firstNumber } = await reserveVolume(ownerSql, options.tenant, options.customers ?? 10_000, total);
  const lookups = JSON.stringify({
    products: catalogue.products, customers: customerIds, warehouses: catalogue.warehouses, carriers: catalogue.carriers,
    causes: LATE_CODES.map((code) => ({ code, texts: LATE_CAUSES[code].map((t) => t.replace('{hub}', 'the regional')) })),
    notes: ORDER_NOTES, addresses: ADDRESSES,
  });

  const rows: Record<string, number> = { orders: 0, order_lines: 0, shipments: 0, shipment_events: 0, payments: 0, refunds: 0 };
  const chunks: { first: number; count: number }[] = [];
  for (let start = 0; start < total; start += chunkSize) chunks.push({ first: firstNumber + start, count: Math.min(chunkSize, total - start) });
  let done = 0;
  let next = 0;
  const worker = async () => {
    while (next < chunks.length) {
      const chunk = chunks[next++]!;
      const counts = await ownerSql.begin((tx) => insertChunk(tx, catalogue, lookups, reference, { first: firstNumber, total }, chunk.first, chunk.count));
      for (const [table, n] of Object.entries(counts)) rows[table] = (rows[table] ?? 0) + n;
      done += chunk.count;
      options.onProgress?.(done, total);
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, chunks.length) }, worker));
  await ownerSql`analyze customers, orders, order_lines, shipments, shipment_events, payments, refunds`;

  const elapsedMs = Math.round(performance.now() - started);
  const inserted = Object.values(rows).reduce((a, b) => a + b, 0) + customersCreated;
  return {
    tenant: options.tenant, orders: total,
    firstNumber: `${NUMBER_PREFIXES.orders}${firstNumber}`, lastNumber: `${NUMBER_PREFIXES.orders}${firstNumber + total - 1}`,
    customersCreated, rows: { customers: customersCreated, ...rows }, elapsedMs,
    rowsPerSecond: Math.round(inserted / (elapsedMs / 1000)),
  };
}

/** One chunk of orders numbered first … first + count - 1 (of the range `all`), in the caller's transaction. */
async function insertChunk(tx: postgres.TransactionSql, c: TenantCatalogue, lookups: string, reference: Date, all: { first: number; total: number }, first: number, count: number): Promise<Record<string, number>> {
  const t = c.tenantId;
  const prefix = NUMBER_PREFIXES.orders;
  await tx`set local synchronous_commit = off`; // regenerable data: no WAL flush per chunk
  // Draw k of order n: uniform in [0, 1), from a hash (inlined by the planner: a plain SQL function).
  await tx`create or replace function pg_temp.vol_u(n bigint, k int) returns float8 language sql immutable
           as $$ select (hashint8(n * 64 + k)::bigint & 2147483647)::float8 / 2147483648.0 $$`;
  await tx`create temp table vol_lookups on commit drop as select ${lookups}::text::jsonb as j`;
  await tx`create temp table vol_products on commit drop as
           select (ord - 1)::int as idx, (e->>'id')::uuid as id, (e->>'cents')::bigint as cents
           from vol_lookups, jsonb_array_elements(j->'products') with ordinality as x(e, ord)`;
  await tx`create temp table vol_customers on commit drop as
           select (ord - 1)::int as idx, (e #>> '{}')::uuid as id from vol_lookups, jsonb_array_elements(j->'customers') with ordinality as x(e, ord)`;
  await tx`create temp table vol_warehouses on commit drop as
           select (ord - 1)::int as idx, (e #>> '{}')::uuid as id from vol_lookups, jsonb_array_elements(j->'warehouses') with ordinality as x(e, ord)`;
  await tx`create temp table vol_carriers on commit drop as
           select (ord - 1)::int as idx, (e->>'id')::uuid as id,
                  array(select d::uuid from jsonb_array_elements_text(e->'drivers') d) as drivers
           from vol_lookups, jsonb_array_elements(j->'carriers') with ordinality as x(e, ord)`;
  await tx`create temp table vol_causes on commit drop as
           select (ord - 1)::int as idx, e->>'code' as code, array(select x from jsonb_array_elements_text(e->'texts') x) as texts
           from vol_lookups, jsonb_array_elements(j->'causes') with ordinality as x(e, ord)`;

  // Keyed and analysed, so each draw's lookup is one index probe (not a nested loop over the table).
  for (const table of ['vol_products', 'vol_customers', 'vol_warehouses', 'vol_carriers', 'vol_causes']) {
    await tx`alter table ${tx(table)} add primary key (idx)`;
  }
  await tx`analyze vol_products, vol_customers, vol_warehouses, vol_carriers, vol_causes`;

  // Orders: numbers follow time, as a shop's do (the oldest first), with ages skewed towards recent
  // dates like the batch path's span * u^1.5 (here u = 1 - rank); status by age (statusFor), customer,
  // line count (1: 5, 2: 3, 3: 2), first product, payment status.
  await tx`create temp table vol_o on commit drop as
    with base as (
      select n, ${reference}::timestamptz as now_, ${SPAN_DAYS} * power(1 - (n - ${all.first})::float8 / ${all.total}, 1.5) as age, pg_temp.vol_u(n, 2) as u
      from generate_series(${first}::bigint, ${first + count - 1}::bigint) n
    ), aged as (
      select n, now_, now_ - age * interval '1 day' as placed,
        case when age > 14 then case when u < 0.04 then 'cancelled' else 'delivered' end
             when age < 0.5 then case when u < 3 / 9.0 then 'pending_payment' when u < 8 / 9.0 then 'paid' else 'cancelled' end
             when age < 1.5 then case when u < 2 / 8.0 then 'paid' when u < 7 / 8.0 then 'picking' else 'cancelled' end
             when age < 4 then case when u < 0.1 then 'picking' when u < 0.9 then 'shipped' else 'delivered' end
             else case when u < 1 / 33.0 then 'shipped' when u < 31 / 33.0 then 'delivered' else 'cancelled' end end as status
      from base
    )
    select n, uuidv7() as id, uuidv7() as payment_id, status, placed, now_,
      cu.id as customer_id,
      case when pg_temp.vol_u(n, 4) < 0.5 then 1 when pg_temp.vol_u(n, 4) < 0.8 then 2 else 3 end as line_count,
      floor(pg_temp.vol_u(n, 5) * (select count(*) from vol_products))::int as first_product,
      case when status = 'pending_payment' then case when pg_temp.vol_u(n, 6) < 0.2 then 'failed' else 'authorized' end
           when status = 'cancelled' then case when pg_temp.vol_u(n, 6) < 0.5 then 'failed' else 'refunded' end
           else 'captured' end as payment_status
    from aged
    join vol_customers cu on cu.idx = floor(pg_temp.vol_u(n, 3) * (select count(*) from vol_customers))::int`;
  await tx`alter table vol_o add primary key (id)`;
  await tx`analyze vol_o`;
  // Lines: products seven apart in the catalogue from the first, quantity 1: 6, 2: 3, 3: 1.
  await tx`create temp table vol_l on commit drop as
    select o.id as order_id, o.customer_id, l as line_no, p.id as product_id, p.cents,
      case when pg_temp.vol_u(o.n, 10 + l) < 0.6 then 1 when pg_temp.vol_u(o.n, 10 + l) < 0.9 then 2 else 3 end as quantity
    from vol_o o
    cross join generate_series(1, o.line_count) l
    join vol_products p on p.idx = (o.first_product + (l - 1) * 7) % (select count(*) from vol_products)`;
  await tx`analyze vol_l`;
  // Shipments of picked, shipped and delivered orders (generateBatch's rules: ETA 40–60 h after
  // shipping; delivered ones 5 % late with a cause; in-flight ones late with a cause when past their ETA
  // or in exception).
  await tx`create temp table vol_s on commit drop as
    with s0 as (
      select o.n, o.id as order_id, o.customer_id, o.status as order_status, o.placed, o.now_,
        o.placed + (8 + floor(pg_temp.vol_u(o.n, 21) * 19)) * interval '1 hour' as shipped0,
        case o.status when 'picking' then 'label_created' when 'delivered' then 'delivered'
          else case when pg_temp.vol_u(o.n, 22) < 0.7 then 'in_transit' when pg_temp.vol_u(o.n, 22) < 0.9 then 'out_for_delivery' else 'exception' end
        end as status
      from vol_o o where o.status in ('picking', 'shipped', 'delivered')
    ), s1 as (
      select s0.*, shipped0 + (40 + floor(pg_temp.vol_u(n, 23) * 21)) * interval '1 hour' as eta0,
        status = 'delivered' and pg_temp.vol_u(n, 24) < 0.05 as delivered_late
      from s0
    ), s2 as (
      select s1.*,
        case status
          when 'label_created' then null
          when 'delivered' then least(eta0 + (case when delivered_late then 6 + floor(pg_temp.vol_u(n, 25) * 25) else -8 + floor(pg_temp.vol_u(n, 25) * 13) end) * interval '1 hour', now_ - interval '1 hour')
        end as delivered_at,
        case
          when status = 'label_created' then greatest(eta0, now_ + (12 + floor(pg_temp.vol_u(n, 26) * 37)) * interval '1 hour')
          when status = 'exception' and eta0 > now_ then now_ - (2 + floor(pg_temp.vol_u(n, 26) * 23)) * interval '1 hour'
          else eta0 end as eta,
        case when status = 'label_created' then null when status <> 'delivered' and shipped0 > now_ then now_ - interval '1 hour' else shipped0 end as shipped_at,
        (status = 'delivered' and delivered_late) or (status in ('in_transit', 'out_for_delivery', 'exception') and (eta0 < now_ or status = 'exception')) as late
      from s1
    )
    select uuidv7() as id, s2.n, s2.order_id, s2.customer_id, s2.placed, s2.status, s2.shipped_at, s2.eta, s2.delivered_at,
      w.id as warehouse_id, ca.id as carrier_id,
      case when s2.status = 'label_created' or cardinality(ca.drivers) = 0 then null
           else ca.drivers[1 + floor(pg_temp.vol_u(s2.n, 27) * cardinality(ca.drivers))::int] end as driver_id,
      case when s2.late then lc.code end as late_cause_code,
      case when s2.late then lc.texts[1 + floor(pg_temp.vol_u(s2.n, 29) * cardinality(lc.texts))::int] end as late_cause,
      case s2.status when 'label_created' then s2.placed + interval '1 hour' when 'delivered' then s2.delivered_at
           else s2.now_ - (1 + floor(pg_temp.vol_u(s2.n, 30) * 6)) * interval '1 hour' end as updated_at
    from s2
    join vol_warehouses w on w.idx = floor(pg_temp.vol_u(s2.n, 31) * (select count(*) from vol_warehouses))::int
    join vol_carriers ca on ca.idx = floor(pg_temp.vol_u(s2.n, 32) * (select count(*) from vol_carriers))::int
    join vol_causes lc on lc.idx = floor(pg_temp.vol_u(s2.n, 28) * (select count(*) from vol_causes))::int`;

  await tx`analyze vol_s`;
  const orders = await tx`
    insert into orders (tenant_id, id, number, customer_id, status, currency, total_cents, shipping_address, note, promised_by, placed_at, updated_at)
    select ${t}, o.id, ${prefix} || o.n, o.customer_id, o.status::order_status, ${c.currency}, tot.cents,
      jsonb_build_object('line1', 'Volume Street ' || (o.n % 200 + 1)) || (lk.j->'addresses'->(o.n % jsonb_array_length(lk.j->'addresses'))::int),
      case when pg_temp.vol_u(o.n, 7) < 0.1
           then (lk.j->'notes'->>floor(pg_temp.vol_u(o.n, 8) * jsonb_array_length(lk.j->'notes'))::int) || ' ' || ${c.canary} end,
      ((o.placed + interval '5 days') at time zone 'UTC')::date, o.placed,
      least(coalesce(s.updated_at, o.placed + interval '1 hour'), o.now_)
    from vol_o o
    cross join vol_lookups lk
    join (select order_id, sum(cents * quantity) as cents from vol_l group by order_id) tot on tot.order_id = o.id
    left join vol_s s on s.order_id = o.id
    order by o.n`;
  const lines = await tx`insert into order_lines (tenant_id, order_id, line_no, customer_id, product_id, quantity, unit_price_cents)
    select ${t}, order_id, line_no, customer_id, product_id, quantity, cents from vol_l order by order_id, line_no`;
  const shipments = await tx`insert into shipments (tenant_id, id, order_id, customer_id, warehouse_id, carrier_id, driver_id, tracking_number,
      status, shipped_at, eta, delivered_at, late_cause_code, late_cause, updated_at)
    select ${t}, id, order_id, customer_id, warehouse_id, carrier_id, driver_id, 'VX' || n,
      status::shipment_status, shipped_at, eta, delivered_at, late_cause_code, late_cause, updated_at from vol_s order by n`;
  // The carrier's scans up to the shipment's current status (none in the future).
  const events = await tx`insert into shipment_events (tenant_id, id, shipment_id, customer_id, status, occurred_at, location, description, source)
    select ${t}, uuidv7(), s.id, s.customer_id, e.status, e.at, e.location, e.description, 'carrier'
    from vol_s s
    cross join lateral (values
      ('label_created', s.placed + interval '2 hours', 'Warehouse', 'Shipping label created', true),
      ('picked_up', s.shipped_at, 'Warehouse', 'Picked up by the carrier', s.shipped_at is not null),
      ('in_transit', s.shipped_at + interval '6 hours', 'Regional hub', 'In transit', s.status <> 'label_created'),
      ('out_for_delivery', coalesce(s.delivered_at - interval '3 hours', s.updated_at), 'Local depot', 'Out for delivery', s.status in ('out_for_delivery', 'delivered')),
      ('delivered', s.delivered_at, 'Destination', 'Delivered', s.status = 'delivered'),
      ('exception', s.updated_at, 'Regional hub', s.late_cause, s.status = 'exception')
    ) as e(status, at, location, description, applies)
    where e.applies and e.at <= ${reference}::timestamptz
    order by s.n, e.at`;
  const payments = await tx`insert into payments (tenant_id, id, order_id, customer_id, amount_cents, refunded_cents, currency, method, status, created_at)
    select ${t}, o.payment_id, o.id, o.customer_id, tot.cents, case when o.payment_status = 'refunded' then tot.cents else 0 end,
      ${c.currency}, 'test_card', o.payment_status::payment_status, o.placed + interval '1 minute'
    from vol_o o join (select order_id, sum(cents * quantity) as cents from vol_l group by order_id) tot on tot.order_id = o.id
    order by o.n`;
  const refunds = await tx`insert into refunds (tenant_id, id, payment_id, order_id, customer_id, amount_cents, reason, created_at)
    select ${t}, uuidv7(), o.payment_id, o.id, o.customer_id, tot.cents, 'Order cancelled before shipping', o.placed + interval '2 hours'
    from vol_o o join (select order_id, sum(cents * quantity) as cents from vol_l group by order_id) tot on tot.order_id = o.id
    where o.payment_status = 'refunded'`;
  return { orders: orders.count, order_lines: lines.count, shipments: shipments.count, shipment_events: events.count, payments: payments.count, refunds: refunds.count };
}
