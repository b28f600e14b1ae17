// The client registry: pre-registered clients (admin command line), dynamically registered clients
// (RFC 7591) and Client ID Metadata Documents (fetched, then cached as rows). One lookup for all.
import { timingSafeEqual } from 'node:crypto';
import type { Config } from '../config.js';
import { withContext, type Sql, type Tx } from '../db/context.js';
import { fetchClientMetadataDocument, isClientIdUrl } from './checks/client-metadata-document.js';
import { InvalidClient } from './errors.js';
import { hashSecret, newSecret } from './tokens.js';

export type ClientAudience = 'customer' | 'staff' | 'any' | 'service' | 'resource_server';

export interface Client {
  clientId: string;
  name: string;
  redirectUris: string[];
  grantTypes: string[];
  authMethod: 'none' | 'client_secret_basic' | 'client_secret_post';
  audience: ClientAudience;
  source: 'preregistered' | 'dynamic' | 'metadata_document';
  scope: string;
  confidential: boolean;
}

/** How long a fetched metadata document is trusted before it is fetched again. */
export const METADATA_DOCUMENT_CACHE_SECONDS = 600;
/** RFC 7591 registrations unused for this long expire; every token issuance extends them. */
export const DYNAMIC_CLIENT_IDLE_SECONDS = 30 * 24 * 3600;

interface ClientRow {
  client_id: string; name: string; redirect_uris: string[]; grant_types: string[];
  token_endpoint_auth_method: Client['authMethod']; audience: ClientAudience; source: Client['source'];
  scope: string; client_secret_hash: string | null; cache_fresh: boolean;
}

function toClient(r: ClientRow): Client {
  return {
    clientId: r.client_id, name: r.name, redirectUris: r.redirect_uris, grantTypes: r.grant_types,
    authMethod: r.token_endpoint_auth_method, audience: r.audience, source: r.source, scope: r.scope,
    confidential: r.client_secret_hash !== null,
  };
}

async function findRow(tx: Tx, tenantId: string, clientId: string): Promise<ClientRow | undefined> {
  const [row] = await tx<ClientRow[]>`
    select client_id, name, redirect_uris, grant_types, token_endpoint_auth_method, audience, source, scope,
           client_secret_hash,
           coalesce((metadata->>'cache_until')::timestamptz > now(), false) as cache_fresh
    from oauth_clients
    where tenant_id = ${tenantId} and client_id = ${clientId} and disabled_at is null
      and (expires_at is null or expires_at > now())`;
  return row;
}

/** An active client by id, as stored (the token endpoint: no fetching there). Must run in 'auth' context. */
export async function findClient(tx: Tx, tenantId: string, clientId: string): Promise<Client | null> {
  const row = await findRow(tx, tenantId, clientId);
  return row ? toClient(row) : null;
}

/**
 * The authorization endpoint's lookup: a URL-shaped client_id is a metadata document, fetched (SSRF-safe)
 * when not cached, and stored as a row so the token endpoint finds it.
 */
export async function resolveClient(sql: Sql, config: Config, tenantId: string, clientId: string): Promise<Client | null> {
  const policy = { allowPrivateNetwork: config.allowPrivateNetworkFetch };
  const cached = await withContext(sql, { kind: 'auth', tenantId }, (tx) => findRow(tx, tenantId, clientId));
  if (!isClientIdUrl(clientId, policy)) return cached && cached.source !== 'metadata_document' ? toClient(cached) : null;
  if (cached && cached.source !== 'metadata_document') return null; // never shadow a registered id
  if (cached?.cache_fresh) return toClient(cached);
  const doc = await fetchClientMetadataDocument(clientId, policy);
  return withContext(sql, { kind: 'auth', tenantId }, async (tx) => {
    await tx`
      insert into oauth_clients (tenant_id, client_id, name, redirect_uris, grant_types, token_endpoint_auth_method,
                                 audience, source, scope, metadata)
      values (${tenantId}, ${clientId}, ${doc.client_name ?? new URL(clientId).host}, ${doc.redirect_uris},
              '{authorization_code,refresh_token}', 'none', 'any', 'metadata_document', ${doc.scope ?? ''},
              ${tx.json({ cache_until: new Date(Date.now() + METADATA_DOCUMENT_CACHE_SECONDS * 1000).toISOString(), client_uri: doc.client_uri ?? null })})
      on conflict (tenant_id, client_id) do update set
        name = excluded.name, redirect_uris = excluded.redirect_uris, scope = excluded.scope, metadata = excluded.metadata
      where oauth_clients.source = 'metadata_document'`;
    const row = await findRow(tx, tenantId, clientId);
    return row ? toClient(row) : null;
  });
}

