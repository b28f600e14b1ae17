// A tenant's identity providers (tenant_identity_providers, migration 018): the upstream OpenID
// Connect provider for its customers, the one for its staff, and the enterprise IdP whose ID-JAGs
// the token endpoint accepts. Settings are validated here (zod) for every writer: the admin command
// and the console. The client secret is sealed before it is stored and is never returned by
// `describeProvider`.
import { z } from 'zod';
import type { Sql, Tx } from '../../db/context.js';
import { findTextDefect } from '../../text/defects.js';
import type { StaffRole } from '../scopes.js';
import { openSecret, sealSecret } from './secret-box.js';

export const PROVIDER_AUDIENCES = ['customer', 'staff', 'enterprise'] as const;
export type ProviderAudience = (typeof PROVIDER_AUDIENCES)[number];
export const STAFF_ROLES: readonly StaffRole[] = ['supply_chain_manager', 'warehouse_lead', 'returns_specialist', 'tenant_admin'];

export interface IdentityProvider {
  tenantId: string;
  audience: ProviderAudience;
  issuer: string;
  displayName: string;
  clientId: string | null;
  clientSecretSealed: string | null;
  scopes: string[];
  emailClaim: string;
  rolesClaim: string | null;
  roleMapping: Record<string, StaffRole>;
  allowCreate: boolean;
  passwordsEnabled: boolean;
  jwksUri: string | null;
  jwks: { keys: Record<string, unknown>[] } | null;
  allowedClientIds: string[];
  subjectClaim: 'sub' | 'email';
}

const claimName = z.string().regex(/^[A-Za-z0-9_:.-]{1,100}$/, 'a claim name (letters, digits, _ : . -)');
const httpUrl = z.string().max(1000).refine((u) => {
  try { const p = new URL(u); return (p.protocol === 'https:' || p.protocol === 'http:') && !p.username && !p.password && !p.hash; } catch { return false; }
}, 'an http(s) URL without credentials or fragment');
const jwkSet = z.object({ keys: z.array(z.record(z.string(), z.unknown())).min(1).max(20) });

/** The settings an administrator gives (`idp set`, the console). */
export const providerSettings = z.object({
  issuer: httpUrl,
  displayName: z.string().trim().max(100).default(''),
  clientId: z.string().min(1).max(500).optional(),
  clientSecret: z.string().min(1).max(2000).optional(),
  scopes: z.array(z.string().regex(/^[\x21\x23-\x5b\x5d-\x7e]{1,100}$/)).max(20).optional(),
  emailClaim: claimName.default('email'),
  rolesClaim: claimName.optional(),
  roleMapping: z.record(z.string().min(1).max(200), z.enum(STAFF_ROLES as [StaffRole, ...StaffRole[]])).default({}),
  allowCreate: z.boolean().default(false),
  passwordsEnabled: z.boolean().default(true),
  jwksUri: httpUrl.optional(),
  jwks: jwkSet.optional(),
  allowedClientIds: z.array(z.string().min(1).max(500)).max(50).default([]),
  subjectClaim: z.enum(['sub', 'email']).default('sub'),
}).strict();
export type ProviderSettings = z.input<typeof providerSettings>;

export class ProviderSettingsError extends Error {}

/** Checks what each audience needs; returns the normalised settings. */
export function checkProviderSettings(audience: ProviderAudience, input: unknown): z.infer<typeof providerSettings> {
  const defect = findTextDefect(input);
  if (defect) throw new ProviderSettingsError(`${defect.path}: ${defect.problem}`);
  const parsed = providerSettings.safeParse(input);
  if (!parsed.success) throw new ProviderSettingsError(parsed.error.issues.map((i) => `${i.path.join('.') || 'settings'}: ${i.message}`).join('; '));
  const s = parsed.data;
  if (s.issuer.endsWith('/') && new URL(s.issuer).pathname !== '/') throw new ProviderSettingsError('issuer: no trailing slash after a path');
  if (audience === 'enterprise') {
    if (!s.jwksUri && !s.jwks) throw new ProviderSettingsError('enterprise: --jwks-uri or --jwks required');
    if (!s.allowedClientIds.length) throw new ProviderSettingsError('enterprise: at least one --allowed-client-id');
  } else {
    if (!s.clientId) throw new ProviderSettingsError(`${audience}: --client-id required`);
    if (s.jwks || s.jwksUri) throw new ProviderSettingsError(`${audience}: keys come from the issuer's discovery document, not --jwks`);
  }
  if (audience !== 'customer' && Object.keys(s.roleMapping).length && !s.rolesClaim) throw new ProviderSettingsError('--roles-claim required with a role mapping');
  return s;
}

interface ProviderRow {
  tenant_id: string; audience: ProviderAudience; issuer: string; display_name: string; client_id: string | null;
  client_secret_encrypted: string | null; scopes: string; email_claim: string; roles_claim: string | null;
  role_mapping: Record<string, StaffRole>; allow_create: boolean; passwords_enabled: boolean; jwks_uri: string | null;
  jwks: { keys: Record<string, unknown>[] } | null; allowed_client_ids: string[]; subject_claim: 'sub' | 'email';
}

