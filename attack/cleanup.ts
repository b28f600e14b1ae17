// The end of every run: what the run recorded (attack/ledger.ts) is removed from the deployment's
// database as its owner, in foreign-key order, and what those records changed is put back (stock
// reservations of the orders placed, refunded amounts of payments, carts and price lists as they
// were when the run started). Nothing the run did not record is deleted. The audit log is
// append-only and keeps the run's entries. Counters the run's accounts moved (sign-in throttles,
// MCP budget windows, per-address rate limits) are reset. Without owner access the report lists
// what was left and the option that would have removed it.
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import postgres from 'postgres';
import { CLEANUP_ORDER, describeCreated, type Created, type Ledger } from './ledger.js';

type Sql = postgres.Sql;
type Tx = postgres.TransactionSql;

/** One thing the clean-up dealt with: its kind (attack/ledger.ts, or 'idempotency keys', 'address counters'), what it is, and what was done or why not. */
export interface CleanupEntry {
  kind: string;
  item: string;
  detail: string;
}

export interface CleanupReport {
  /** Whether the run had owner access to the database (and from where), or why not. */
  access: string;
  /** What was removed or put back. */
  removed: CleanupEntry[];
  /** What stays on the deployment, with the reason. */
  left: CleanupEntry[];
  /** How to have the next run clean up (when something was left for want of access). */
  howToClean?: string;
  /** Kept on purpose (the audit log, counters that are never reused). */
  kept: string[];
}

export const HOW_TO_CLEAN = 'pass --database-url <owner URL of the deployment\'s PostgreSQL> or --data-dir <the service\'s DATA_DIR> (its connection.json), and the suite removes what it creates at the end of the run';

const KEPT = [
  'audit log: append-only, the run\'s entries stay (the chain still verifies)',
  'order and return numbers: the tenant\'s counters are not wound back, so numbers are never reused',
  'the tenants\' shared MCP budget windows: everyone\'s calls count there; they end within their window (a minute by default)',
];

/** DATA_DIR/connection.json, written by the running service (mode 0600): its database's owner URL. */
export function ownerUrlFromDataDir(dataDir: string): string {
  const path = join(dataDir, 'connection.json');
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(path, 'utf8'));
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new Error(code === 'ENOENT' ? `no ${path}: is the service running with DATA_DIR=${dataDir}?`
      : code ? `cannot read ${path} (${code}): run as the user the service runs as` : `${path} is not JSON`);
  }
  const info = parsed as { ownerUrl?: unknown; pid?: unknown };
  if (typeof info.ownerUrl !== 'string' || !info.ownerUrl.startsWith('postgres')) throw new Error(`${path} names no ownerUrl`);
  if (typeof info.pid === 'number') {
    try { process.kill(info.pid, 0); } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ESRCH') throw new Error(`${path} is stale: its service (pid ${info.pid}) is not running`);
    }
  }
  return info.ownerUrl;
}

/** SHA-256 keys of the sign-in throttle (migrations/014_sign_in_throttles.sql: kind and parts, newline-joined). */
function throttleKey(kind: 'pair' | 'account', ...parts: string[]): string {
  return `${kind}:${createHash('sha256').update([kind, ...parts].join('\n')).digest('hex')}`;
}

interface CartSnapshot { exists: boolean; items: { product_id: string; quantity: number }[] }

/** The database's side of the run: a baseline taken before the first row, and the clean-up after the last. */
export class Cleaner {
  #startedAt = '';
  readonly #tenantIds = new Map<string, string>();
  readonly #carts = new Map<string, CartSnapshot>();
  readonly #reserved = new Map<string, number>();

  private constructor(readonly sql: Sql, readonly source: string) {}

  static async open(url: string, source: string): Promise<Cleaner> {
    const sql = postgres(url, { max: 1, connect_timeout: 5, idle_timeout: 5, onnotice: () => {}, connection: { statement_timeout: 20_000 } });
    try {
      await sql`select 1 from tenants limit 1`;
    } catch (error) {
      await sql.end({ timeout: 1 });
      throw error;
    }
    return new Cleaner(sql, source);
  }