/** Constant-time comparison of a presented secret's hash with the stored hash (O11). */
export function secretMatches(presented: string, storedHash: string): boolean {
  const a = Buffer.from(hashSecret(presented), 'hex');
  const b = Buffer.from(storedHash, 'hex');
  return a.length === b.length && timingSafeEqual(a, b);
}

/**
 * RFC 6749 §2.3 / RFC 7009 §2.1 / RFC 7662 §2.1: a confidential client proves its secret; a public client
 * only names itself and must not present one. Must run in the tenant's 'auth' context.
 */
export async function authenticateClient(tx: Tx, tenantId: string, clientId: string, secret: string | undefined): Promise<Client> {
  const row = await findRow(tx, tenantId, clientId);
  if (!row) throw new InvalidClient('unknown client');
  if (row.client_secret_hash === null) {
    if (secret !== undefined) throw new InvalidClient('public client presented a secret');
  } else if (secret === undefined || !secretMatches(secret, row.client_secret_hash)) {
    throw new InvalidClient('client secret mismatch');
  }
  return toClient(row);
}

/** Client credentials from `Authorization: Basic` (RFC 6749 §2.3.1, form-urlencoded parts) or the body. */
export function clientCredentials(authorization: string | undefined, body: Record<string, unknown>): { clientId?: string; secret?: string; basic: boolean } {
  if (authorization && /^basic /i.test(authorization)) {
    const decoded = Buffer.from(authorization.slice(6).trim(), 'base64').toString('utf8');
    const i = decoded.indexOf(':');
    if (i < 0) return { basic: true };
    try {
      return { clientId: decodeURIComponent(decoded.slice(0, i).replace(/\+/g, ' ')), secret: decodeURIComponent(decoded.slice(i + 1).replace(/\+/g, ' ')), basic: true };
    } catch { return { basic: true }; }
  }
  const id = typeof body.client_id === 'string' ? body.client_id : undefined;
  const secret = typeof body.client_secret === 'string' ? body.client_secret : undefined;
  return { clientId: id, secret, basic: false };
}

export interface NewClient {
  name: string;
  audience: ClientAudience;
  redirectUris?: string[];
  scope?: string;
  /** Confidential (a secret is generated and returned once) or public. */
  confidential: boolean;
  clientId?: string;
  /** A confidential staff client that may also use the JWT bearer grant with ID-JAGs (RFC 7523). */
  jwtBearer?: boolean;
}

/**
 * A pre-registered client (admin command line, tests). Runs as the owner role or in 'auth' context.
 * 'service' clients get client_credentials; 'resource_server' clients no grant at all (introspection only).
 */
export async function createPreregisteredClient(tx: Tx | Sql, tenantId: string, c: NewClient): Promise<{ clientId: string; secret?: string }> {
  const clientId = c.clientId ?? `${c.audience}-${newSecret('secret').slice(-12)}`;
  const secret = c.confidential ? newSecret('secret') : undefined;
  const grants = c.audience === 'service' ? ['client_credentials'] : c.audience === 'resource_server' ? [] : ['authorization_code', 'refresh_token'];
  if (c.jwtBearer && c.confidential) grants.push('urn:ietf:params:oauth:grant-type:jwt-bearer');
  const method = c.confidential ? 'client_secret_basic' : 'none';
  await tx`insert into oauth_clients (tenant_id, client_id, client_secret_hash, name, redirect_uris, grant_types,
                                      token_endpoint_auth_method, audience, source, scope)
           values (${tenantId}, ${clientId}, ${secret ? hashSecret(secret) : null}, ${c.name}, ${c.redirectUris ?? []},
                   ${grants}, ${method}, ${c.audience}, 'preregistered', ${c.scope ?? ''})`;
  return { clientId, secret };
}

/**
 * Registered names of these clients (the approval console shows a client by its name). Needs the
 * tenant's 'auth' context (oauth_clients RLS). Names of self-registered clients are their own
 * claim: `selfRegistered` says so.
 */
export async function clientNames(tx: Tx, tenantId: string, clientIds: readonly string[]): Promise<Map<string, { name: string; selfRegistered: boolean }>> {
  const ids = [...new Set(clientIds)].filter((id) => id.length <= 2048);
  if (!ids.length) return new Map();
  const rows = await tx<{ client_id: string; name: string; source: Client['source'] }[]>`
    select client_id, name, source from oauth_clients where tenant_id = ${tenantId} and client_id in ${tx(ids)}`;
  return new Map(rows.map((r) => [r.client_id, { name: r.name, selfRegistered: r.source !== 'preregistered' }]));
}
