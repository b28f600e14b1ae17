// npm run admin -- idp set|show|remove <tenant> <customer|staff|enterprise>: a tenant's identity
// providers (issue 13 §3). The upstream client secret is read from standard input (never argv, which
// ends up in shell history), stored encrypted (src/authz/federation/secret-box.ts) and never printed.
import { readFile } from 'node:fs/promises';
import { createInterface } from 'node:readline';
import type postgres from 'postgres';
import { federationKey } from '../authz/federation/secret-box.js';
import { describeProvider, listProviders, PROVIDER_AUDIENCES, ProviderSettingsError, removeProvider, saveProvider, STAFF_ROLES, type ProviderAudience } from '../authz/federation/upstream-config.js';
import { callbackUrl } from '../authz/federation/start.js';
import { CommandFailed, UsageError, type Subcommand } from './owner.js';

async function tenantOf(sql: postgres.Sql, slug: string | undefined): Promise<string> {
  if (!slug) throw new UsageError('tenant slug required');
  const [t] = await sql<{ id: string }[]>`select id from tenants where slug = ${slug}`;
  if (!t) throw new CommandFailed(`no tenant ${slug}`);
  return t.id;
}

function audienceOf(value: string | undefined): ProviderAudience {
  if (!PROVIDER_AUDIENCES.includes(value as ProviderAudience)) throw new UsageError(`audience: one of ${PROVIDER_AUDIENCES.join(', ')}`);
  return value as ProviderAudience;
}

async function readSecret(): Promise<string> {
  if (process.stdin.isTTY) process.stderr.write('upstream client secret: ');
  const rl = createInterface({ input: process.stdin });
  const line = await new Promise<string>((resolve) => rl.once('line', resolve).once('close', () => resolve('')));
  rl.close();
  if (!line.trim()) throw new UsageError('--client-secret-stdin: no secret on standard input');
  return line.trim();
}

function roleMapping(pairs: string[] | undefined): Record<string, string> {
  const mapping: Record<string, string> = {};
  for (const pair of pairs ?? []) {
    const i = pair.lastIndexOf('=');
    if (i <= 0) throw new UsageError(`--role ${pair}: expected <group>=<role>`);
    mapping[pair.slice(0, i)] = pair.slice(i + 1);
  }
  return mapping;
}

export const IDP_SUBCOMMANDS: Subcommand[] = [
  {
    name: 'idp show', args: '<tenant>', json: true, summary: "a tenant's identity providers (secrets are never shown)",
    async run(sql, { args: [slug], json, out, config }) {
      const t = await tenantOf(sql, slug);
      const providers = (await listProviders(sql, t)).map(describeProvider);
      if (json) { out(JSON.stringify(providers, null, 2)); return; }
      if (!providers.length) { out('no identity providers: passwords only'); return; }
      out(`redirect URI to register upstream: ${callbackUrl(config().publicUrl, slug!)}`);
      for (const p of providers) {
        out('');
        for (const [k, v] of Object.entries(p)) out(`${k}\t${v === null || v === undefined ? '-' : typeof v === 'object' ? JSON.stringify(v) : String(v)}`);
      }
    },
  },
  {
    name: 'idp set', args: '<tenant> <customer|staff|enterprise> --issuer URL [options]',
    summary: 'sets the upstream OpenID Connect provider (customer, staff) or the enterprise IdP for ID-JAGs',
    details: [
      'customer/staff: --client-id ID [--client-secret-stdin] [--scope "openid email profile"] [--email-claim email]',
      '  [--allow-create] [--no-passwords] [--name "Shop accounts"]; staff also --roles-claim groups --role <group>=<role>...',
      `  roles: ${STAFF_ROLES.join(', ')}. No mapping for a person's groups: no access. Register ${'<PUBLIC_URL>/t/<tenant>/federation/callback'} upstream.`,
      'enterprise: --jwks-uri URL | --jwks-file FILE, --allowed-client-id ID..., [--subject-claim sub|email]',
      'The secret is read from standard input and stored encrypted (FEDERATION_SECRET_KEY or DATA_DIR/federation-secret-key).',
    ].join('\n'),
    options: {
      issuer: { type: 'string' }, name: { type: 'string' }, 'client-id': { type: 'string' }, 'client-secret-stdin': { type: 'boolean', default: false },
      scope: { type: 'string' }, 'email-claim': { type: 'string' }, 'roles-claim': { type: 'string' }, role: { type: 'string', multiple: true },
      'allow-create': { type: 'boolean', default: false }, 'no-passwords': { type: 'boolean', default: false },
      'jwks-uri': { type: 'string' }, 'jwks-file': { type: 'string' }, 'allowed-client-id': { type: 'string', multiple: true },
      'subject-claim': { type: 'string' },
    },
    async run(sql, { args: [slug, aud], values: v, out, config }) {
      const audience = audienceOf(aud);
      const t = await tenantOf(sql, slug);
      if (!v.issuer) throw new UsageError('--issuer required');
      let jwks: unknown;
      if (v['jwks-file']) {
        try { jwks = JSON.parse(await readFile(v['jwks-file'] as string, 'utf8')); } catch (e) { throw new UsageError(`--jwks-file: ${(e as Error).message}`); }
      }
      const settings = {
        issuer: v.issuer,
        ...(v.name !== undefined ? { displayName: v.name } : {}),
        ...(v['client-id'] !== undefined ? { clientId: v['client-id'] } : {}),
        ...(v['client-secret-stdin'] === true ? { clientSecret: await readSecret() } : {}),
        ...(v.scope !== undefined ? { scopes: String(v.scope).split(' ').filter(Boolean) } : {}),
        ...(v['email-claim'] !== undefined ? { emailClaim: v['email-claim'] } : {}),
        ...(v['roles-claim'] !== undefined ? { rolesClaim: v['roles-claim'] } : {}),
        roleMapping: roleMapping(v.role as string[] | undefined),
        allowCreate: v['allow-create'] === true,
        passwordsEnabled: v['no-passwords'] !== true,
        ...(v['jwks-uri'] !== undefined ? { jwksUri: v['jwks-uri'] } : {}),
        ...(jwks !== undefined ? { jwks } : {}),
        allowedClientIds: (v['allowed-client-id'] as string[] | undefined) ?? [],
        ...(v['subject-claim'] !== undefined ? { subjectClaim: v['subject-claim'] } : {}),
      };
      try {
        await saveProvider(sql, await federationKey(config()), t, audience, settings);
      } catch (e) {
        if (e instanceof ProviderSettingsError) throw new UsageError(e.message);
        throw e;
      }
      out(`${audience} identity provider set for ${slug}`);
      if (audience !== 'enterprise') out(`redirect URI to register upstream: ${callbackUrl(config().publicUrl, slug!)}`);
    },
  },
  {
    name: 'idp remove', args: '<tenant> <customer|staff|enterprise>', summary: 'removes a provider (links to local accounts stay, unused)',
    async run(sql, { args: [slug, aud], out }) {
      const audience = audienceOf(aud);
      const t = await tenantOf(sql, slug);
      if (!await removeProvider(sql, t, audience)) throw new CommandFailed(`no ${audience} identity provider in ${slug}`);
      out('removed');
    },
  },
];
