// R1–R8: PostgreSQL row-level security, checked through the deployment's database (local only,
// --database-url). Catalogue checks as the owner; behaviour as the application role, every
// transaction rolled back.
import { verifyAuditChain } from '../../src/audit/verify.js';
import type { AttackContext } from '../context.js';
import type { Actor, DatabaseProbe, TenantIds } from '../database.js';
import { Checks, notApplicable, type AttackRow, type RowResult } from '../types.js';

const SECURITY_DEFINER_ALLOWLIST = ['pending_approval_counts', 'audit_seal']; // migrations/README.md "Functions"

function withDatabase(run: (db: DatabaseProbe, ctx: AttackContext, c: Checks) => Promise<void>): (ctx: AttackContext) => Promise<RowResult> {
  return async (ctx) => {
    const error = ctx.shared.get('databaseError') as string | undefined;
    if (error) return { pass: false, observed: `could not connect to the database: ${error}`, evidence: [] };
    if (!ctx.database) return notApplicable('needs --database-url (a local deployment\'s owner or superuser URL)');
    const c = new Checks();
    await run(ctx.database, ctx, c);
    return c.result();
  };
}

async function rejects(p: Promise<unknown>, pattern: RegExp): Promise<{ ok: boolean; detail: string }> {
  try {
    await p;
    return { ok: false, detail: 'succeeded' };
  } catch (error) {
    const m = (error as Error).message;
    return { ok: pattern.test(m), detail: m.slice(0, 120) };
  }
}

const ids = (ctx: AttackContext, db: DatabaseProbe) => ctx.memo('db:ids', async () => ({
  a: await db.tenantIds(ctx.options.tenant), b: await db.tenantIds(ctx.options.otherTenant),
}));
const staffOf = (t: TenantIds): Actor => ({ kind: 'staff', tenantId: t.tenantId, staffId: t.staffId, role: t.staffRole });
const customerOf = (t: TenantIds, which: 'customerA' | 'customerB' = 'customerA'): Actor => ({ kind: 'customer', tenantId: t.tenantId, customerId: t[which] });

export const r1: AttackRow = {
  id: 'R1', title: 'application role is superuser, BYPASSRLS, or owns a table', expected: 'none of these',
  run: withDatabase(async (db, _ctx, c) => {
    const [role] = await db.owner<{ rolsuper: boolean; rolbypassrls: boolean }[]>`select rolsuper, rolbypassrls from pg_roles where rolname = ${db.appRole}`;
    if (!c.expect(`role ${db.appRole} exists`, Boolean(role), role ? 'found' : 'missing')) return;
    c.expect('not superuser', role!.rolsuper === false, String(role!.rolsuper));
    c.expect('not BYPASSRLS', role!.rolbypassrls === false, String(role!.rolbypassrls));
    const owned = await db.owner<{ name: string }[]>`
      select relname::text as name from pg_class where relowner = (select oid from pg_roles where rolname = ${db.appRole})
      union all select proname::text from pg_proc where proowner = (select oid from pg_roles where rolname = ${db.appRole})`;
    c.expect('owns no table, view, sequence or function', owned.length === 0, owned.map((o) => o.name).join(', ') || 'none');
    const [m] = await db.owner<{ n: number }[]>`select count(*)::int as n from pg_auth_members where member = (select oid from pg_roles where rolname = ${db.appRole})`;
    c.expect('member of no role', m!.n === 0, `${m!.n} memberships`);
  }),
};

export const r2: AttackRow = {
  id: 'R2', title: 'a tenant table without RLS enabled and forced', expected: 'none',
  run: withDatabase(async (db, _ctx, c) => {
    const tables = await db.tenantTables();
    const rows = await db.owner<{ relname: string; relrowsecurity: boolean; relforcerowsecurity: boolean; policies: number }[]>`
      select c.relname, c.relrowsecurity, c.relforcerowsecurity, (select count(*)::int from pg_policy p where p.polrelid = c.oid) as policies
      from pg_class c join pg_namespace n on n.oid = c.relnamespace where n.nspname = 'public' and c.relname = any(${tables})`;
    const bad = rows.filter((r) => !r.relrowsecurity || !r.relforcerowsecurity || r.policies === 0).map((r) => r.relname);
    c.expect(`${tables.length} tenant tables: RLS enabled, forced, with a policy`, tables.length > 0 && bad.length === 0, bad.join(', ') || 'all');
    const open = await db.owner<{ t: string; p: string }[]>`
      select c.relname as t, p.polname as p from pg_policy p join pg_class c on c.oid = p.polrelid
      where (0 = any(p.polroles) or (select oid from pg_roles where rolname = ${db.appRole}) = any(p.polroles))
        and pg_get_expr(p.polqual, p.polrelid) = 'true' and c.relname <> 'tenants'`;
    c.expect('no unconditional policy for the application role or PUBLIC', open.length === 0, open.map((o) => `${o.t}.${o.p}`).join(', ') || 'none');
  }),
};

