// npm run admin -- <command>: tenants, staff, customers and OAuth clients (create, list, disable),
// and token revocation by user or by client. Runs as the owner role (like migrations and the seed),
// against the database the service would open (embedded under DATA_DIR, or DATABASE_URL).
// Passwords are read from standard input (never from argv, which ends up in shell history).
//
//   tenants list | tenants create <slug> <name> | tenants disable <slug>
//   staff list <tenant> | staff create <tenant> <email> <name> <role> [--may-approve] | staff disable <tenant> <email>
//   customers list <tenant> | customers create <tenant> <email> <name> | customers disable <tenant> <email>
//   clients list <tenant> | clients disable <tenant> <client_id>
//   clients create <tenant> --name N --audience customer|staff|any|service|resource_server
//                  [--redirect-uri U]... [--scope "a b"] [--confidential]
//   revoke user <tenant> <email> [--staff] | revoke client <tenant> <client_id>
//   audit verify <tenant>     exit status 1 and the first broken entry when the chain does not verify
//   audit export <tenant>     the tenant's audit log as JSON lines on standard output
import { createInterface } from 'node:readline';
import { parseArgs } from 'node:util';
import type postgres from 'postgres';
import { isEntryPoint, runAsOwner, UsageError } from './owner.js';
import { createPreregisteredClient, type ClientAudience } from '../authz/clients.js';
import { isAllowedRedirectUri } from '../authz/checks/redirect-uri.js';
import { TENANT_SLUG } from '../authz/resources.js';
import { isStaffScope, parseScope, isCustomerScope } from '../authz/scopes.js';
import { exportAuditLog, verifyAuditChain } from '../audit/verify.js';
import { hashPassword } from '../tenants/passwords.js';

type Owner = postgres.Sql;

const ROLES = ['supply_chain_manager', 'warehouse_lead', 'returns_specialist', 'tenant_admin'];
const AUDIENCES: ClientAudience[] = ['customer', 'staff', 'any', 'service', 'resource_server'];

async function readPassword(): Promise<string> {
  if (process.stdin.isTTY) process.stderr.write('password (min 12 characters): ');
  const rl = createInterface({ input: process.stdin });
  const line = await new Promise<string>((resolve) => rl.once('line', resolve).once('close', () => resolve('')));
  rl.close();
  if (line.length < 12) throw new UsageError('password must be at least 12 characters (read from stdin)');
  return line;
}

async function tenantId(sql: Owner, slug: string | undefined): Promise<string> {
  if (!slug) throw new UsageError('tenant slug required');
  const [t] = await sql<{ id: string }[]>`select id from tenants where slug = ${slug}`;
  if (!t) throw new UsageError(`no tenant ${slug}`);
  return t.id;
}

function need(value: string | undefined, what: string): string {
  if (!value) throw new UsageError(`${what} required`);
  return value;
}

async function revokeWhere(sql: Owner, tenant: string, by: { subjectKind?: string; subjectId?: string; clientId?: string }): Promise<number> {
  return sql.begin(async (tx) => {
    const families = by.clientId
      ? await tx<{ id: string }[]>`update oauth_token_families set revoked_at = now(), revoked_reason = 'admin: client'
          where tenant_id = ${tenant} and client_id = ${by.clientId} and revoked_at is null returning id`
      : await tx<{ id: string }[]>`update oauth_token_families set revoked_at = now(), revoked_reason = 'admin: user'
          where tenant_id = ${tenant} and subject_kind = ${by.subjectKind!} and subject_id = ${by.subjectId!} and revoked_at is null returning id`;
    const access = by.clientId
      ? await tx`update oauth_access_tokens set revoked_at = now() where tenant_id = ${tenant} and client_id = ${by.clientId} and revoked_at is null returning 1`
      : await tx`update oauth_access_tokens set revoked_at = now() where tenant_id = ${tenant} and subject_kind = ${by.subjectKind!} and subject_id = ${by.subjectId!} and revoked_at is null returning 1`;
    const ids = families.map((f) => f.id);
    if (ids.length) await tx`update oauth_refresh_tokens set revoked_at = now() where tenant_id = ${tenant} and family_id = any(${ids}) and revoked_at is null`;
    return families.length + access.length;
  }) as Promise<number>;
}

