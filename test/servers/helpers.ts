// Shared helpers for the MCP resource-server tests: real HTTP, real tokens, the SDK (v2) client.
import { Client, StreamableHTTPClientTransport } from '@modelcontextprotocol/client';
import type postgres from 'postgres';
import { resourceFor } from '../../src/authz/resources.js';
import { issueTestToken } from '../support/tokens.js';
import type { TestService } from '../support/service.js';

export const CUSTOMER_SCOPE = 'orders returns catalog cart';

export function customerUrl(s: TestService, slug: string): string {
  return resourceFor({ publicUrl: s.publicUrl, internalUrl: s.internalUrl }, slug, 'customer');
}
export function internalUrl(s: TestService, slug: string): string {
  return resourceFor({ publicUrl: s.publicUrl, internalUrl: s.internalUrl }, slug, 'internal');
}

export async function customerToken(s: TestService, slug: string, email: string, scope = CUSTOMER_SCOPE, extra: { ttlSeconds?: number; resource?: string } = {}) {
  return issueTestToken(s.database.app, {
    tenantSlug: slug, resource: extra.resource ?? customerUrl(s, slug), subject: { kind: 'customer', email }, scope, ttlSeconds: extra.ttlSeconds,
  });
}

export async function staffToken(s: TestService, slug: string, email: string, scope = 'ops:read payments:read', extra: { resource?: string } = {}) {
  return issueTestToken(s.database.app, {
    tenantSlug: slug, resource: extra.resource ?? internalUrl(s, slug), subject: { kind: 'staff', email }, scope,
  });
}

export type Revision = 'modern' | 'legacy';

/**
 * The v2 SDK client. 'modern' pins MCP 2026-07-28 (server/discover, `_meta` on every request);
 * 'legacy' is its plain 2025-11-25 sequence (initialize, then stateless requests).
 */
export async function connect(url: string, token: string, revision: Revision = 'modern', options: { capabilities?: Record<string, unknown> } = {}): Promise<Client> {
  const client = new Client({ name: 'commerce-mcp-test', version: '1.0.0' }, {
    ...(revision === 'modern' && { versionNegotiation: { mode: { pin: '2026-07-28' } } }),
    ...(options.capabilities && { capabilities: options.capabilities }),
  });
  const transport = new StreamableHTTPClientTransport(new URL(url), { requestInit: { headers: { Authorization: `Bearer ${token}` } } });
  await client.connect(transport);
  return client;
}

/** The `_meta` envelope of a 2026-07-28 request, for raw requests. */
export const MODERN_META = {
  'io.modelcontextprotocol/protocolVersion': '2026-07-28',
  'io.modelcontextprotocol/clientCapabilities': {},
  'io.modelcontextprotocol/clientInfo': { name: 'raw-test', version: '1.0.0' },
};

/** A raw 2026-07-28 POST: envelope in the body, Mcp-Method / Mcp-Name / MCP-Protocol-Version headers. */
export async function postModern(url: string, token: string, method: string, params: Record<string, unknown> = {}, headers: Record<string, string> = {}, id: number | string = 1): Promise<Response> {
  const name = typeof params.name === 'string' ? params.name : typeof params.uri === 'string' ? params.uri : undefined;
  return post(url, { jsonrpc: '2.0', id, method, params: { ...params, _meta: MODERN_META } }, {
    Authorization: `Bearer ${token}`, 'MCP-Protocol-Version': '2026-07-28', 'Mcp-Method': method, ...(name !== undefined && { 'Mcp-Name': name }), ...headers,
  });
}

/** A raw JSON-RPC POST, for what the SDK client would never send. */
export async function post(url: string, body: unknown, headers: Record<string, string> = {}): Promise<Response> {
  return fetch(url, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', Accept: 'application/json, text/event-stream', ...headers },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
}

export function toolCall(name: string, args: unknown, id = 1) {
  return { jsonrpc: '2.0', id, method: 'tools/call', params: { name, arguments: args } };
}

export function text(result: unknown): string {
  const r = result as { content?: { type: string; text?: string }[] };
  return (r.content ?? []).map((c) => c.text ?? '').join('\n');
}

export async function auditRows(sql: postgres.Sql, tokenId: string) {
  return sql<{ tool: string | null; outcome: string; event: string; detail: unknown; arguments: unknown }[]>`
    select tool, outcome, event, detail, arguments from audit_events where token_id = ${tokenId} order by pos`;
}
