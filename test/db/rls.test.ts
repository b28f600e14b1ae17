// Row-level security by persona (docs/ATTACK-CATALOGUE.md R1–R7), against the migrated, demo-seeded database,
// connected as the application role exactly as the service is.
import assert from 'node:assert/strict';
import { before, describe, test } from 'node:test';
import postgres from 'postgres';
import { withContext, type Actor } from '../../src/db/context.js';
import { openAppPool } from '../../src/db/database.js';
import { APP_ROLE } from '../../src/db/roles.js';
import { createTestDatabase, first, type TestDatabase } from '../support/database.js';

let db: TestDatabase;
interface Ids { tenantId: string; customerA: string; customerB: string; staffId: string; staffRole: string }
const ids: Record<'acme' | 'globex', Ids> = {} as never;

before(async () => {
  db = await createTestDatabase();
  for (const slug of ['acme', 'globex'] as const) {
    const [t] = await db.owner<{ id: string }[]>`select id from tenants where slug = ${slug}`;
    assert.ok(t, `demo tenant ${slug} is seeded`);
    const customers = await db.owner<{ id: string }[]>`
      select c.id from customers c where c.tenant_id = ${t.id}
        and exists (select 1 from orders o where o.tenant_id = c.tenant_id and o.customer_id = c.id)
      order by c.email limit 2`;
    const [s] = await db.owner<{ id: string; role: string }[]>`
      select id, role::text from staff where tenant_id = ${t.id} and role = 'supply_chain_manager' limit 1`;
    assert.equal(customers.length, 2, `${slug} has two customers with orders`);
    ids[slug] = { tenantId: t.id, customerA: customers[0]!.id, customerB: customers[1]!.id, staffId: s!.id, staffRole: s!.role };
  }
});

const customer = (slug: 'acme' | 'globex', which: 'customerA' | 'customerB' = 'customerA'): Actor =>
  ({ kind: 'customer', tenantId: ids[slug].tenantId, customerId: ids[slug][which] });
const staff = (slug: 'acme' | 'globex'): Actor =>
  ({ kind: 'staff', tenantId: ids[slug].tenantId, staffId: ids[slug].staffId, role: ids[slug].staffRole });

/** Every table that carries tenant_id: found from the catalogue, so a new table is covered by itself. */
async function tenantTables(sql: postgres.Sql): Promise<string[]> {
  const rows = await sql<{ table_name: string }[]>`
    select c.table_name from information_schema.columns c
    join information_schema.tables t on t.table_schema = c.table_schema and t.table_name = c.table_name
    where c.table_schema = 'public' and c.column_name = 'tenant_id' and t.table_type = 'BASE TABLE'
    order by 1`;
  return rows.map((r) => r.table_name);
}

describe('R1 the application role', () => {
  test('R1 is not superuser, not BYPASSRLS, and owns no table, view, sequence or function', async () => {
    const [role] = await db.app<{ rolsuper: boolean; rolbypassrls: boolean; current_user: string }[]>`
      select rolsuper, rolbypassrls, current_user from pg_roles where rolname = current_user`;
    assert.equal(role!.current_user, APP_ROLE);
    assert.equal(role!.rolsuper, false);
    assert.equal(role!.rolbypassrls, false);
    const owned = await db.app`
      select relname from pg_class where relowner = (select oid from pg_roles where rolname = current_user)
      union all select proname from pg_proc where proowner = (select oid from pg_roles where rolname = current_user)`;
    assert.deepEqual([...owned], []);
    const [membership] = await db.app<{ n: number }[]>`
      select count(*)::int as n from pg_auth_members where member = (select oid from pg_roles where rolname = current_user)`;
    assert.equal(membership!.n, 0, 'the application role inherits no other role');
  });
});

describe('R2 every tenant table has RLS enabled and forced', () => {
  test('R2 found from the catalogue: enabled, forced, and has a policy', async () => {
    const tables = await tenantTables(db.owner);
    assert.ok(tables.length >= 30, `found ${tables.length} tenant tables`);
    const rows = await db.owner<{ relname: string; relrowsecurity: boolean; relforcerowsecurity: boolean; policies: number }[]>`
      select c.relname, c.relrowsecurity, c.relforcerowsecurity,
             (select count(*)::int from pg_policy p where p.polrelid = c.oid) as policies
      from pg_class c join pg_namespace n on n.oid = c.relnamespace
      where n.nspname = 'public' and c.relname = any(${tables})`;
    for (const r of rows) {
      assert.ok(r.relrowsecurity, `${r.relname}: RLS enabled`);
      assert.ok(r.relforcerowsecurity, `${r.relname}: RLS forced`);
      assert.ok(r.policies > 0, `${r.relname}: has a policy`);
    }
    assert.equal(rows.length, tables.length);
  });

  test('R2 no policy grants the application role (or PUBLIC) an unconditional pass', async () => {
    const rows = await db.owner<{ table: string; policy: string }[]>`
      select c.relname as table, p.polname as policy from pg_policy p join pg_class c on c.oid = p.polrelid
      where (0 = any(p.polroles) or (select oid from pg_roles where rolname = ${APP_ROLE}) = any(p.polroles))
        and pg_get_expr(p.polqual, p.polrelid) = 'true' and c.relname <> 'tenants'`;
    assert.deepEqual([...rows], []);
  });
});

