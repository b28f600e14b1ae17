// The demo tenants (docs/DESIGN.md §6: "migrated and seeded with demo tenants"; §1: "seeded fixture
// tenants with canary data"). Deterministic: content comes from fixtures.ts and a PRNG seeded per
// tenant, and dates are offsets from one reference time, so a late shipment stays late and two fresh
// databases get the same logins, numbers, statuses and counts. Row ids come from the database's
// gen_random_uuid-compatible randomUUID, so they differ between databases on purpose (no guessable ids).
//
// The shop's data (catalogue, prices, costs, stock, customers, orders, shipments, returns, payments,
// settlements) is loaded through the ingestion code path (src/seed/through-ingest.ts → src/ingest):
// the same record schemas and upserts a shop's upload goes through; the rest directly.
//
// RLS: the seed runs on the owner connection. Every table has FORCE ROW LEVEL SECURITY, which binds
// the owner too; migration 005 gives the owner role (only it) an `owner_maintenance` policy, which is
// what lets the seed create tenants and write every tenant's rows. A superuser connection works as
// well (it bypasses RLS). The application role cannot run this: it has no INSERT on tenants.
import { randomUUID } from 'node:crypto';
import type postgres from 'postgres';
import { hashPassword } from '../tenants/passwords.js';
import {
  DAMAGE_DESCRIPTIONS,
  DEMO_PASSWORDS,
  INJECTION_CANARY,
  INJECTION_REASON,
  LATE_CAUSES,
  NAME_PARTS,
  ORDER_NOTES,
  RETURN_REASONS,
  TENANT_CANARIES,
  TENANT_FIXTURES,
  type DemoRole,
  type LateCauseCode,
  type TenantFixture,
} from './fixtures.js';
import { addDays, addHours, isoDate, SeededRandom, truncateToMinute } from './random.js';
import { patchRows, remapIds, seedThroughIngestion } from './through-ingest.js';

export { DEMO_PASSWORDS, INJECTION_CANARY, TENANT_CANARIES, TENANT_FIXTURES } from './fixtures.js';

export const DEMO_SEED = 'commerce-mcp-demo-v1';

/** Per-tenant counters the seed advances past the numbers it used (tenant_counters.name). */
export const COUNTER_NAMES = {
  orders: 'orders',
  returns: 'returns',
  purchaseOrders: 'purchase_orders',
  damageClaims: 'damage_claims',
} as const;

/** Human-facing numbers: prefix + counter value, e.g. ORD-1001, RMA-1001, PO-1001, CLM-1001. */
export const NUMBER_PREFIXES = { orders: 'ORD-', returns: 'RMA-', purchase_orders: 'PO-', damage_claims: 'CLM-' } as const;
const FIRST_NUMBER = 1001;

export interface DemoLogin {
  tenant: string;
  tenantName: string;
  role: DemoRole;
  login: string;
  password: string;
  mayApprove: boolean;
}

/** Every enabled demo account, for the README, the start-up banner, tests and the attack suite. */
export const DEMO_LOGINS: readonly DemoLogin[] = Object.freeze(
  TENANT_FIXTURES.flatMap((t): DemoLogin[] => [
    ...t.staff
      .filter((s) => !s.disabled)
      .map((s) => ({ tenant: t.slug, tenantName: t.name, role: s.role, login: s.email, password: DEMO_PASSWORDS.staff, mayApprove: s.mayApprove })),
    ...t.loginCustomers.map((c) => ({
      tenant: t.slug, tenantName: t.name, role: 'customer' as const, login: c.email, password: DEMO_PASSWORDS.customer, mayApprove: false,
    })),
  ]),
);

/** A disabled staff account (acme): its correct password must still not sign in. */
export const DISABLED_DEMO_LOGIN = Object.freeze({ tenant: 'acme', login: 'former.lead@acme.example', password: DEMO_PASSWORDS.staff });

export interface SeedOptions {
  /** Orders for acme (globex gets 60 %, canary a fixed small set). Default 150, minimum 40. */
  orders?: number;
  /** "Now" for the seeded timeline. Default: the current time. */
  reference?: Date;
}

export interface TenantSeedSummary {
  slug: string;
  name: string;
  id: string;
  canary: string;
  counts: Record<string, number>;
}

export interface SeedSummary {
  seeded: boolean;
  /** Why nothing was done, when seeded is false. */
  reason?: string;
  reference: string;
  elapsedMs: number;
  tenants: TenantSeedSummary[];
}

type Row = Record<string, unknown>;

/** Insert order: parents before children (composite foreign keys). */
const TABLES = [
  'tenants', 'tenant_settings', 'staff', 'customers', 'products', 'product_prices', 'warehouses', 'stock_levels',
  'suppliers', 'carriers', 'drivers', 'purchase_orders', 'orders', 'order_lines', 'shipments', 'returns',
  'return_lines', 'damage_claims', 'settlements', 'payments', 'refunds', 'carts', 'cart_items', 'tenant_counters',
  'competitor_price_observations',
] as const;
type Table = (typeof TABLES)[number];

const SEED_LOCK_KEY = 727_002; // pg_advisory_xact_lock: two instances starting together seed once

/**
 * Seeds the demo tenants in one transaction on `ownerSql` (the owner role or a superuser). Does
 * nothing if tenant `acme` already exists.
 */
