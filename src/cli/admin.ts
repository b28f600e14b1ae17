// npm run admin -- <command>: tenants, staff, customers and OAuth clients (create, list, disable),
// token revocation by user or by client, the audit chain (verify, export), carrier secrets and
// webhook subscriptions (src/cli/webhooks.ts). Runs as the owner
// role (like migrations and the seed) on the database the service uses: DATABASE_URL, the running
// service's embedded server, or an embedded server of its own when none runs (src/cli/owner.ts).
// `npm run admin -- --help` lists the subcommands; each has --help. Passwords are read from
// standard input (never from argv, which ends up in shell history).
import { createInterface } from 'node:readline';
import type postgres from 'postgres';
import type { Config } from '../config.js';
import { IDP_SUBCOMMANDS } from './idp.js';
import { CommandFailed, commandConfig, isEntryPoint, runCommandLine, runSubcommand, UsageError, type CommandSet, type Subcommand } from './owner.js';
import { webhookSubcommands } from './webhooks.js';
import { createPreregisteredClient, type ClientAudience } from '../authz/clients.js';
import { isAllowedRedirectUri } from '../authz/checks/redirect-uri.js';
import { TENANT_SLUG } from '../authz/resources.js';
import { isStaffScope, parseScope, isCustomerScope, isServiceScope } from '../authz/scopes.js';
import { sealAudit } from '../audit/sealer.js';
import { exportAuditLog, verifyAuditChain } from '../audit/verify.js';
import { hashPassword } from '../tenants/passwords.js';
import { INGEST_SUBCOMMANDS } from './ingest.js';

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
  if (!t) throw new CommandFailed(`no tenant ${slug}`);
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

