// Raw JSON-RPC over Streamable HTTP (MCP 2025-11-25 Transports): one POST, one JSON (or SSE) answer.
// Raw on purpose: the suite sends what a well-behaved SDK client never would.
import type { Http } from './http.js';
import { MCP_HEADERS } from './oauth.js';

export interface RpcAnswer {
  status: number;
  headers: Headers;
  text: string;
  /** The JSON-RPC message in the answer, if there was one. */
  message: Record<string, unknown> | undefined;
  result: Record<string, unknown> | undefined;
  error: { code: number; message: string } | undefined;
}

let nextId = 1;

function parseMessage(contentType: string, text: string): Record<string, unknown> | undefined {
  try {
    if (contentType.includes('text/event-stream')) {
      const data = text.split('\n').filter((l) => l.startsWith('data:')).map((l) => l.slice(5).trim()).join('');
      return data ? (JSON.parse(data) as Record<string, unknown>) : undefined;
    }
    return JSON.parse(text) as Record<string, unknown>;
  } catch {
    return undefined;
  }
}

export async function postRaw(http: Http, url: string, body: string | Buffer, headers: Record<string, string> = {}, timeoutMs?: number): Promise<RpcAnswer> {
  const res = await http.fetch(url, { method: 'POST', headers: { ...MCP_HEADERS, ...headers }, body: typeof body === 'string' ? body : new Uint8Array(body), timeoutMs });
  const text = await res.text();
  const message = parseMessage(res.headers.get('content-type') ?? '', text);
  return {
    status: res.status, headers: res.headers, text, message,
    result: message?.result as Record<string, unknown> | undefined,
    error: message?.error as RpcAnswer['error'],
  };
}

export function bearer(token: string | undefined): Record<string, string> {
  return token ? { authorization: `Bearer ${token}` } : {};
}

export function rpc(http: Http, url: string, token: string | undefined, method: string, params: Record<string, unknown> = {}, headers: Record<string, string> = {}): Promise<RpcAnswer> {
  return postRaw(http, url, JSON.stringify({ jsonrpc: '2.0', id: nextId++, method, params }), { ...bearer(token), ...headers });
}

export interface ToolAnswer extends RpcAnswer {
  isError: boolean;
  /** The tool's text content, or the JSON-RPC error message. */
  content: string;
  structured: Record<string, unknown> | undefined;
}

export async function callTool(http: Http, url: string, token: string, name: string, args: Record<string, unknown>, headers: Record<string, string> = {}): Promise<ToolAnswer> {
  const a = await rpc(http, url, token, 'tools/call', { name, arguments: args }, headers);
  const r = a.result as { isError?: boolean; content?: { text?: string }[]; structuredContent?: Record<string, unknown> } | undefined;
  const content = r ? (r.content ?? []).map((c) => c.text ?? '').join('\n') : (a.error?.message ?? a.text);
  const answer = { ...a, isError: Boolean(a.error) || Boolean(r?.isError) || a.status !== 200, content, structured: r?.structuredContent };
  http.onEvent?.({ type: 'tool', url, name, args, structured: answer.structured, isError: answer.isError });
  return answer;
}

/** A tool call that must succeed; throws with what came back otherwise. */
export async function mustCall(http: Http, url: string, token: string, name: string, args: Record<string, unknown>): Promise<Record<string, unknown>> {
  const a = await callTool(http, url, token, name, args);
  if (a.isError || !a.structured) throw new Error(`${name} failed (${a.status}): ${a.content.slice(0, 300)}`);
  return a.structured;
}