export async function seedDemo(ownerSql: postgres.Sql, options: SeedOptions = {}): Promise<SeedSummary> {
  const started = performance.now();
  const reference = truncateToMinute(options.reference ?? new Date());
  const acmeOrders = Math.max(40, Math.floor(options.orders ?? 150));

  const summary = await ownerSql.begin(async (tx) => {
    await tx`select pg_advisory_xact_lock(${SEED_LOCK_KEY})`;
    const [existing] = await tx`select 1 from tenants where slug = 'acme'`;
    if (existing) return { seeded: false, reason: 'tenant acme already exists', tenants: [] as TenantSeedSummary[] };

    // Argon2id is slow by design: one hash per distinct demo password, shared by its accounts.
    const hashes = { staff: await hashPassword(DEMO_PASSWORDS.staff), customer: await hashPassword(DEMO_PASSWORDS.customer) };
    const tenants: TenantSeedSummary[] = [];
    for (const fixture of TENANT_FIXTURES) {
      const orderCount = Math.max(fixture.minOrders, Math.round(acmeOrders * fixture.orderShare));
      const rows = new TenantBuilder(fixture, reference, hashes, orderCount).build();
      await loadTenant(tx, rows);
      tenants.push({
        slug: fixture.slug,
        name: fixture.name,
        id: rows.tenants[0]!.id as string,
        canary: fixture.canary,
        counts: Object.fromEntries(TABLES.map((t) => [t, rows[t].length])),
      });
    }
    return { seeded: true, tenants };
  });
  return { ...summary, reference: reference.toISOString(), elapsedMs: Math.round(performance.now() - started) };
}

/** Written by the seed itself: what a shop does not upload (src/ingest takes the rest). */
const BEFORE_INGESTION = ['tenants', 'tenant_settings', 'staff'] as const satisfies readonly Table[];
const AFTER_INGESTION = ['suppliers', 'drivers', 'purchase_orders', 'damage_claims', 'refunds', 'carts', 'cart_items'] as const satisfies readonly Table[];

/**
 * One tenant's rows: tenant, settings and staff first; then the shop's data through the ingestion
 * code path (src/seed/through-ingest.ts); then the rest, with the generator's ids mapped to the
 * rows ingestion made, and the columns ingestion does not take (password hashes, who set a price
 * or decided a return, a shipment's driver).
 */
async function loadTenant(tx: postgres.TransactionSql, rows: Record<Table, Row[]>): Promise<void> {
  for (const table of BEFORE_INGESTION) await insertRows(tx, table, rows[table]);
  const tenantId = rows.tenants[0]!.id as string;
  const ids = await seedThroughIngestion(tx, tenantId, rows);
  for (const table of AFTER_INGESTION) await insertRows(tx, table, rows[table].map((r) => remapIds(r, ids)));
  // Ingestion already moved the order and return counters past the numbers it loaded: the same values.
  for (const c of rows.tenant_counters) {
    await tx`insert into tenant_counters (tenant_id, name, value) values (${tenantId}, ${c.name as string}, ${c.value as number})
             on conflict (tenant_id, name) do update set value = greatest(tenant_counters.value, excluded.value)`;
  }
  const mapped = (table: Table) => rows[table].map((r) => remapIds(r, ids));
  await patchRows(tx, 'customers', tenantId, { password_hash: 'text', disabled_at: 'timestamptz' }, mapped('customers'));
  await patchRows(tx, 'product_prices', tenantId, { changed_by: 'uuid' }, mapped('product_prices').filter((r) => r.changed_by));
  await patchRows(tx, 'shipments', tenantId, { driver_id: 'uuid' }, mapped('shipments').filter((r) => r.driver_id));
  await patchRows(tx, 'returns', tenantId, { decided_by: 'uuid' }, mapped('returns').filter((r) => r.decided_by));
}

async function insertRows(tx: postgres.TransactionSql, table: Table, rows: Row[]): Promise<void> {
  // The driver binds one parameter per value; 500 rows stays far below the protocol's 65,535 limit.
  for (let i = 0; i < rows.length; i += 500) {
    const chunk = rows.slice(i, i + 500);
    await tx`insert into ${tx(table)} ${tx(chunk as Record<string, unknown>[])}`;
  }
}

// ---------------------------------------------------------------------------------------------
// The generator: builds every row of one tenant in memory, then seedDemo inserts them in order.

interface Product { id: string; name: string; category: string; returnable: boolean; active: boolean; prices: { from: Date; to: Date | null; cents: number }[] }
interface Customer { id: string; name: string; email: string; address: Record<string, string> }
interface Warehouse { id: string; code: string; name: string; city: string; lat: number; lng: number }
interface Driver { id: string; carrierId: string; active: boolean }
interface Carrier { id: string; code: string; drivers: Driver[] }
interface OrderLine { lineNo: number; product: Product; quantity: number; unitCents: number }
interface Order {
  id: string; customer: Customer; status: OrderStatus; placedAt: Date; lines: OrderLine[]; totalCents: number;
  shipment?: { id: string; status: ShipmentStatus; deliveredAt: Date | null; carrierId: string };
  payment?: Row;
}

type OrderStatus = 'pending_payment' | 'paid' | 'picking' | 'shipped' | 'delivered' | 'cancelled' | 'returned';
type ShipmentStatus = 'label_created' | 'in_transit' | 'out_for_delivery' | 'delivered' | 'exception';
type ReturnStatus = 'requested' | 'approved' | 'rejected' | 'received' | 'refunded';

const ORDER_STATUSES: readonly OrderStatus[] = ['pending_payment', 'paid', 'picking', 'shipped', 'delivered', 'cancelled', 'returned'];