describe('isolation by persona', () => {
  test('R6 no context sees zero rows in every tenant table', async () => {
    for (const table of await tenantTables(db.owner)) {
      const [r] = await db.app.begin((tx) => tx<{ n: number }[]>`select count(*)::int as n from ${tx(table)}`);
      assert.equal(r!.n, 0, `${table} without context`);
    }
  });

  test('a customer sees only their own orders, shipments, returns and payments', async () => {
    const a = ids.acme;
    for (const table of ['orders', 'shipments', 'returns', 'payments', 'order_lines']) {
      const rows = await withContext(db.app, customer('acme'), (tx) =>
        tx<{ customer_id: string; tenant_id: string }[]>`select customer_id, tenant_id from ${tx(table)}`);
      assert.ok(rows.every((r) => r.customer_id === a.customerA && r.tenant_id === a.tenantId), table);
    }
    const [mine] = await withContext(db.app, customer('acme'), (tx) => tx<{ n: number }[]>`select count(*)::int as n from orders`);
    assert.ok(mine!.n > 0, 'the customer has orders to see');
    const others = await withContext(db.app, customer('acme'), (tx) =>
      tx`select 1 from orders where customer_id = ${a.customerB}`);
    assert.equal(others.length, 0);
  });

  test('a customer sees no staff-only data and no authorization-server tables', async () => {
    for (const table of ['staff', 'pending_actions', 'damage_claims', 'settlements', 'purchase_orders', 'suppliers',
      'oauth_access_tokens', 'oauth_clients', 'audit_events']) {
      const [r] = await withContext(db.app, customer('acme'), (tx) => tx<{ n: number }[]>`select count(*)::int as n from ${tx(table)}`);
      assert.equal(r!.n, 0, table);
    }
    const customers = await withContext(db.app, customer('acme'), (tx) => tx<{ id: string }[]>`select id from customers`);
    assert.deepEqual(customers.map((c) => c.id), [ids.acme.customerA]);
  });

  test('staff see their own tenant only', async () => {
    for (const table of await tenantTables(db.owner)) {
      const rows = await withContext(db.app, staff('acme'), (tx) => tx<{ tenant_id: string }[]>`select distinct tenant_id from ${tx(table)}`);
      assert.ok(rows.every((r) => r.tenant_id === ids.acme.tenantId), table);
    }
    const [o] = await withContext(db.app, staff('acme'), (tx) => tx<{ n: number }[]>`select count(distinct customer_id)::int as n from orders`);
    assert.ok(o!.n >= 2, 'staff see every customer of the tenant');
  });

  test('R3 tenant A cannot move a row to tenant B, nor insert a row for B', async () => {
    await assert.rejects(
      withContext(db.app, staff('acme'), (tx) => tx`update products set tenant_id = ${ids.globex.tenantId} where true`),
      /row-level security|violates foreign key/);
    await assert.rejects(
      withContext(db.app, staff('acme'), (tx) =>
        tx`insert into warehouses (tenant_id, code, name, city) values (${ids.globex.tenantId}, 'X1', 'x', 'x')`),
      /row-level security/);
    await assert.rejects(
      withContext(db.app, customer('acme'), (tx) =>
        tx`insert into carts (tenant_id, customer_id) values (${ids.acme.tenantId}, ${ids.acme.customerB})`),
      /row-level security/);
    const updated = await withContext(db.app, staff('acme'), (tx) =>
      tx`update orders set note = 'x' where tenant_id = ${ids.globex.tenantId} returning 1`);
    assert.equal(updated.length, 0, 'another tenant\'s rows are invisible to update');
  });
});