/** The admin subcommands, in the order the overview lists them. */
export const ADMIN_SUBCOMMANDS: Subcommand[] = [
  {
    name: 'tenants list', summary: 'the tenants', json: true,
    run: async (sql, { table }) => table(await sql`select slug, name, disabled_at from tenants order by slug`, ['slug', 'name', 'disabled_at']),
  },
  {
    name: 'tenants create', args: '<slug> <name>', summary: 'a new tenant (slug: 3–40 of a-z, 0-9, -) with default settings',
    async run(sql, { args: [slug, name], out }) {
      if (!TENANT_SLUG.test(slug!)) throw new UsageError('slug: 3–40 of a-z, 0-9, -');
      const [t] = await sql<{ id: string }[]>`insert into tenants (slug, name) values (${slug!}, ${name!}) returning id`;
      await sql`insert into tenant_settings (tenant_id) values (${t!.id})`;
      out(`created tenant ${slug}`);
    },
  },
  {
    name: 'tenants disable', args: '<slug>', summary: 'disables a tenant (its endpoints and sign-in stop)',
    async run(sql, { args: [slug], out }) {
      const rows = await sql`update tenants set disabled_at = coalesce(disabled_at, now()) where slug = ${slug!} returning 1`;
      if (!rows.length) throw new CommandFailed(`no tenant ${slug}`);
      out('disabled');
    },
  },
  {
    name: 'staff list', args: '<tenant>', summary: "a tenant's staff", json: true,
    run: async (sql, { args: [slug], table }) => table(await sql`select email, name, role, may_approve, disabled_at from staff where tenant_id = ${await tenantId(sql, slug)} order by email`,
      ['email', 'name', 'role', 'may_approve', 'disabled_at']),
  },
  {
    name: 'staff create', args: '<tenant> <email> <name> <role> [--may-approve]', summary: 'a staff account; the password is read from standard input',
    details: `roles: ${ROLES.join(', ')}. --may-approve lets the account approve actions.`,
    options: { 'may-approve': { type: 'boolean', default: false } },
    async run(sql, { args: [slug, email, name, role], values, out }) {
      if (!ROLES.includes(role!)) throw new UsageError(`role: one of ${ROLES.join(', ')}`);
      const t = await tenantId(sql, slug);
      const hash = await hashPassword(await readPassword());
      await sql`insert into staff (tenant_id, email, name, role, password_hash, may_approve)
                values (${t}, ${email!.toLowerCase()}, ${name!}, ${role!}, ${hash}, ${values['may-approve'] === true})`;
      out('created');
    },
  },
  {
    name: 'staff disable', args: '<tenant> <email>', summary: "disables a staff account and revokes its tokens",
    run: (sql, call) => disableAccount(sql, 'staff', call),
  },
  {
    name: 'customers list', args: '<tenant>', summary: "a tenant's customers", json: true,
    run: async (sql, { args: [slug], table }) => table(await sql`select email, name, disabled_at from customers where tenant_id = ${await tenantId(sql, slug)} order by email`,
      ['email', 'name', 'disabled_at']),
  },
  {
    name: 'customers create', args: '<tenant> <email> <name>', summary: 'a customer account; the password is read from standard input',
    async run(sql, { args: [slug, email, name], out }) {
      const t = await tenantId(sql, slug);
      const hash = await hashPassword(await readPassword());
      await sql`insert into customers (tenant_id, email, name, password_hash) values (${t}, ${email!.toLowerCase()}, ${name!}, ${hash})`;
      out('created');
    },
  },
  {
    name: 'customers password', args: '<tenant> <email>', summary: "sets a customer's password (read from standard input), e.g. for an uploaded customer",
    async run(sql, { args: [slug, email], out }) {
      const t = await tenantId(sql, slug);
      const hash = await hashPassword(await readPassword());
      const rows = await sql`update customers set password_hash = ${hash} where tenant_id = ${t} and email = ${email!.toLowerCase()} returning 1`;
      if (!rows.length) throw new CommandFailed(`no customer ${email} in ${slug}`);
      out('password set');
    },
  },
  {
    name: 'customers disable', args: '<tenant> <email>', summary: 'disables a customer account and revokes its tokens',
    run: (sql, call) => disableAccount(sql, 'customers', call),
  },
  {
    name: 'clients list', args: '<tenant>', summary: "a tenant's OAuth clients", json: true,
    run: async (sql, { args: [slug], table }) => table(await sql`select client_id, name, audience, source, token_endpoint_auth_method, disabled_at, expires_at
      from oauth_clients where tenant_id = ${await tenantId(sql, slug)} order by created_at`,
      ['client_id', 'name', 'audience', 'source', 'token_endpoint_auth_method', 'disabled_at', 'expires_at']),
  },
  {
    name: 'clients create', args: '<tenant> --name N --audience A [--redirect-uri U]... [--scope "a b"] [--confidential] [--jwt-bearer]', json: true,
    summary: 'a pre-registered client; prints client_id (and the secret of a confidential one, once)',
    details: `audiences: ${AUDIENCES.join(', ')} (service and resource_server are always confidential). Redirect URIs: https or loopback http. --jwt-bearer (staff, confidential): may present ID-JAGs of the tenant's enterprise IdP (idp set <tenant> enterprise). ` +
      'A service client with --scope ingest:write may upload the tenant\'s data (docs/INGESTION.md).',
    options: { name: { type: 'string' }, audience: { type: 'string' }, 'redirect-uri': { type: 'string', multiple: true }, scope: { type: 'string' }, confidential: { type: 'boolean', default: false }, 'jwt-bearer': { type: 'boolean', default: false } },
    async run(sql, { args: [slug], values, record }) {
      const name = need(values.name as string | undefined, '--name');
      const audience = need(values.audience as string | undefined, '--audience') as ClientAudience;
      if (!AUDIENCES.includes(audience)) throw new UsageError(`--audience: one of ${AUDIENCES.join(', ')}`);
      const redirectUris = (values['redirect-uri'] as string[] | undefined) ?? [];
      if (redirectUris.some((u) => !isAllowedRedirectUri(u))) throw new UsageError('redirect URIs must be https or loopback http');
      const scope = parseScope(values.scope as string | undefined);
      if (scope.some((s) => !isStaffScope(s) && !isCustomerScope(s) && !isServiceScope(s))) throw new UsageError('unknown scope');
      const t = await tenantId(sql, slug);
      const jwtBearer = values['jwt-bearer'] === true;
      if (jwtBearer && audience !== 'staff') throw new UsageError('--jwt-bearer: staff clients only (ID-JAG tokens are for the internal endpoint)');
      const confidential = jwtBearer || values.confidential === true || audience === 'service' || audience === 'resource_server';
      const created = await createPreregisteredClient(sql, t, { name, audience, redirectUris, scope: scope.join(' '), confidential, jwtBearer });
      record(created.secret
        ? { client_id: created.clientId, client_secret: created.secret, note: 'the secret is shown once; stored only as a hash' }
        : { client_id: created.clientId });
    },
  },
  {
    name: 'clients disable', args: '<tenant> <client_id>', summary: 'disables a client and revokes its tokens',
    async run(sql, { args: [slug, clientId], out }) {
      const t = await tenantId(sql, slug);
      const rows = await sql`update oauth_clients set disabled_at = coalesce(disabled_at, now()) where tenant_id = ${t} and client_id = ${clientId!} returning 1`;
      if (!rows.length) throw new CommandFailed(`no client ${clientId} in ${slug}`);
      const n = await revokeWhere(sql, t, { clientId: clientId! });
      out(`disabled; ${n} token grants revoked`);
    },
  },
  {
    name: 'revoke user', args: '<tenant> <email> [--staff]', summary: "revokes a customer's (or with --staff a staff member's) tokens",
    options: { staff: { type: 'boolean', default: false } },
    async run(sql, { args: [slug, email], values, out }) {
      const t = await tenantId(sql, slug);
      const staff = values.staff === true;
      const [row] = staff
        ? await sql<{ id: string }[]>`select id from staff where tenant_id = ${t} and email = ${email!}`
        : await sql<{ id: string }[]>`select id from customers where tenant_id = ${t} and email = ${email!}`;
      if (!row) throw new CommandFailed(`no ${staff ? 'staff member' : 'customer'} ${email} in ${slug}`);
      out(`${await revokeWhere(sql, t, { subjectKind: staff ? 'staff' : 'customer', subjectId: row.id })} revoked`);
    },
  },
  {
    name: 'revoke client', args: '<tenant> <client_id>', summary: "revokes every token of a client",
    async run(sql, { args: [slug, clientId], out }) {
      const t = await tenantId(sql, slug);
      out(`${await revokeWhere(sql, t, { clientId: clientId! })} revoked`);
    },
  },
  ...IDP_SUBCOMMANDS,
  {
    name: 'audit verify', args: '<tenant>', json: true,
    summary: "checks the tenant's audit chain; exit status 1 and the first broken entry when it does not verify",
    async run(sql, { args: [slug], json, out }) {
      await tenantId(sql, slug);
      await sealAudit(sql); // what is committed now joins the chain first (0 when the service's sealer is at it)
      const report = await verifyAuditChain(sql, slug!);
      const pending = report.unsealed ? `; ${report.unsealed} entries not yet sealed (not verified)` : '';
      if (json) out(JSON.stringify(report, null, 2));
      else out(report.ok
        ? `ok: ${report.entries} entries, chain intact${pending}`
        : `BROKEN at entry ${report.firstBreak!.seq}: ${report.firstBreak!.problem} (${report.entries} entries read)${pending}`);
      return report.ok ? 0 : 1;
    },
  },
  {
    name: 'audit export', args: '<tenant>', summary: "the tenant's audit log as JSON lines on standard output, oldest first",
    async run(sql, { args: [slug], out }) {
      await tenantId(sql, slug);
      await sealAudit(sql);
      await exportAuditLog(sql, slug!, out);
    },
  },
  ...webhookSubcommands(commandConfig),
  ...INGEST_SUBCOMMANDS,
];