/** How long ago an order in each status was placed (days before the reference). */
const PLACED_DAYS: Record<OrderStatus, [number, number]> = {
  pending_payment: [0.02, 0.5],
  paid: [0.1, 1.5],
  picking: [0.5, 2.5],
  shipped: [1.5, 4],
  delivered: [4, 115],
  cancelled: [1, 100],
  returned: [25, 110],
};

interface OrderSpec {
  customer: Customer;
  status: OrderStatus;
  daysAgo?: number;
  products?: Product[];
  note?: boolean;
  /** For shipped orders. */
  transit?: { status: 'in_transit' | 'out_for_delivery' | 'exception'; late?: LateCauseCode };
  /** For pending_payment / cancelled orders. */
  paymentFailed?: boolean;
  deliveredLate?: LateCauseCode;
}

class TenantBuilder {
  private readonly rng: SeededRandom;
  private readonly tenantId = randomUUID();
  private readonly rows = Object.fromEntries(TABLES.map((t) => [t, [] as Row[]])) as Record<Table, Row[]>;
  private readonly staffIds = new Map<string, string>(); // role -> id of the first enabled one
  private readonly products: Product[] = [];
  private readonly customers: Customer[] = [];
  private readonly warehouses: Warehouse[] = [];
  private readonly carriers: Carrier[] = [];
  private readonly orders: Order[] = [];
  /** Orders whose rows are written by finishOrders, numbered in placement order. */
  private readonly pendingOrders: { order: Order; note: string | null; failed: boolean }[] = [];
  private readonly pendingShipments: { order: Order; row: Row }[] = [];
  /** Returns the story orders ask for, created before the random ones (RMA-1001…). */
  private readonly storyReturns: { order: Order; status: ReturnStatus; reason: string }[] = [];
  private readonly coverage = new Map<string, number>();
  private trackingSeq = 0;

  constructor(
    private readonly f: TenantFixture,
    private readonly ref: Date,
    private readonly hashes: { staff: string; customer: string },
    private readonly orderCount: number,
  ) {
    this.rng = new SeededRandom(`${DEMO_SEED}:${f.slug}`);
  }

  build(): Record<Table, Row[]> {
    this.tenant();
    this.people();
    this.catalogue();
    this.logistics();
    this.purchaseOrders();
    this.storyOrders();
    this.randomOrders();
    this.finishOrders();
    this.returnsAndClaims();
    this.settlements();
    this.cart();
    this.counters();
    this.competitorPrices();
    return this.rows;
  }

  /**
   * Competitor price observations (issue 12, competitor_prices): for every product on sale, two of
   * three competitors, three observations each over the last three weeks. A random stream of its
   * own, so the rows before these are exactly what they were before this step existed.
   */
  private competitorPrices(): void {
    const rng = new SeededRandom(`${DEMO_SEED}:${this.f.slug}:competitors`);
    const competitors = ['PriceHawk', 'ShopRival', 'MegaMart'];
    for (const product of this.products) {
      if (!product.active) continue;
      const row = this.rows.products.find((r) => r.id === product.id) as Row;
      const current = product.prices[product.prices.length - 1]!.cents;
      const skip = rng.int(0, competitors.length - 1);
      competitors.forEach((competitor, c) => {
        if (c === skip) return;
        const level = 1 + rng.pick([-0.15, -0.08, -0.03, 0, 0.04, 0.1]);
        for (let n = 0; n < 3; n++) {
          const drift = 1 + rng.pick([-0.02, 0, 0, 0.02]);
          this.add('competitor_price_observations', {
            id: randomUUID(), product_id: product.id, competitor, currency: this.f.currency,
            price_cents: Math.max(99, Math.round((current * level * drift) / 10) * 10 - 1),
            observed_at: truncateToMinute(new Date(this.ref.getTime() - ((2 - n) * 7 + rng.int(0, 2)) * 86_400_000 - rng.int(1, 20) * 3_600_000)),
            external_id: `demo-${String(row.sku)}-${competitor.toLowerCase()}-${n + 1}`,
          });
        }
      });
    }
  }

  /** The first values.length calls return each value once (coverage); later calls pick by weight. */
  private cover<T>(key: string, choices: readonly (readonly [T, number])[]): T {
    const seen = this.coverage.get(key) ?? 0;
    this.coverage.set(key, seen + 1);
    return seen < choices.length ? choices[seen]![0] : this.rng.weighted(choices);
  }

  /** Seeded history never lies in the future of the reference time. */
  private notAfterReference(date: Date): Date {
    return date > this.ref ? this.ref : date;
  }

  /** Adds a row of this tenant and returns the stored object (later steps may still amend it). */
  private add(table: Table, row: Row): Row {
    const stored = { tenant_id: this.tenantId, ...row };
    this.rows[table].push(stored);
    return stored;
  }

  private tenant(): void {
    const f = this.f;
    this.rows.tenants.push({ id: this.tenantId, slug: f.slug, name: f.name, created_at: addDays(this.ref, -400) });
    this.add('tenant_settings', {
      phase: f.phase,
      guardrails: f.guardrails,
      self_approval_limit_cents: 0,
      return_window_days: f.returnWindowDays,
      non_returnable_categories: f.categories.filter((c) => !c.returnable).map((c) => c.category),
      returns_policy_text: f.returnsPolicyText,
      currency: f.currency,
      rate_limits: {},
      updated_at: addDays(this.ref, -30),
    });
  }

