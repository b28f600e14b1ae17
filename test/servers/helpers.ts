// Shared helpers for the MCP resource-server tests: real HTTP, real tokens, the SDK client.
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
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

export async function connect(url: string, token: string): Promise<Client> {
  const client = new Client({ name: 'commerce-mcp-test', version: '1.0.0' });
  const transport = new StreamableHTTPClientTransport(new URL(url), { requestInit: { headers: { Authorization: `Bearer ${token}` } } });
  await client.connect(transport);
  return client;
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
    select tool, outcome, event, detail, arguments from audit_events where token_id = ${tokenId} order by seq`;
}