async function disableAccount(sql: Owner, area: 'staff' | 'customers', { args: [slug, email], out }: { args: string[]; out: (line: string) => void }): Promise<void> {
  const t = await tenantId(sql, slug);
  const rows = area === 'staff'
    ? await sql<{ id: string }[]>`update staff set disabled_at = coalesce(disabled_at, now()) where tenant_id = ${t} and email = ${email!} returning id`
    : await sql<{ id: string }[]>`update customers set disabled_at = coalesce(disabled_at, now()) where tenant_id = ${t} and email = ${email!} returning id`;
  if (!rows[0]) throw new CommandFailed(`no ${area === 'staff' ? 'staff member' : 'customer'} ${email} in ${slug}`);
  const n = await revokeWhere(sql, t, { subjectKind: area === 'staff' ? 'staff' : 'customer', subjectId: rows[0].id });
  out(`disabled; ${n} token grants revoked`);
}

export const ADMIN: CommandSet = {
  program: 'npm run admin --',
  about: 'tenants, accounts, OAuth clients, token revocation, the audit chain, identity providers, carrier secrets and webhooks, data import/export (as the database owner)',
  subcommands: ADMIN_SUBCOMMANDS,
};

/** Runs one admin command on an owner connection; returns the exit status. */
export function runAdmin(sql: Owner, argv: string[], out: (line: string) => void = console.log, config?: Config): Promise<number> {
  return runSubcommand(ADMIN, sql, argv, out, config);
}

if (isEntryPoint(import.meta.url)) void runCommandLine(ADMIN);
