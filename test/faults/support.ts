// Shared pieces of the fault tests (issue 7 part 2; docs/ATTACK-CATALOGUE.md F1–F3): raw MCP calls that can
// never hang (every one carries an AbortSignal timeout), free ports, and the leak check.
import assert from 'node:assert/strict';
import { createServer, type AddressInfo } from 'node:net';
import { assertNoStackTrace } from '../fuzz/support.js';

export { assertNoStackTrace };

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer().once('error', reject).listen(0, '127.0.0.1', () => {
      const { port } = s.address() as AddressInfo;
      s.close(() => resolve(port));
    });
  });
}

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

export interface CallOutcome {
  /** HTTP status, or 0 when the request failed at the network level, -1 when it hit the bound. */
  status: number;
  ms: number;
  text: string;
  retryAfter: string | null;
  /** The JSON-RPC answer, when there is one. */
  rpc?: { result?: { isError?: boolean; structuredContent?: Record<string, unknown>; content?: { text?: string }[] }; error?: { code: number; message: string } };
}

/** One JSON-RPC request to an MCP endpoint, bounded by `boundMs`; never throws. */
export async function mcp(url: string, token: string, method: string, params: unknown, boundMs: number): Promise<CallOutcome> {
  const started = performance.now();
  try {
    const res = await fetch(url, {
      method: 'POST',
      headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json', Accept: 'application/json, text/event-stream', 'MCP-Protocol-Version': '2025-11-25' },
      body: JSON.stringify({ jsonrpc: '2.0', id: 1, method, params }),
      signal: AbortSignal.timeout(boundMs),
    });
    const text = await res.text();
    let rpc: CallOutcome['rpc'];
    try { rpc = JSON.parse(text) as CallOutcome['rpc']; } catch { rpc = undefined; }
    return { status: res.status, ms: performance.now() - started, text, retryAfter: res.headers.get('retry-after'), rpc };
  } catch (error) {
    const timedOut = (error as Error).name === 'TimeoutError';
    return { status: timedOut ? -1 : 0, ms: performance.now() - started, text: String((error as Error).message), retryAfter: null };
  }
}

/** A plain GET bounded by `boundMs`; never throws. */
export async function get(url: string, boundMs: number): Promise<CallOutcome> {
  const started = performance.now();
  try {
    const res = await fetch(url, { signal: AbortSignal.timeout(boundMs) });
    return { status: res.status, ms: performance.now() - started, text: await res.text(), retryAfter: res.headers.get('retry-after') };
  } catch (error) {
    return { status: (error as Error).name === 'TimeoutError' ? -1 : 0, ms: performance.now() - started, text: String(error), retryAfter: null };
  }
}

export function toolResult<T = Record<string, unknown>>(o: CallOutcome, where: string): T {
  assert.equal(o.status, 200, `${where}: HTTP ${o.status} ${o.text.slice(0, 300)}`);
  assert.ok(o.rpc?.result && !o.rpc.result.isError, `${where}: ${o.text.slice(0, 300)}`);
  return o.rpc.result.structuredContent as T;
}