  async #tenantId(slug: string): Promise<string> {
    let id = this.#tenantIds.get(slug);
    if (!id) {
      const [t] = await this.sql<{ id: string }[]>`select id from tenants where slug = ${slug}`;
      if (!t) throw new Error(`no tenant ${slug}`);
      id = t.id;
      this.#tenantIds.set(slug, id);
    }
    return id;
  }

  /** Before the first row: the database's clock, the customers' carts and every stock reservation of the tenants. */
  async baseline(tenants: string[], customers: { tenant: string; login: string }[]): Promise<void> {
    const [now] = await this.sql<{ now: string }[]>`select now()::text as now`;
    this.#startedAt = now!.now;
    for (const slug of tenants) {
      const tid = await this.#tenantId(slug).catch(() => undefined);
      if (!tid) continue;
      const rows = await this.sql<{ warehouse_id: string; product_id: string; reserved: number }[]>`
        select warehouse_id, product_id, reserved from stock_levels where tenant_id = ${tid}`;
      for (const r of rows) this.#reserved.set(`${tid}:${r.warehouse_id}:${r.product_id}`, r.reserved);
    }
    for (const { tenant, login } of customers) {
      const tid = await this.#tenantId(tenant).catch(() => undefined);
      if (!tid) continue;
      const [cart] = await this.sql<{ id: string }[]>`
        select c.id from carts c join customers u on u.tenant_id = c.tenant_id and u.id = c.customer_id
        where c.tenant_id = ${tid} and u.email = ${login.toLowerCase()}`;
      const items = cart ? await this.sql<{ product_id: string; quantity: number }[]>`
        select product_id, quantity from cart_items where tenant_id = ${tid} and cart_id = ${cart.id} order by product_id` : [];
      this.#carts.set(`${tenant}:${login.toLowerCase()}`, { exists: Boolean(cart), items: items.map((i) => ({ product_id: i.product_id, quantity: i.quantity })) });
    }
  }

  /** Removes what the ledger holds; `addresses` are the source addresses the run used, `runId` names its idempotency keys. */
  async clean(ledger: Ledger, addresses: string[], runId: string): Promise<CleanupReport> {
    const report: CleanupReport = { access: `owner access (${this.source})`, removed: [], left: [], kept: [...KEPT] };
    for (const kind of CLEANUP_ORDER) {
      for (const record of ledger.of(kind)) {
        try {
          const done = await this.#remove(record, ledger, addresses);
          if (done) report.removed.push({ kind, item: describeCreated(record), detail: done });
        } catch (error) {
          report.left.push({ kind, item: describeCreated(record), detail: (error as Error).message });
        }
      }
    }
    try {
      const keys = await this.sql`delete from idempotency_keys where key like ${`attack-${runId}-%`} returning key`;
      if (keys.count) report.removed.push({ kind: 'idempotency keys', item: `idempotency keys of this run (attack-${runId}-…)`, detail: `${keys.count} removed` });
      const ips = addresses.flatMap((a) => [a, `::ffff:${a}`]);
      // Per address, and per client id for ids the run made up (they carry its run id: probe-client-<run>, flood-<run>).
      const buckets = await this.sql`delete from rate_limit_buckets
        where key = any(${this.sql.array(ips.flatMap((ip) => [`login_ip:${ip}`, `token_ip:${ip}`, `register_ip:${ip}`]))}::text[])
           or (key like 'client_auth:%' and key like ${`%-${runId}`}) returning key`;
      if (buckets.count) report.removed.push({ kind: 'address counters', item: `rate limits of the run's ${addresses.length} source addresses and of the client ids it made up`, detail: `${buckets.count} counter(s) reset` });
    } catch (error) {
      report.left.push({ kind: 'idempotency keys', item: 'idempotency keys and per-address counters of this run', detail: (error as Error).message });
    }
    return report;
  }

  async close(): Promise<void> {
    await this.sql.end({ timeout: 2 });
  }

  #remove(record: Created, ledger: Ledger, addresses: string[]): Promise<string | undefined> {
    switch (record.kind) {
      case 'pending action': return this.#action(record.tenant, record.id, ledger);
      case 'price': return this.#price(record.tenant, record.sku);
      case 'return': return this.#return(record.tenant, record.number);
      case 'order': return this.#order(record.tenant, record.number);
      case 'cart': return this.#cart(record.tenant, record.login);
      case 'client': return this.#client(record.tenant, record.clientId);
      case 'sign-in': return this.#signIn(record.tenant, record.login, addresses);
    }
  }

  async #action(slug: string, id: string, ledger: Ledger): Promise<string> {
    const tid = await this.#tenantId(slug);
    return this.sql.begin(async (tx) => {
      const [a] = await tx<{ tool: string; status: string; arguments: Record<string, unknown> }[]>`
        select tool, status::text, arguments from pending_actions where tenant_id = ${tid} and id = ${id} for update`;
      if (!a) return 'already gone';
      const undone: string[] = [];
      // What it did when it ran, put back first.
      const refunds = await tx<{ id: string; payment_id: string; amount_cents: string }[]>`
        select id, payment_id, amount_cents from refunds where tenant_id = ${tid} and action_id = ${id}`;
      for (const r of refunds) {
        await tx`update payments set refunded_cents = refunded_cents - ${r.amount_cents},
                   status = case when refunded_cents - ${r.amount_cents} = 0 then 'captured'::payment_status else 'partially_refunded'::payment_status end
                 where tenant_id = ${tid} and id = ${r.payment_id}`;
        await tx`delete from refunds where tenant_id = ${tid} and id = ${r.id}`;
        undone.push(`refund of ${(Number(r.amount_cents) / 100).toFixed(2)} given back to its payment`);
      }
      const pos = await tx`delete from purchase_orders where tenant_id = ${tid} and action_id = ${id} returning number`;
      for (const po of pos) undone.push(`purchase order ${String(po.number)} removed`);
      if (a.tool === 'change_price' && typeof a.arguments.sku === 'string') ledger.add({ kind: 'price', tenant: slug, sku: a.arguments.sku });
      else if (a.status === 'executed' && !refunds.length && !pos.length) {
        throw new Error(`it ran (${a.tool}) and its effect cannot be put back by the suite; the action stays`);
      }
      await tx`delete from pending_actions where tenant_id = ${tid} and id = ${id}`;
      return `${a.tool}, ${a.status}: removed${undone.length ? `; ${undone.join('; ')}` : ''}`;
    });
  }

  async #price(slug: string, sku: string): Promise<string | undefined> {
    const tid = await this.#tenantId(slug);
    return this.sql.begin(async (tx) => {
      const [p] = await tx<{ id: string }[]>`select id from products where tenant_id = ${tid} and sku = ${sku} for update`;
      if (!p) throw new Error('no such product');
      const added = await tx<{ id: string }[]>`
        select id from product_prices where tenant_id = ${tid} and product_id = ${p.id} and valid_from >= ${this.#startedAt}::timestamptz`;
      if (!added.length) return undefined; // never changed
      await tx`delete from product_prices where tenant_id = ${tid} and id = any(${tx.array(added.map((a) => a.id))}::uuid[])`;
      const [back] = await tx<{ amount_cents: string; currency: string }[]>`
        update product_prices set valid_to = null
        where tenant_id = ${tid} and id = (
          select id from product_prices where tenant_id = ${tid} and product_id = ${p.id} and valid_from < ${this.#startedAt}::timestamptz
          order by valid_from desc limit 1)
          and (valid_to is null or valid_to >= ${this.#startedAt}::timestamptz)
        returning amount_cents, currency`;
      return `${added.length} price change(s) removed; ${back ? `current price ${(Number(back.amount_cents) / 100).toFixed(2)} ${back.currency} again` : 'it had no current price before the run'}`;
    });
  }

  async #return(slug: string, number: string): Promise<string> {
    const tid = await this.#tenantId(slug);
    return this.sql.begin(async (tx) => {
      const [r] = await tx<{ id: string }[]>`select id from returns where tenant_id = ${tid} and number = ${number} for update`;
      if (!r) return 'already gone';
      const lines = await tx`delete from return_lines where tenant_id = ${tid} and return_id = ${r.id} returning line_no`;
      await tx`delete from returns where tenant_id = ${tid} and id = ${r.id}`;
      return `removed with ${lines.count} line(s)`;
    });
  }

  async #order(slug: string, number: string): Promise<string> {
    const tid = await this.#tenantId(slug);
    return this.sql.begin(async (tx) => {
      const [o] = await tx<{ id: string }[]>`select id from orders where tenant_id = ${tid} and number = ${number} for update`;
      if (!o) return 'already gone';
      const [refs] = await tx<{ returns: number; refunds: number; shipments: number; claims: number }[]>`
        select (select count(*) from returns where tenant_id = ${tid} and order_id = ${o.id})::int as returns,
               (select count(*) from refunds where tenant_id = ${tid} and order_id = ${o.id})::int as refunds,
               (select count(*) from shipments where tenant_id = ${tid} and order_id = ${o.id})::int as shipments,
               (select count(*) from damage_claims where tenant_id = ${tid} and order_id = ${o.id})::int as claims`;
      const held = Object.entries(refs!).filter(([, n]) => n > 0).map(([k, n]) => `${n} ${k}`);
      if (held.length) throw new Error(`it has ${held.join(', ')} the run did not record; the order stays`);
      const lines = await tx<{ product_id: string; quantity: number }[]>`
        select product_id, quantity from order_lines where tenant_id = ${tid} and order_id = ${o.id}`;
      for (const l of lines) await this.#release(tx, tid, l.product_id, l.quantity);
      await tx`delete from payments where tenant_id = ${tid} and order_id = ${o.id}`;
      await tx`delete from order_lines where tenant_id = ${tid} and order_id = ${o.id}`;
      await tx`delete from orders where tenant_id = ${tid} and id = ${o.id}`;
      return `removed with ${lines.length} line(s) and its payment; ${lines.reduce((n, l) => n + l.quantity, 0)} reserved unit(s) released`;
    });
  }

  /** Gives back a reservation place_order made: in the warehouse whose reservations grew by it during the run (place_order does not say which). */
  async #release(tx: Tx, tid: string, productId: string, quantity: number): Promise<void> {
    const levels = await tx<{ warehouse_id: string; reserved: number }[]>`
      select warehouse_id, reserved from stock_levels where tenant_id = ${tid} and product_id = ${productId} and reserved >= ${quantity} for update`;
    const growth = (l: { warehouse_id: string; reserved: number }) => l.reserved - (this.#reserved.get(`${tid}:${l.warehouse_id}:${productId}`) ?? l.reserved);
    // Another run (or a shopper) may have moved the same product's reservations meanwhile: then the
    // warehouse holding most of them; the order's units are reserved somewhere, and only once.
    const pick = levels.filter((l) => growth(l) >= quantity).sort((a, b) => growth(b) - growth(a))[0]
      ?? levels.sort((a, b) => b.reserved - a.reserved)[0];
    if (!pick) throw new Error(`no warehouse holds ${quantity} reserved unit(s) of its product any more; the order stays`);
    await tx`update stock_levels set reserved = reserved - ${quantity}, updated_at = now()
             where tenant_id = ${tid} and warehouse_id = ${pick.warehouse_id} and product_id = ${productId}`;
  }

  async #cart(slug: string, login: string): Promise<string> {
    const tid = await this.#tenantId(slug);
    const before = this.#carts.get(`${slug}:${login.toLowerCase()}`);
    if (!before) throw new Error('no snapshot of it from the start of the run');
    return this.sql.begin(async (tx) => {
      const [u] = await tx<{ id: string }[]>`select id from customers where tenant_id = ${tid} and email = ${login.toLowerCase()}`;
      if (!u) throw new Error('no such customer');
      const [cart] = await tx<{ id: string }[]>`select id from carts where tenant_id = ${tid} and customer_id = ${u.id} for update`;
      if (!cart) return before.exists ? 'the cart is gone; not recreated' : 'unchanged (no cart)';
      await tx`delete from cart_items where tenant_id = ${tid} and cart_id = ${cart.id}`;
      if (!before.exists) {
        await tx`delete from carts where tenant_id = ${tid} and id = ${cart.id}`;
        return 'removed (there was none before the run)';
      }
      for (const i of before.items) {
        await tx`insert into cart_items (tenant_id, cart_id, product_id, customer_id, quantity) values (${tid}, ${cart.id}, ${i.product_id}, ${u.id}, ${i.quantity})`;
      }
      return `put back as before the run (${before.items.length} item(s))`;
    });
  }

  async #client(slug: string, clientId: string): Promise<string> {
    const tid = await this.#tenantId(slug);
    return this.sql.begin(async (tx) => {
      const [c] = await tx`select 1 from oauth_clients where tenant_id = ${tid} and client_id = ${clientId} for update`;
      if (!c) return 'already gone';
      const tokens = await tx<{ id: string }[]>`select id from oauth_access_tokens where tenant_id = ${tid} and client_id = ${clientId}`;
      const windows = await tx`delete from mcp_budget_windows
        where key = any(${tx.array(tokens.map((t) => `t:${tid}:token:${t.id}`))}::text[]) or key like ${`t:${tid}:%:client:${clientId}`} returning key`;
      let rows = 0;
      for (const table of ['oauth_consents', 'oauth_refresh_tokens', 'oauth_access_tokens', 'oauth_authorization_codes', 'oauth_token_families', 'oauth_interactions', 'oauth_clients']) {
        rows += (await tx`delete from ${tx(table)} where tenant_id = ${tid} and client_id = ${clientId} returning 1`).count;
      }
      return `removed with ${rows - 1} token, code, consent and interaction row(s); ${windows.count} budget window(s) reset`;
    });
  }

  async #signIn(slug: string, login: string, addresses: string[]): Promise<string | undefined> {
    const tid = await this.#tenantId(slug);
    const email = login.toLowerCase();
    // The account strings the service throttles by: the authorization server's per audience, the console's.
    const accounts = [`${tid}:customer:${email}`, `${tid}:staff:${email}`, `console:${tid}:${email}`];
    const ips = addresses.flatMap((a) => [a, `::ffff:${a}`]);
    const keys = accounts.flatMap((a) => [throttleKey('account', a), ...ips.map((ip) => throttleKey('pair', a, ip))]);
    const throttles = await this.sql`delete from sign_in_throttles where key = any(${this.sql.array(keys)}::text[]) returning key`;
    const people = await this.sql<{ id: string }[]>`
      select id from customers where tenant_id = ${tid} and email = ${email}
      union all select id from staff where tenant_id = ${tid} and email = ${email}`;
    let windows = 0;
    for (const p of people) {
      windows += (await this.sql`delete from mcp_budget_windows where key like ${`t:${tid}:%:subject:${p.id}`} returning key`).count;
    }
    if (!throttles.count && !windows) return undefined;
    return `${throttles.count} throttle counter(s), ${windows} budget window(s) reset`;
  }
}

/** Without owner access: every record stays, and the report says so and how to avoid it. */
export function leftBehind(ledger: Ledger, access: string): CleanupReport {
  const left = CLEANUP_ORDER.filter((kind) => kind !== 'sign-in').flatMap((kind) => ledger.of(kind).map((r): CleanupEntry => ({ kind, item: describeCreated(r), detail: 'stays' })));
  // Counters, not records: one line for all the accounts.
  const signIns = ledger.of('sign-in');
  if (signIns.length) {
    left.push({
      kind: 'sign-in', item: `sign-in throttle counters and MCP budget windows of the ${signIns.length} account(s) the run signed in as or tried (${signIns.slice(0, 3).map((r) => r.login).join(', ')}${signIns.length > 3 ? ', …' : ''})`,
      detail: 'they run out on their own (budget windows within minutes, throttles within an hour); an immediate re-run may meet them (E1, late in the run, is the first to)',
    });
  }
  return { access, removed: [], left, howToClean: left.length ? HOW_TO_CLEAN : undefined, kept: [...KEPT] };
}