export const r3: AttackRow = {
  id: 'R3', title: 'tenant A updates a row to tenant B, or inserts a row for B', expected: 'RLS violation',
  run: withDatabase(async (db, ctx, c) => {
    const { a, b } = await ids(ctx, db);
    const pool = db.appPool(2);
    try {
      let r = await rejects(db.asApp(pool, staffOf(a), (tx) => tx`update products set tenant_id = ${b.tenantId} where true`), /row-level security|foreign key/);
      c.expect('staff of A moves products to B', r.ok, r.detail);
      r = await rejects(db.asApp(pool, staffOf(a), (tx) => tx`insert into warehouses (tenant_id, code, name, city) values (${b.tenantId}, 'X1', 'x', 'x')`), /row-level security/);
      c.expect('staff of A inserts a warehouse for B', r.ok, r.detail);
      r = await rejects(db.asApp(pool, customerOf(a), (tx) => tx`insert into carts (tenant_id, customer_id) values (${a.tenantId}, ${a.customerB})`), /row-level security/);
      c.expect('customer inserts a cart for another customer', r.ok, r.detail);
      const n = await db.asApp(pool, staffOf(a), (tx) => tx`update orders set note = 'x' where tenant_id = ${b.tenantId} returning 1`);
      c.expect("B's rows are invisible to A's update", n.length === 0, `${n.length} rows updated`);
    } finally {
      await pool.end({ timeout: 2 });
    }
  }),
};

export const r4: AttackRow = {
  id: 'R4', title: 'SECURITY DEFINER functions', expected: 'only a reviewed allowlist, each with a fixed search_path, EXECUTE not granted to PUBLIC',
  run: withDatabase(async (db, _ctx, c) => {
    const rows = await db.owner<{ proname: string; proconfig: string[] | null; public_exec: boolean }[]>`
      select p.proname, p.proconfig, has_function_privilege('public', p.oid, 'execute') as public_exec
      from pg_proc p join pg_namespace n on n.oid = p.pronamespace
      where p.prosecdef and n.nspname not in ('pg_catalog', 'information_schema')`;
    c.expect('only allowlisted definers', rows.every((r) => SECURITY_DEFINER_ALLOWLIST.includes(r.proname)), rows.map((r) => r.proname).join(', ') || 'none');
    for (const r of rows) {
      c.expect(`${r.proname}: fixed search_path`, Boolean(r.proconfig?.some((x) => x.startsWith('search_path='))), String(r.proconfig));
      c.expect(`${r.proname}: no PUBLIC execute`, !r.public_exec, String(r.public_exec));
    }
  }),
};

export const r5: AttackRow = {
  id: 'R5', title: "views that run with the owner's rights", expected: 'all views security_invoker',
  run: withDatabase(async (db, _ctx, c) => {
    const rows = await db.owner<{ relname: string; reloptions: string[] | null }[]>`
      select c.relname, c.reloptions from pg_class c join pg_namespace n on n.oid = c.relnamespace
      where c.relkind in ('v', 'm') and n.nspname not in ('pg_catalog', 'information_schema')`;
    const bad = rows.filter((r) => !r.reloptions?.includes('security_invoker=true')).map((r) => r.relname);
    c.expect('every view is security_invoker', bad.length === 0, `${rows.length} views; ${bad.join(', ') || 'none without security_invoker'}`);
  }),
};

export const r6: AttackRow = {
  id: 'R6', title: 'identity leaking through the pool (alternating tenants, a failed transaction between)', expected: 'every request starts with no tenant context; without it, zero rows',
  run: withDatabase(async (db, ctx, c) => {
    const { a, b } = await ids(ctx, db);
    const one = db.appPool(1);
    try {
      const pids = new Set<number>();
      const seen = await db.asApp(one, customerOf(a), async (tx) => {
        pids.add((await tx<{ pid: number }[]>`select pg_backend_pid() as pid`)[0]!.pid);
        return tx<{ tenant_id: string }[]>`select tenant_id from orders`;
      });
      c.expect("customer of A sees only A's rows", seen.length > 0 && seen.every((r) => r.tenant_id === a.tenantId), `${seen.length} rows`);
      const failed = await rejects(db.asApp(one, staffOf(b), async (tx) => { await tx`select 1 from orders`; await tx`select 1/0`; }), /division by zero/);
      c.expect('a failing transaction as staff of B', failed.ok, failed.detail);
      const bare = await db.asApp(one, null, async (tx) => {
        pids.add((await tx<{ pid: number }[]>`select pg_backend_pid() as pid`)[0]!.pid);
        const settings = await tx<{ t: string | null }[]>`select nullif(current_setting('app.tenant_id', true), '') as t`;
        const rows = await tx`select 1 from orders union all select 1 from staff union all select 1 from customers`;
        return { t: settings[0]!.t, rows: rows.length };
      });
      c.expect('next transaction on the same connection has no context', bare.t === null, `app.tenant_id=${bare.t}`);
      c.expect('and sees zero rows', bare.rows === 0, `${bare.rows} rows`);
      c.expect('the same pooled connection served every step', pids.size === 1, `${pids.size} backends`);
      let nonEmpty: string[] = [];
      for (const table of await db.tenantTables()) {
        const [r] = await db.asApp(one, null, (tx) => tx<{ n: number }[]>`select count(*)::int as n from ${tx(table)}`);
        if (r!.n > 0) nonEmpty = [...nonEmpty, table];
      }
      c.expect('no context: zero rows in every tenant table', nonEmpty.length === 0, nonEmpty.join(', ') || 'all empty');
    } finally {
      await one.end({ timeout: 2 });
    }
  }),
};