describe('R4 R5 R7 schema hygiene', () => {
  test('R4 SECURITY DEFINER functions: none outside the reviewed allowlist, each with fixed search_path and no PUBLIC execute', async () => {
    const ALLOWLIST = ['pending_approval_counts', 'audit_seal']; // 010: counts for metrics; 021: the audit sealer
    const rows = await db.owner<{ proname: string; proconfig: string[] | null; public_exec: boolean }[]>`
      select p.proname, p.proconfig, has_function_privilege('public', p.oid, 'execute') as public_exec
      from pg_proc p join pg_namespace n on n.oid = p.pronamespace
      where p.prosecdef and n.nspname not in ('pg_catalog', 'information_schema')`;
    for (const r of rows) {
      assert.ok(ALLOWLIST.includes(r.proname), `${r.proname} is not on the allowlist`);
      assert.ok(r.proconfig?.some((c) => c.startsWith('search_path=')), `${r.proname} fixes search_path`);
      assert.equal(r.public_exec, false, `${r.proname} not executable by PUBLIC`);
    }
  });

  test('R5 every view runs with the invoker\'s rights', async () => {
    const rows = await db.owner<{ relname: string; reloptions: string[] | null }[]>`
      select c.relname, c.reloptions from pg_class c join pg_namespace n on n.oid = c.relnamespace
      where c.relkind in ('v', 'm') and n.nspname not in ('pg_catalog', 'information_schema')`;
    for (const r of rows) assert.ok(r.reloptions?.includes('security_invoker=true'), `${r.relname} is security_invoker`);
  });

  test('R7 every unique key on a tenant table includes tenant_id', async () => {
    const tables = await tenantTables(db.owner);
    const rows = await db.owner<{ table: string; index: string; has_tenant: boolean }[]>`
      select c.relname as table, i.relname as index,
             exists (select 1 from unnest(x.indkey) k join pg_attribute a on a.attrelid = x.indrelid and a.attnum = k
                     where a.attname = 'tenant_id') as has_tenant
      from pg_index x join pg_class c on c.oid = x.indrelid join pg_class i on i.oid = x.indexrelid
      where x.indisunique and c.relname = any(${tables})`;
    assert.ok(rows.length >= tables.length);
    for (const r of rows) assert.ok(r.has_tenant, `${r.table}.${r.index} includes tenant_id`);
  });

  test('R7 the application role reads no statistics of tenant tables', async () => {
    const stats = await db.app`select tablename from pg_stats where schemaname = 'public'`;
    assert.equal(stats.length, 0, 'pg_stats hides RLS tables');
    await assert.rejects(db.app`select * from pg_statistic limit 1`, /permission denied/);
  });
});

describe('R6 identity never leaks through the pool', () => {
  test('R6 one connection alternating tenants, with a failed transaction between', async () => {
    const one = openAppPool(db.appUrl, 1);
    try {
      const seen = await withContext(one, customer('acme'), (tx) => tx<{ tenant_id: string }[]>`select tenant_id from orders`);
      assert.ok(seen.length > 0 && seen.every((r) => r.tenant_id === ids.acme.tenantId));
      await assert.rejects(withContext(one, staff('globex'), async (tx) => {
        await tx`select 1 from orders`;
        await tx`select 1/0`;
      }));
      const { pid: pid1 } = first(await one<{ pid: number }[]>`select pg_backend_pid() as pid`);
      const bare = await one.begin((tx) => tx`select 1 from orders union all select 1 from staff`);
      assert.equal(bare.length, 0, 'after a failed transaction the connection carries no context');
      const [settings] = await one<{ t: string | null; a: string | null }[]>`
        select current_setting('app.tenant_id', true) as t, current_setting('app.actor', true) as a`;
      assert.ok(!settings!.t && !settings!.a, 'no context outside a transaction');
      const globex = await withContext(one, staff('globex'), (tx) => tx<{ tenant_id: string }[]>`select distinct tenant_id from orders`);
      assert.deepEqual(globex.map((r) => r.tenant_id), [ids.globex.tenantId]);
      const { pid: pid2 } = first(await one<{ pid: number }[]>`select pg_backend_pid() as pid`);
      assert.equal(pid1, pid2, 'the same pooled connection served every step');
    } finally {
      await one.end();
    }
  });
});

describe('R8 audit is append-only for the application role', () => {
  test('R8 update and delete on audit_events are refused', async () => {
    await withContext(db.app, staff('acme'), (tx) =>
      tx`insert into audit_events (tenant_id, actor_kind, event, outcome)
         values (${ids.acme.tenantId}, 'staff', 'test.event', 'ok')`);
    await assert.rejects(withContext(db.app, staff('acme'), (tx) => tx`update audit_events set outcome = 'x'`), /permission denied/);
    await assert.rejects(withContext(db.app, staff('acme'), (tx) => tx`delete from audit_events`), /permission denied/);
    await assert.rejects(withContext(db.app, staff('acme'), (tx) => tx`truncate audit_events`), /permission denied/);
  });
});