export async function runAdmin(sql: Owner, argv: string[], out: (line: string) => void = console.log): Promise<void> {
  const { values, positionals } = parseArgs({
    args: argv, allowPositionals: true, strict: true,
    options: {
      name: { type: 'string' }, audience: { type: 'string' }, 'redirect-uri': { type: 'string', multiple: true },
      scope: { type: 'string' }, confidential: { type: 'boolean', default: false }, staff: { type: 'boolean', default: false },
      'may-approve': { type: 'boolean', default: false },
    },
  });
  const [area, action, a, b, c, d] = positionals;
  const table = (rows: object[]) => rows.forEach((r) => out(Object.values(r).map((v) => (v instanceof Date ? v.toISOString() : String(v ?? '-'))).join('\t')));
  switch (`${area} ${action}`) {
    case 'tenants list': return table(await sql`select slug, name, disabled_at from tenants order by slug`);
    case 'tenants create': {
      const slug = need(a, 'slug');
      if (!TENANT_SLUG.test(slug)) throw new UsageError('slug: 3–40 of a-z, 0-9, -');
      const [t] = await sql<{ id: string }[]>`insert into tenants (slug, name) values (${slug}, ${need(b, 'name')}) returning id`;
      await sql`insert into tenant_settings (tenant_id) values (${t!.id})`;
      return out(`created tenant ${slug}`);
    }
    case 'tenants disable': await sql`update tenants set disabled_at = now() where slug = ${need(a, 'slug')}`; return out('disabled');
    case 'staff list': return table(await sql`select email, name, role, may_approve, disabled_at from staff where tenant_id = ${await tenantId(sql, a)} order by email`);
    case 'customers list': return table(await sql`select email, name, disabled_at from customers where tenant_id = ${await tenantId(sql, a)} order by email`);
    case 'staff create': {
      const role = need(d, 'role');
      if (!ROLES.includes(role)) throw new UsageError(`role: one of ${ROLES.join(', ')}`);
      const t = await tenantId(sql, a);
      const hash = await hashPassword(await readPassword());
      await sql`insert into staff (tenant_id, email, name, role, password_hash, may_approve)
                values (${t}, ${need(b, 'email').toLowerCase()}, ${need(c, 'name')}, ${role}, ${hash}, ${values['may-approve']!})`;
      return out('created');
    }
    case 'customers create': {
      const t = await tenantId(sql, a);
      const hash = await hashPassword(await readPassword());
      await sql`insert into customers (tenant_id, email, name, password_hash) values (${t}, ${need(b, 'email').toLowerCase()}, ${need(c, 'name')}, ${hash})`;
      return out('created');
    }
    case 'staff disable':
    case 'customers disable': {
      const t = await tenantId(sql, a);
      const kind = area === 'staff' ? 'staff' : 'customer';
      const rows = area === 'staff'
        ? await sql<{ id: string }[]>`update staff set disabled_at = now() where tenant_id = ${t} and email = ${need(b, 'email')} returning id`
        : await sql<{ id: string }[]>`update customers set disabled_at = now() where tenant_id = ${t} and email = ${need(b, 'email')} returning id`;
      if (!rows[0]) throw new UsageError('no such account');
      const n = await revokeWhere(sql, t, { subjectKind: kind, subjectId: rows[0].id });
      return out(`disabled; ${n} token grants revoked`);
    }
    case 'clients list': return table(await sql`select client_id, name, audience, source, token_endpoint_auth_method, disabled_at, expires_at
                                                 from oauth_clients where tenant_id = ${await tenantId(sql, a)} order by created_at`);
    case 'clients create': {
      const t = await tenantId(sql, a);
      const audience = need(values.audience, '--audience') as ClientAudience;
      if (!AUDIENCES.includes(audience)) throw new UsageError(`--audience: one of ${AUDIENCES.join(', ')}`);
      const redirectUris = values['redirect-uri'] ?? [];
      if (redirectUris.some((u) => !isAllowedRedirectUri(u))) throw new UsageError('redirect URIs must be https or loopback http');
      const scope = parseScope(values.scope);
      if (scope.some((s) => !isStaffScope(s) && !isCustomerScope(s))) throw new UsageError('unknown scope');
      const confidential = values.confidential! || audience === 'service' || audience === 'resource_server';
      const created = await createPreregisteredClient(sql, t, { name: need(values.name, '--name'), audience, redirectUris, scope: scope.join(' '), confidential });
      out(`client_id\t${created.clientId}`);
      if (created.secret) out(`client_secret\t${created.secret}\t(shown once; stored only as a hash)`);
      return;
    }
    case 'clients disable': {
      const t = await tenantId(sql, a);
      await sql`update oauth_clients set disabled_at = now() where tenant_id = ${t} and client_id = ${need(b, 'client_id')}`;
      const n = await revokeWhere(sql, t, { clientId: b! });
      return out(`disabled; ${n} token grants revoked`);
    }
    case 'revoke user': {
      const t = await tenantId(sql, a);
      const kind = values.staff ? 'staff' : 'customer';
      const [row] = values.staff
        ? await sql<{ id: string }[]>`select id from staff where tenant_id = ${t} and email = ${need(b, 'email')}`
        : await sql<{ id: string }[]>`select id from customers where tenant_id = ${t} and email = ${need(b, 'email')}`;
      if (!row) throw new UsageError('no such account');
      return out(`${await revokeWhere(sql, t, { subjectKind: kind, subjectId: row.id })} revoked`);
    }
    case 'revoke client': {
      const t = await tenantId(sql, a);
      return out(`${await revokeWhere(sql, t, { clientId: need(b, 'client_id') })} revoked`);
    }
    case 'audit verify': {
      const report = await verifyAuditChain(sql, need(a, 'tenant'));
      out(report.ok
        ? `ok: ${report.entries} entries, chain intact`
        : `BROKEN at entry ${report.firstBreak!.seq}: ${report.firstBreak!.problem} (${report.entries} entries read)`);
      if (!report.ok) process.exitCode = 1;
      return;
    }
    case 'audit export': {
      await exportAuditLog(sql, need(a, 'tenant'), out);
      return;
    }
    default:
      throw new UsageError('usage: see the header of src/cli/admin.ts (tenants|staff|customers|clients list|create|disable, revoke user|client, audit verify|export)');
  }
}

if (isEntryPoint(import.meta.url)) void runAsOwner(runAdmin);