export const r7: AttackRow = {
  id: 'R7', title: 'side channels: SQL errors to clients, global unique keys, stats views', expected: 'generic errors; unique keys include tenant_id; no stats access',
  run: withDatabase(async (db, ctx, c) => {
    const tables = await db.tenantTables();
    const keys = await db.owner<{ t: string; i: string; has_tenant: boolean }[]>`
      select c.relname as t, i.relname as i,
             exists (select 1 from unnest(x.indkey) k join pg_attribute a on a.attrelid = x.indrelid and a.attnum = k where a.attname = 'tenant_id') as has_tenant
      from pg_index x join pg_class c on c.oid = x.indrelid join pg_class i on i.oid = x.indexrelid
      where x.indisunique and c.relname = any(${tables})`;
    const bad = keys.filter((k) => !k.has_tenant).map((k) => `${k.t}.${k.i}`);
    c.expect('every unique key of a tenant table includes tenant_id', bad.length === 0, bad.join(', ') || `${keys.length} keys`);
    const pool = db.appPool(1);
    try {
      // Tenant tables only: the shared counters (budgets, throttles) hold no tenant rows and are
      // readable by the application role anyway, so their statistics, once analysed, tell it nothing more.
      const stats = await db.asApp(pool, null, (tx) => tx<{ tablename: string }[]>`select tablename from pg_stats where schemaname = 'public' and tablename = any(${tables})`);
      c.expect('pg_stats shows the application role nothing of tenant tables', stats.length === 0, `${stats.length} rows${stats.length ? `: ${[...new Set(stats.map((s) => s.tablename))].join(', ')}` : ''}`);
      const r = await rejects(db.asApp(pool, null, (tx) => tx`select * from pg_statistic limit 1`), /permission denied/);
      c.expect('pg_statistic is refused', r.ok, r.detail);
    } finally {
      await pool.end({ timeout: 2 });
    }
    // Errors to clients: a request that trips the database must not show SQL.
    const token = await ctx.accessToken('customer');
    const res = await ctx.http.fetch(ctx.customerUrl(), {
      method: 'POST', headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream', authorization: `Bearer ${token}` },
      body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name: 'list_orders', arguments: { cursor: 'WyJub3QtYS1kYXRlIiwieCJd' } } }),
    });
    const text = await res.text();
    c.expect('a malformed cursor gives a generic error, no SQL', !/syntax|relation|column|postgres|SELECT|stack/i.test(text), text.slice(0, 100));
  }),
};

export const r8: AttackRow = {
  id: 'R8', title: 'tampering with the audit log through the application role', expected: 'permission denied; the chain verifier detects any change made by an owner',
  run: withDatabase(async (db, ctx, c) => {
    const { a } = await ids(ctx, db);
    const pool = db.appPool(1);
    try {
      for (const [name, stmt] of [['update', 'update audit_events set outcome = $$x$$'], ['delete', 'delete from audit_events'], ['truncate', 'truncate audit_events']] as const) {
        const r = await rejects(db.asApp(pool, staffOf(a), (tx) => tx.unsafe(stmt)), /permission denied/);
        c.expect(`application role: ${name} audit_events`, r.ok, r.detail);
      }
    } finally {
      await pool.end({ timeout: 2 });
    }
    // Entries are linked after commit by app.audit_seal (migrations/README.md, 021); the tampering
    // below needs a sealed one, so the row seals what is committed, as the operator's verify does.
    while ((await db.owner<{ n: number }[]>`select app.audit_seal(5000) as n`)[0]!.n === 5000);
    const before = await verifyAuditChain(db.owner, ctx.options.tenant);
    c.expect('the chain verifies before tampering', before.ok, `${before.entries} entries`);
    const tampered = await db.asOwner(async (tx) => {
      await tx`update audit_events set outcome = 'tampered' where tenant_id = ${a.tenantId} and seq = (select min(seq) from audit_events where tenant_id = ${a.tenantId})`;
      return verifyAuditChain(tx as never, ctx.options.tenant);
    });
    c.expect('an owner\'s change is detected (rolled back afterwards)', !tampered.ok, JSON.stringify(tampered.firstBreak));
  }),
};

export const DATABASE_ROWS = [r1, r2, r3, r4, r5, r6, r7, r8];
