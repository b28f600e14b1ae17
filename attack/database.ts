// The R rows run through the database of a local deployment: catalogue checks as the given owner or
// superuser, and behaviour checks as the application role, each in a transaction that is always
// rolled back, so the suite leaves the database as it found it.
import postgres from 'postgres';

/** Whom a probe acts as: the same transaction-local settings the service sets for a request. */
export type Actor =
  | { kind: 'customer'; tenantId: string; customerId: string }
  | { kind: 'staff'; tenantId: string; staffId: string; role: string };
type Tx = postgres.TransactionSql;

/**
 * The tenant context as the service documents it (migrations/README.md: app.tenant_id, app.actor,
 * app.subject_id, app.staff_role, transaction-local). The suite sets it itself: it drives the
 * database the way the application role can, not through the service's code.
 */
async function actAs(tx: Tx, actor: Actor): Promise<void> {
  const subject = actor.kind === 'customer' ? actor.customerId : actor.staffId;
  const role = actor.kind === 'staff' ? actor.role : '';
  await tx`select set_config('app.tenant_id', ${actor.tenantId}, true), set_config('app.actor', ${actor.kind}, true),
                  set_config('app.subject_id', ${subject}, true), set_config('app.staff_role', ${role}, true)`;
}

const DEV_APP_PASSWORD = 'commerce_app_dev_password'; // the documented development default (README)

class Rollback extends Error {}

export interface TenantIds {
  tenantId: string;
  customerA: string;
  customerB: string;
  staffId: string;
  staffRole: string;
}

export class DatabaseProbe {
  private constructor(
    /** The given connection (owner or superuser). */
    readonly owner: postgres.Sql,
    readonly superuser: boolean,
    readonly appRole: string,
    /** How the application role is reached: its own URL, or SET ROLE from a superuser. */
    readonly appUrl: string | undefined,
    readonly url: string,
  ) {}

  static async open(url: string, appUrl: string | undefined, appRole: string): Promise<DatabaseProbe> {
    const owner = postgres(url, { max: 2, connect_timeout: 5, idle_timeout: 5, onnotice: () => {}, connection: { statement_timeout: 20_000 } });
    const [me] = await owner<{ rolsuper: boolean }[]>`select rolsuper from pg_roles where rolname = current_user`;
    const superuser = Boolean(me?.rolsuper);
    let resolvedApp = appUrl;
    if (!resolvedApp && !superuser) {
      const u = new URL(url);
      u.username = appRole;
      u.password = DEV_APP_PASSWORD;
      resolvedApp = u.toString();
    }
    return new DatabaseProbe(owner, superuser, appRole, resolvedApp, url);
  }

  /** A pool connected as the application role (or a superuser pool that switches to it per transaction). */
  appPool(max = 1): postgres.Sql {
    return postgres(this.appUrl ?? this.url, {
      max, connect_timeout: 5, idle_timeout: 5, onnotice: () => {}, connection: { statement_timeout: 10_000 },
    });
  }

  /** Runs `fn` as the application role with `actor`'s context (none when null); always rolled back. */
  async asApp<T>(pool: postgres.Sql, actor: Actor | null, fn: (tx: Tx) => Promise<T>): Promise<T> {
    let result: T | undefined;
    try {
      await pool.begin(async (tx) => {
        if (!this.appUrl) await tx.unsafe(`set local role ${this.appRole}`);
        if (actor) await actAs(tx, actor);
        result = await fn(tx);
        throw new Rollback();
      });
    } catch (error) {
      if (!(error instanceof Rollback)) throw error;
    }
    return result as T;
  }

  /** Runs `fn` as the given (owner) connection in a transaction that is rolled back. */
  async asOwner<T>(fn: (tx: Tx) => Promise<T>): Promise<T> {
    let result: T | undefined;
    try {
      await this.owner.begin(async (tx) => {
        result = await fn(tx);
        throw new Rollback();
      });
    } catch (error) {
      if (!(error instanceof Rollback)) throw error;
    }
    return result as T;
  }

  /** Every table that carries tenant_id, from the catalogue. */
  async tenantTables(): Promise<string[]> {
    const rows = await this.owner<{ table_name: string }[]>`
      select c.table_name from information_schema.columns c
      join information_schema.tables t on t.table_schema = c.table_schema and t.table_name = c.table_name
      where c.table_schema = 'public' and c.column_name = 'tenant_id' and t.table_type = 'BASE TABLE'
      order by 1`;
    return rows.map((r) => r.table_name);
  }

  async tenantIds(slug: string): Promise<TenantIds> {
    const [t] = await this.owner<{ id: string }[]>`select id from tenants where slug = ${slug}`;
    if (!t) throw new Error(`no tenant ${slug} in the database`);
    const customers = await this.owner<{ id: string }[]>`
      select c.id from customers c where c.tenant_id = ${t.id}
        and exists (select 1 from orders o where o.tenant_id = c.tenant_id and o.customer_id = c.id)
      order by c.email limit 2`;
    const [s] = await this.owner<{ id: string; role: string }[]>`
      select id, role::text from staff where tenant_id = ${t.id} and disabled_at is null order by role = 'supply_chain_manager' desc, email limit 1`;
    if (customers.length < 2 || !s) throw new Error(`tenant ${slug} needs two customers with orders and a staff member`);
    return { tenantId: t.id, customerA: customers[0]!.id, customerB: customers[1]!.id, staffId: s.id, staffRole: s.role };
  }

  async close(): Promise<void> {
    await this.owner.end({ timeout: 2 });
  }
}