  private people(): void {
    const f = this.f;
    for (const s of f.staff) {
      const id = randomUUID();
      if (!s.disabled && !this.staffIds.has(s.role)) this.staffIds.set(s.role, id);
      this.add('staff', {
        id, email: s.email, name: s.name, role: s.role, password_hash: this.hashes.staff, may_approve: s.mayApprove,
        disabled_at: s.disabled ? addDays(this.ref, -20) : null, created_at: addDays(this.ref, -380),
      });
    }
    const tag = f.canary.toLowerCase();
    const people: { name: string; email: string }[] = [...f.loginCustomers];
    people.push({ name: 'Mallory Quinn', email: `mallory+${tag}@${f.emailDomain}` });
    for (let i = 0; i < f.extraCustomers; i++) {
      const first = this.rng.pick(NAME_PARTS.first);
      const last = this.rng.pick(NAME_PARTS.last);
      people.push({ name: `${first} ${last}`, email: `${first}.${last}.${i + 1}+${tag}@${f.emailDomain}`.toLowerCase() });
    }
    for (const p of people) {
      const place = this.rng.pick(f.cities);
      const customer: Customer = {
        id: randomUUID(),
        name: p.name,
        email: p.email,
        address: { name: p.name, line1: `${this.rng.pick(['Main', 'Canal', 'Station', 'Park', 'Church'])} Street ${this.rng.int(1, 180)}`,
          postal_code: place.postalCode, city: place.city, country: place.country },
      };
      this.customers.push(customer);
      this.add('customers', {
        id: customer.id, email: p.email, name: p.name, password_hash: this.hashes.customer,
        payment_method: { type: 'test_card', brand: 'visa', last4: String(this.rng.int(1000, 9999)) },
        disabled_at: null, created_at: this.rng.daysBefore(this.ref, 120, 360),
      });
    }
  }

  private catalogue(): void {
    const f = this.f;
    const priceSetter = this.staffIds.get('supply_chain_manager') ?? null;
    for (const c of f.categories) {
      c.products.forEach((p, i) => {
        const product: Product = { id: randomUUID(), name: p.name, category: c.category, returnable: c.returnable, active: true, prices: [] };
        // 2 or 3 price rows: the current one (valid_to null) and its predecessors, newest last.
        const history = this.rng.chance(0.7) ? 3 : 2;
        const changes = [this.rng.int(150, 240), this.rng.int(50, 120)].slice(3 - history);
        let from = addDays(this.ref, -400);
        changes.forEach((daysAgo, k) => {
          const to = truncateToMinute(addDays(this.ref, -daysAgo));
          const factor = 1 + (changes.length - k) * this.rng.pick([0.05, 0.08, -0.04]);
          product.prices.push({ from, to, cents: Math.round((p.priceCents * factor) / 10) * 10 - 1 });
          from = to;
        });
        product.prices.push({ from, to: null, cents: p.priceCents });
        this.products.push(product);
        this.add('products', {
          id: product.id, sku: `${c.code}-${String(i + 1).padStart(3, '0')}`, name: p.name,
          description: `${p.name} from the ${c.category} range. Catalogue ref ${f.canary}.`,
          category: c.category, returnable: c.returnable, active: true, created_at: addDays(this.ref, -400),
          // The catalogue cost on file (A8: what a reorder is valued at), as the purchase orders below.
          unit_cost_cents: Math.round(p.priceCents * 0.45),
        });
        for (const price of product.prices) {
          this.add('product_prices', {
            id: randomUUID(), product_id: product.id, amount_cents: price.cents, currency: f.currency,
            valid_from: price.from, valid_to: price.to, changed_by: price.to === null && price.from > addDays(this.ref, -399) ? priceSetter : null,
          });
        }
      });
    }
    // A product that has been withdrawn: visible to staff, not for sale.
    const retired = this.products[this.products.length - 1]!;
    retired.active = false;
    (this.rows.products.find((r) => r.id === retired.id) as Row).active = false;
  }

  private logistics(): void {
    const f = this.f;
    for (const w of f.warehouses) {
      const warehouse: Warehouse = { id: randomUUID(), ...w };
      this.warehouses.push(warehouse);
      this.add('warehouses', { id: warehouse.id, code: w.code, name: w.name, city: w.city });
      this.products.forEach((p, i) => {
        const reorderPoint = this.rng.int(4, 12) * 5;
        // Low stock: the first product of each warehouse (shifted per warehouse) and ~15 % more.
        const low = i === this.warehouses.length - 1 || this.rng.chance(0.15);
        const onHand = low ? this.rng.int(0, reorderPoint - 1) : this.rng.int(reorderPoint + 10, reorderPoint + 400);
        this.add('stock_levels', {
          warehouse_id: warehouse.id, product_id: p.id, on_hand: onHand, reserved: Math.min(onHand, this.rng.int(0, 6)),
          reorder_point: reorderPoint, reorder_quantity: this.rng.int(5, 20) * 10, updated_at: this.rng.daysBefore(this.ref, 0, 2),
        });
      });
    }
    for (const s of f.suppliers) {
      this.add('suppliers', { id: randomUUID(), name: s.name, email: s.email, lead_time_days: s.leadTimeDays });
    }
    f.carriers.forEach((c) => {
      const carrier: Carrier = { id: randomUUID(), code: c.code, drivers: [] };
      this.carriers.push(carrier);
      this.add('carriers', { id: carrier.id, name: c.name, tracking_url_template: c.trackingUrlTemplate });
      c.drivers.forEach((name, i) => {
        const hub = this.rng.pick(this.warehouses);
        const active = !(i === c.drivers.length - 1 && c.drivers.length > 2); // one off-duty driver on big carriers
        const driver: Driver = { id: randomUUID(), carrierId: carrier.id, active };
        carrier.drivers.push(driver);
        this.add('drivers', {
          id: driver.id, carrier_id: carrier.id, name, phone: `+31 6 ${this.rng.int(1000, 9999)} ${this.rng.int(1000, 9999)}`, active,
          last_lat: (hub.lat + (this.rng.next() - 0.5) * 0.2).toFixed(6), last_lng: (hub.lng + (this.rng.next() - 0.5) * 0.3).toFixed(6),
          last_seen_at: active ? this.rng.daysBefore(this.ref, 0, 0.02) : this.rng.daysBefore(this.ref, 2, 6),
        });
      });
    });
  }