function toProvider(r: ProviderRow): IdentityProvider {
  return {
    tenantId: r.tenant_id, audience: r.audience, issuer: r.issuer, displayName: r.display_name, clientId: r.client_id,
    clientSecretSealed: r.client_secret_encrypted, scopes: r.scopes.split(' ').filter(Boolean), emailClaim: r.email_claim,
    rolesClaim: r.roles_claim, roleMapping: r.role_mapping ?? {}, allowCreate: r.allow_create, passwordsEnabled: r.passwords_enabled,
    jwksUri: r.jwks_uri, jwks: r.jwks, allowedClientIds: r.allowed_client_ids, subjectClaim: r.subject_claim,
  };
}

/** The tenant's provider for one audience. Runs in the 'auth' context, as a tenant admin, or as the owner. */
export async function findProvider(tx: Tx | Sql, tenantId: string, audience: ProviderAudience): Promise<IdentityProvider | null> {
  const [row] = await tx<ProviderRow[]>`select * from tenant_identity_providers where tenant_id = ${tenantId} and audience = ${audience}`;
  return row ? toProvider(row) : null;
}

export async function listProviders(tx: Tx | Sql, tenantId: string): Promise<IdentityProvider[]> {
  const rows = await tx<ProviderRow[]>`select * from tenant_identity_providers where tenant_id = ${tenantId} order by audience`;
  return rows.map(toProvider);
}

/**
 * Creates or replaces the provider. A secret given is sealed with `key`; none given keeps the
 * stored one when the client id is unchanged (so settings can change without re-typing it).
 */
export async function saveProvider(tx: Tx | Sql, key: Buffer, tenantId: string, audience: ProviderAudience, input: unknown): Promise<IdentityProvider> {
  const s = checkProviderSettings(audience, input);
  const sealed = s.clientSecret ? sealSecret(key, tenantId, audience, s.clientSecret) : null;
  const scopes = (s.scopes ?? (audience === 'enterprise' ? [] : ['openid', 'email', 'profile'])).join(' ');
  if (audience !== 'enterprise' && !scopes.split(' ').includes('openid')) throw new ProviderSettingsError('scopes: must include openid');
  const [row] = await tx<ProviderRow[]>`
    insert into tenant_identity_providers (tenant_id, audience, issuer, display_name, client_id, client_secret_encrypted, scopes,
      email_claim, roles_claim, role_mapping, allow_create, passwords_enabled, jwks_uri, jwks, allowed_client_ids, subject_claim)
    values (${tenantId}, ${audience}, ${s.issuer}, ${s.displayName}, ${s.clientId ?? null}, ${sealed}, ${scopes},
      ${s.emailClaim}, ${s.rolesClaim ?? null}, ${tx.json(s.roleMapping)}, ${s.allowCreate}, ${s.passwordsEnabled},
      ${s.jwksUri ?? null}, ${s.jwks ? tx.json(s.jwks as never) : null}, ${s.allowedClientIds}, ${s.subjectClaim})
    on conflict (tenant_id, audience) do update set
      issuer = excluded.issuer, display_name = excluded.display_name, client_id = excluded.client_id,
      client_secret_encrypted = case
        when excluded.client_secret_encrypted is not null then excluded.client_secret_encrypted
        when tenant_identity_providers.client_id is not distinct from excluded.client_id then tenant_identity_providers.client_secret_encrypted
        else null end,
      scopes = excluded.scopes, email_claim = excluded.email_claim, roles_claim = excluded.roles_claim,
      role_mapping = excluded.role_mapping, allow_create = excluded.allow_create, passwords_enabled = excluded.passwords_enabled,
      jwks_uri = excluded.jwks_uri, jwks = excluded.jwks, allowed_client_ids = excluded.allowed_client_ids,
      subject_claim = excluded.subject_claim, updated_at = now()
    returning *`;
  return toProvider(row!);
}

export async function removeProvider(tx: Tx | Sql, tenantId: string, audience: ProviderAudience): Promise<boolean> {
  const rows = await tx`delete from tenant_identity_providers where tenant_id = ${tenantId} and audience = ${audience} returning 1`;
  return rows.length > 0;
}

/** The upstream client secret, for the token request to the upstream only. */
export function providerClientSecret(key: Buffer, p: IdentityProvider): string | null {
  return p.clientSecretSealed ? openSecret(key, p.tenantId, p.audience, p.clientSecretSealed) : null;
}

/** What may be shown (admin `idp show`, the console): everything but the secret, which is only "set" or not. */
export function describeProvider(p: IdentityProvider): Record<string, unknown> {
  return {
    audience: p.audience, issuer: p.issuer, display_name: p.displayName,
    ...(p.audience !== 'enterprise' ? { client_id: p.clientId, client_secret: p.clientSecretSealed ? 'set (encrypted, not shown)' : 'not set', scopes: p.scopes.join(' '),
      email_claim: p.emailClaim, allow_create: p.allowCreate, passwords_enabled: p.passwordsEnabled } : {}),
    ...(p.audience !== 'customer' ? { roles_claim: p.rolesClaim, role_mapping: p.roleMapping } : {}),
    ...(p.audience === 'enterprise' ? { jwks_uri: p.jwksUri, jwks: p.jwks ? `${p.jwks.keys.length} key(s) inline` : null,
      allowed_client_ids: p.allowedClientIds, subject_claim: p.subjectClaim } : {}),
  };
}
