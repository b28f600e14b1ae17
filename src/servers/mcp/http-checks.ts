// The Streamable HTTP checks made before any work is done (MCP 2025-11-25 and 2026-07-28 "Transports"
// and "Security Best Practices"). Small pure functions; src/servers/mcp/endpoint.ts runs them in order.
import { SUPPORTED_PROTOCOL_VERSIONS } from './revision.js';

/** Request bodies above this are refused with 413 before they are read in full (M7). */
export const MAX_BODY_BYTES = 64 * 1024;
/** Objects/arrays nested deeper than this are refused (M7). MCP messages need far less. */
export const MAX_JSON_DEPTH = 32;

/**
 * MCP 2025-11-25 / 2026-07-28 Transports §"Protocol Version Header": an unsupported or invalid
 * `MCP-Protocol-Version` gets 400. Absent means 2025-03-26 for a legacy request (a modern one
 * must send it: src/servers/mcp/revision.ts).
 */
export function isSupportedProtocolVersion(header: string | string[] | undefined): boolean {
  if (header === undefined) return true;
  if (typeof header !== 'string') return false;
  return SUPPORTED_PROTOCOL_VERSIONS.includes(header);
}

/** Transports §"Sending Messages to the Server": the client must accept JSON and SSE. */
export function acceptsMcpResponses(accept: string | undefined): boolean {
  if (!accept) return false;
  const a = accept.toLowerCase();
  return (a.includes('application/json') && a.includes('text/event-stream')) || a.includes('*/*');
}

export function isJsonContentType(contentType: string | undefined): boolean {
  if (!contentType) return false;
  const type = contentType.split(';', 1)[0]!.trim().toLowerCase();
  return type === 'application/json';
}

/**
 * Transports §"Security Warning" (DNS rebinding): a present `Origin` must be one we serve.
 * Absent is fine (non-browser clients); the literal "null" origin is not ours.
 */
export function isAllowedOrigin(origin: string | undefined, allowedOrigins: ReadonlySet<string>): boolean {
  if (origin === undefined) return true;
  return allowedOrigins.has(origin.toLowerCase());
}

const LOOPBACK_HOSTS = new Set(['localhost', '127.0.0.1', '[::1]']);

/**
 * The `Host` a request names must be the configured one; for a loopback deployment the loopback
 * aliases are equivalent (a rebinding attacker's name is never one of them).
 */
export function allowedHostsFor(baseUrl: string): ReadonlySet<string> {
  const u = new URL(baseUrl);
  const hosts = new Set([u.host.toLowerCase()]);
  if (LOOPBACK_HOSTS.has(u.hostname.toLowerCase())) {
    for (const h of LOOPBACK_HOSTS) hosts.add(u.port ? `${h}:${u.port}` : h);
  }
  return hosts;
}

export function allowedOriginsFor(baseUrl: string): ReadonlySet<string> {
  return new Set([...allowedHostsFor(baseUrl)].map((h) => `${new URL(baseUrl).protocol}//${h}`));
}

export function isAllowedHost(host: string | undefined, allowedHosts: ReadonlySet<string>): boolean {
  return host !== undefined && allowedHosts.has(host.toLowerCase());
}

/** True when `value` nests objects/arrays deeper than `max` (iterative: no recursion to exhaust). */
export function exceedsDepth(value: unknown, max: number): boolean {
  if (value === null || typeof value !== 'object') return false;
  const stack: [unknown, number][] = [[value, 1]];
  while (stack.length) {
    const [v, d] = stack.pop()!;
    if (d > max) return true;
    if (Array.isArray(v)) {
      for (const x of v) if (x !== null && typeof x === 'object') stack.push([x, d + 1]);
    } else {
      for (const k in v as object) {
        const x = (v as Record<string, unknown>)[k];
        if (x !== null && typeof x === 'object') stack.push([x, d + 1]);
      }
    }
  }
  return false;
}

/** RFC 6750 §2.3 is not allowed here: a token in the query string leaks into logs and history. */
export function hasQueryToken(query: string | undefined): boolean {
  if (!query) return false;
  return /(?:^|&)access_token=/i.test(query);
}

export type JsonRpcId = string | number;

export type IncomingMessage =
  | { kind: 'request'; id: JsonRpcId; method: string; params: Record<string, unknown> | undefined }
  | { kind: 'notification'; method: string }
  | { kind: 'response' };

/** JSON-RPC 2.0 §4/§5 shape check of one message. Returns null when it is not a valid message. */
export function classifyMessage(m: unknown): IncomingMessage | null {
  if (m === null || typeof m !== 'object' || Array.isArray(m)) return null;
  const o = m as Record<string, unknown>;
  if (o.jsonrpc !== '2.0') return null;
  const params = o.params;
  if (params !== undefined && (params === null || typeof params !== 'object' || Array.isArray(params))) return null;
  if (typeof o.method === 'string') {
    if (o.method.length > 128) return null;
    if (!('id' in o)) return { kind: 'notification', method: o.method };
    const id = o.id;
    if (!((typeof id === 'string' && id.length <= 256) || (typeof id === 'number' && Number.isSafeInteger(id)))) return null;
    return { kind: 'request', id, method: o.method, params: params as Record<string, unknown> | undefined };
  }
  if ('id' in o && ('result' in o || 'error' in o)) return { kind: 'response' };
  return null;
}