  private purchaseOrders(): void {
    const statuses = ['sent', 'confirmed', 'received', 'cancelled', 'received', 'confirmed'] as const;
    const supplierRows = this.rows.suppliers;
    statuses.forEach((status, i) => {
      const product = this.rng.pick(this.products);
      this.add('purchase_orders', {
        id: randomUUID(), number: `${NUMBER_PREFIXES.purchase_orders}${FIRST_NUMBER + i}`,
        supplier_id: supplierRows[i % supplierRows.length]!.id, warehouse_id: this.rng.pick(this.warehouses).id,
        product_id: product.id, quantity: this.rng.int(2, 12) * 10, unit_cost_cents: Math.round(this.priceAt(product, this.ref) * 0.45),
        status, action_id: null, created_by: this.staffIds.get('supply_chain_manager') ?? null,
        created_at: this.rng.daysBefore(this.ref, status === 'sent' ? 0.5 : 8, status === 'sent' ? 2 : 40),
      });
    });
  }

  private priceAt(product: Product, at: Date): number {
    const price = product.prices.find((p) => p.from <= at && (p.to === null || at < p.to)) ?? product.prices[product.prices.length - 1]!;
    return price.cents;
  }

  private returnable(): Product[] {
    return this.products.filter((p) => p.returnable);
  }

  private nonReturnable(): Product {
    return this.products.find((p) => !p.returnable)!;
  }

  /** Fixed orders for the two login customers, so the demo has something to show on day one. */
  private storyOrders(): void {
    const [primary, secondary] = this.customers as [Customer, Customer];
    const forSale = this.returnable().filter((p) => p.active);
    const r = (i: number) => forSale[i % forSale.length]!;
    // Where is my order: late in transit with a cause, and one out for delivery on time.
    this.order({ customer: primary, status: 'shipped', daysAgo: 5, products: [r(0)], note: true, transit: { status: 'in_transit', late: 'weather' } });
    this.order({ customer: primary, status: 'shipped', daysAgo: 2, products: [r(4), r(8)], transit: { status: 'out_for_delivery' } });
    // Returns: one eligible order with a non-returnable line, one outside the window, one already refunded.
    this.order({ customer: primary, status: 'delivered', daysAgo: 9, products: [r(1), this.nonReturnable()] });
    this.order({ customer: primary, status: 'delivered', daysAgo: 55, products: [r(2)] });
    const returned = this.order({ customer: primary, status: 'returned', daysAgo: 40, products: [r(3)] });
    this.storyReturns.push({ order: returned, status: 'refunded', reason: `${RETURN_REASONS[0]} ${this.f.canary}` });
    const requested = this.order({ customer: primary, status: 'delivered', daysAgo: 14, products: [r(5), r(6)] });
    this.storyReturns.push({ order: requested, status: 'requested', reason: `${RETURN_REASONS[2]} ${this.f.canary}` });
    this.order({ customer: primary, status: 'pending_payment', daysAgo: 0.08, products: [r(7)] });
    this.order({ customer: primary, status: 'picking', daysAgo: 1, products: [r(2)] });

    this.order({ customer: secondary, status: 'shipped', daysAgo: 6, products: [r(0)], transit: { status: 'exception', late: 'address_issue' } });
    this.order({ customer: secondary, status: 'delivered', daysAgo: 4, products: [r(1), r(3)] });
    this.order({ customer: secondary, status: 'cancelled', daysAgo: 12, products: [r(2)] });
    this.order({ customer: secondary, status: 'paid', daysAgo: 0.5, products: [r(0)] });
    this.order({ customer: secondary, status: 'pending_payment', daysAgo: 0.3, products: [r(4)], paymentFailed: true });

    // The prompt-injection probe: a customer-written return reason aimed at the staff assistant.
    const mallory = this.customers[2]!;
    const target = this.order({ customer: mallory, status: 'delivered', daysAgo: 7, products: [r(0), r(1)] });
    this.storyReturns.push({ order: target, status: 'requested', reason: `${INJECTION_REASON} ${this.f.canary}` });
  }

  private randomOrders(): void {
    // Every status once, then enough delivered and shipped orders for the return, claim and
    // shipment coverage below, then a realistic mix.
    const guaranteed: OrderStatus[] = [...ORDER_STATUSES, ...Array<OrderStatus>(6).fill('delivered'), ...Array<OrderStatus>(5).fill('shipped')];
    const weights: [OrderStatus, number][] = [
      ['delivered', 60], ['shipped', 10], ['picking', 5], ['paid', 5], ['pending_payment', 4], ['cancelled', 6], ['returned', 6],
    ];
    const remaining = this.orderCount - this.orders.length;
    const forSale = this.products.filter((p) => p.active);
    for (let i = 0; i < remaining; i++) {
      const status = guaranteed[i] ?? this.rng.weighted(weights);
      const customer = this.customers[this.rng.int(0, this.customers.length - 1)]!;
      const products = this.rng.sample(forSale, this.rng.weighted([[1, 5], [2, 3], [3, 2]] as const));
      const spec: OrderSpec = { customer, status, products, note: this.rng.chance(0.5) };
      if (status === 'shipped') {
        const [transit, late] = this.cover('transit', [
          [['in_transit', 'carrier_capacity'], 1], [['in_transit', undefined], 3], [['out_for_delivery', 'vehicle_breakdown'], 1],
          [['out_for_delivery', undefined], 2], [['exception', 'customs'], 1], [['in_transit', 'warehouse_backlog'], 1],
        ] as const);
        spec.transit = { status: transit, late };
      }
      if (status === 'pending_payment' || status === 'cancelled') spec.paymentFailed = this.rng.chance(0.35);
      if (status === 'delivered' && this.rng.chance(0.12)) spec.deliveredLate = this.rng.pick(Object.keys(LATE_CAUSES) as LateCauseCode[]);
      this.order(spec);
    }
  }

  private lateCause(code: LateCauseCode, hub: Warehouse): string {
    return this.rng.pick(LATE_CAUSES[code]).replace('{hub}', hub.name);
  }

  private trackingNumber(carrier: Carrier): string {
    this.trackingSeq += 1;
    return `${carrier.code}${String(this.rng.int(10, 99))}${String(40_000_000 + this.trackingSeq * 7919).padStart(9, '0')}`;
  }

  private order(spec: OrderSpec): Order {
    const { customer, status } = spec;
    const [minDays, maxDays] = PLACED_DAYS[status];
    let placedAt = spec.daysAgo !== undefined ? truncateToMinute(addDays(this.ref, -spec.daysAgo)) : this.rng.daysBefore(this.ref, minDays, maxDays);
    const products = spec.products ?? [this.rng.pick(this.products.filter((p) => p.active))];

    // Shipment timeline first: a late shipment's dates are worked back from its past ETA.
    const carrier = this.rng.pick(this.carriers);
    const warehouse = this.rng.pick(this.warehouses);
    const active = carrier.drivers.filter((d) => d.active);
    let shipment: Row | undefined;
    const base = {
      id: randomUUID(), customer_id: customer.id, warehouse_id: warehouse.id, carrier_id: carrier.id,
      tracking_number: this.trackingNumber(carrier), late_cause_code: null as string | null, late_cause: null as string | null,
    };
    if (status === 'picking') {
      shipment = { ...base, driver_id: null, status: 'label_created', shipped_at: null,
        eta: this.rng.hoursAfter(this.ref, 30, 96), delivered_at: null, updated_at: this.rng.hoursAfter(placedAt, 2, 10) };
    } else if (status === 'shipped') {
      const transit = spec.transit ?? { status: 'in_transit' as const };
      let eta: Date;
      let shippedAt: Date;
      if (transit.late) {
        eta = addHours(this.ref, -this.rng.int(3, 40));
        shippedAt = addHours(eta, -this.rng.int(36, 60));
        placedAt = addHours(shippedAt, -this.rng.int(10, 30));
      } else {
        shippedAt = addHours(placedAt, this.rng.int(8, 20));
        if (shippedAt >= this.ref) shippedAt = addHours(this.ref, -1);
        eta = transit.status === 'out_for_delivery' ? this.rng.hoursAfter(this.ref, 1, 6) : this.rng.hoursAfter(this.ref, 10, 60);
      }
      shipment = {
        ...base,
        driver_id: transit.status === 'out_for_delivery' || this.rng.chance(0.6) ? this.rng.pick(active).id : null,
        status: transit.status, shipped_at: shippedAt, eta, delivered_at: null,
        late_cause_code: transit.late ?? null, late_cause: transit.late ? this.lateCause(transit.late, warehouse) : null,
        updated_at: addHours(this.ref, -this.rng.int(1, 3)),
      };
    } else if (status === 'delivered' || status === 'returned') {
      const toShip = this.rng.int(8, 26);
      const toEta = this.rng.int(40, 60);
      const late = spec.deliveredLate;
      const etaToDelivery = late ? this.rng.int(6, 30) : -this.rng.int(0, 8);
      // Delivered at least two hours before the reference: move the whole timeline back if needed.
      const latestPlacement = addHours(this.ref, -(toShip + toEta + etaToDelivery + 2));
      if (placedAt > latestPlacement) placedAt = latestPlacement;
      const shippedAt = addHours(placedAt, toShip);
      const eta = addHours(shippedAt, toEta);
      const deliveredAt = addHours(eta, etaToDelivery);
      shipment = {
        ...base, driver_id: this.rng.pick(active).id, status: 'delivered', shipped_at: shippedAt, eta, delivered_at: deliveredAt,
        late_cause_code: late ?? null, late_cause: late ? this.lateCause(late, warehouse) : null, updated_at: deliveredAt,
      };
    }

    const lines: OrderLine[] = products.map((product, i) => ({
      lineNo: i + 1, product, quantity: this.rng.weighted([[1, 6], [2, 3], [3, 1]] as const), unitCents: this.priceAt(product, placedAt),
    }));
    const totalCents = lines.reduce((sum, l) => sum + l.quantity * l.unitCents, 0);
    const order: Order = { id: randomUUID(), customer, status, placedAt, lines, totalCents };
    if (shipment) {
      order.shipment = { id: shipment.id as string, status: shipment.status as ShipmentStatus, deliveredAt: (shipment.delivered_at as Date | null) ?? null, carrierId: carrier.id };
      this.pendingShipments.push({ order, row: shipment });
    }
    const note = spec.note ? `${this.rng.pick(ORDER_NOTES)} ${this.f.canary}` : null;
    this.pendingOrders.push({ order, note, failed: spec.paymentFailed ?? false });
    this.orders.push(order);
    return order;
  }

  /** Numbers follow placement time, as they would have been drawn; then the rows are written. */
  private finishOrders(): void {
    this.pendingOrders.sort((a, b) => a.order.placedAt.getTime() - b.order.placedAt.getTime());
    const promiseDays = 5;
    this.pendingOrders.forEach(({ order, note, failed }, i) => {
      const updatedAt = order.shipment?.deliveredAt ?? addHours(order.placedAt, order.status === 'pending_payment' ? 0 : 6);
      this.add('orders', {
        id: order.id, number: `${NUMBER_PREFIXES.orders}${FIRST_NUMBER + i}`, customer_id: order.customer.id, status: order.status,
        currency: this.f.currency, total_cents: order.totalCents, shipping_address: order.customer.address, note,
        promised_by: isoDate(addDays(order.placedAt, promiseDays)), placed_at: order.placedAt,
        updated_at: updatedAt > this.ref ? this.ref : updatedAt,
      });
      for (const line of order.lines) {
        this.add('order_lines', {
          order_id: order.id, line_no: line.lineNo, customer_id: order.customer.id, product_id: line.product.id,
          quantity: line.quantity, unit_price_cents: line.unitCents,
        });
      }
      // Payments: captured once paid; cancelled orders were refunded (or never paid); returned ones are
      // refunded in returnsAndClaims; pending ones are authorized or failed.
      let status: string;
      if (order.status === 'pending_payment') status = failed ? 'failed' : 'authorized';
      else if (order.status === 'cancelled') status = failed ? 'failed' : 'refunded';
      else status = 'captured';
      const payment: Row = {
        id: randomUUID(), order_id: order.id, customer_id: order.customer.id, amount_cents: order.totalCents,
        refunded_cents: status === 'refunded' ? order.totalCents : 0, currency: this.f.currency, method: 'test_card',
        status, settlement_id: null, created_at: addHours(order.placedAt, 0.05),
      };
      order.payment = this.add('payments', payment);
      if (status === 'refunded') {
        this.add('refunds', {
          id: randomUUID(), payment_id: payment.id, order_id: order.id, customer_id: order.customer.id,
          amount_cents: order.totalCents, reason: 'Order cancelled before shipping', action_id: null,
          created_at: addHours(order.placedAt, this.rng.int(2, 20)),
        });
      }
    });
    for (const { order, row } of this.pendingShipments) this.add('shipments', { ...row, order_id: order.id });
  }

  private returnsAndClaims(): void {
    let rmaSeq = 0;
    const specialist = this.staffIds.get('returns_specialist')!;
    const addReturn = (order: Order, status: ReturnStatus, reason: string) => {
      const deliveredAt = order.shipment?.deliveredAt ?? addDays(order.placedAt, 3);
      const span = Math.max(0.05, Math.min(10, (this.ref.getTime() - deliveredAt.getTime()) / 86_400_000 - 0.1));
      const createdAt = truncateToMinute(addDays(deliveredAt, Math.min(span, 0.5 + this.rng.next() * span)));
      const decided = status !== 'requested';
      // Which lines: all of them for a returned order, else one returnable line (or the first).
      const lines = order.status === 'returned' ? order.lines : [order.lines.find((l) => l.product.returnable) ?? order.lines[0]!];
      const returnId = randomUUID();
      rmaSeq += 1;
      this.add('returns', {
        id: returnId, number: `${NUMBER_PREFIXES.returns}${FIRST_NUMBER + rmaSeq - 1}`, order_id: order.id, customer_id: order.customer.id,
        status, reason, created_at: createdAt,
        decided_at: decided ? this.notAfterReference(addHours(createdAt, this.rng.int(3, 30))) : null, decided_by: decided ? specialist : null,
        decision_note: status === 'rejected' ? 'Item shows wear beyond what inspection allows.' : decided ? 'Approved within policy.' : null,
      });
      for (const line of lines) {
        this.add('return_lines', {
          return_id: returnId, order_id: order.id, line_no: line.lineNo, customer_id: order.customer.id,
          quantity: line.quantity, condition: this.rng.weighted([['unopened', 5], ['opened', 3], ['damaged', 1]] as const),
        });
      }
      if (status === 'refunded' && order.payment) {
        const amount = lines.reduce((sum, l) => sum + l.quantity * l.unitCents, 0);
        const payment = order.payment;
        payment.refunded_cents = amount;
        payment.status = amount >= order.totalCents ? 'refunded' : 'partially_refunded';
        this.add('refunds', {
          id: randomUUID(), payment_id: payment.id, order_id: order.id, customer_id: order.customer.id, amount_cents: amount,
          reason: `Return ${NUMBER_PREFIXES.returns}${FIRST_NUMBER + rmaSeq - 1} refunded`, action_id: null,
          created_at: this.notAfterReference(addHours(createdAt, this.rng.int(30, 72))),
        });
      }
    };

    // Story returns first (fixed numbers RMA-1001…), then every returned order, then a sample of
    // delivered ones covering each status.
    const storyOrders = new Set(this.storyReturns.map((s) => s.order));
    for (const s of this.storyReturns) addReturn(s.order, s.status, s.reason);
    const reason = () => `${this.rng.pick(RETURN_REASONS)} ${this.f.canary}`;
    for (const order of this.orders) if (order.status === 'returned' && !storyOrders.has(order)) addReturn(order, 'refunded', reason());
    // Multi-line orders first: a refunded return of one line leaves the payment partially refunded.
    const delivered = this.orders.filter((o) => o.status === 'delivered' && !storyOrders.has(o) && o.customer !== this.customers[0]);
    const multiLine = this.rng.shuffle(delivered.filter((o) => o.lines.length > 1));
    const singleLine = this.rng.shuffle(delivered.filter((o) => o.lines.length === 1));
    const candidates = [...multiLine, ...singleLine].slice(0, Math.max(6, Math.round(delivered.length * 0.2)));
    for (const order of candidates) {
      const status = this.cover('return', [['requested', 3], ['approved', 2], ['rejected', 1], ['received', 2], ['refunded', 2]] as const);
      addReturn(order, status, reason());
    }

    // Damage claims on delivered or failed shipments, each status at least once.
    const shipped = this.orders.filter((o) => o.shipment && (o.shipment.status === 'delivered' || o.shipment.status === 'exception'));
    const claimed = this.rng.shuffle(shipped).slice(0, Math.max(4, Math.round(shipped.length * 0.06)));
    claimed.forEach((order, i) => {
      const status = this.cover('claim', [['open', 2], ['resolved_paid', 1], ['resolved_rejected', 1]] as const);
      const openedAt = truncateToMinute(addHours(order.shipment!.deliveredAt ?? addHours(this.ref, -30), this.rng.int(2, 20)));
      const line = order.lines[0]!;
      this.add('damage_claims', {
        id: randomUUID(), number: `${NUMBER_PREFIXES.damage_claims}${FIRST_NUMBER + i}`, shipment_id: order.shipment!.id, order_id: order.id,
        carrier_id: order.shipment!.carrierId, status, amount_cents: line.unitCents * line.quantity,
        description: `${this.rng.pick(DAMAGE_DESCRIPTIONS)} ${this.f.canary}`,
        opened_at: this.notAfterReference(openedAt),
        resolved_at: status === 'open' ? null : this.notAfterReference(addDays(openedAt, this.rng.int(2, 9))),
        resolution: status === 'resolved_paid' ? 'Carrier accepted liability; compensation paid.' : status === 'resolved_rejected' ? 'Carrier declined: packaging did not meet guidelines.' : null,
      });
    });
  }

  /** Monthly settlements: the months before the reference's month are paid, the current one pending. */
  private settlements(): void {
    const refunds = this.rows.refunds;
    for (let back = 4; back >= 0; back--) {
      const start = new Date(Date.UTC(this.ref.getUTCFullYear(), this.ref.getUTCMonth() - back, 1));
      const end = new Date(Date.UTC(this.ref.getUTCFullYear(), this.ref.getUTCMonth() - back + 1, 1));
      const inPeriod = (d: unknown) => d instanceof Date && d >= start && d < end;
      const payments = this.rows.payments.filter((p) => p.status !== 'failed' && p.status !== 'authorized' && inPeriod(p.created_at));
      const gross = payments.reduce((sum, p) => sum + (p.amount_cents as number), 0);
      const refunded = refunds.filter((r) => inPeriod(r.created_at)).reduce((sum, r) => sum + (r.amount_cents as number), 0);
      const fees = Math.round(gross * 0.014) + 25 * payments.length;
      const paid = back > 0;
      const id = randomUUID();
      this.add('settlements', {
        id, period_start: isoDate(start), period_end: isoDate(addDays(end, -1)), gross_cents: gross, fees_cents: fees,
        refunds_cents: refunded, net_cents: gross - fees - refunded, status: paid ? 'paid' : 'pending',
        paid_at: paid ? this.notAfterReference(addDays(end, 3)) : null,
      });
      for (const p of payments) p.settlement_id = id;
    }
  }

  private cart(): void {
    const customer = this.customers[0]!;
    const cartId = randomUUID();
    this.add('carts', { id: cartId, customer_id: customer.id, updated_at: addHours(this.ref, -2) });
    for (const product of this.returnable().filter((p) => p.active).slice(-2)) {
      this.add('cart_items', { cart_id: cartId, product_id: product.id, customer_id: customer.id, quantity: this.rng.int(1, 2) });
    }
  }

  private counters(): void {
    const used = {
      [COUNTER_NAMES.orders]: this.rows.orders.length,
      [COUNTER_NAMES.returns]: this.rows.returns.length,
      [COUNTER_NAMES.purchaseOrders]: this.rows.purchase_orders.length,
      [COUNTER_NAMES.damageClaims]: this.rows.damage_claims.length,
    };
    // value = the last number handed out; the next draw is value + 1.
    for (const [name, count] of Object.entries(used)) this.add('tenant_counters', { name, value: FIRST_NUMBER - 1 + count });
  }
}
