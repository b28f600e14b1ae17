// M5, M7, M8: Streamable HTTP transport checks made before any work (MCP 2025-11-25 Transports:
// DNS-rebinding protection, protocol version header; JSON-RPC batches and oversized input).
import { performance } from 'node:perf_hooks';
import { rawRequest } from '../http.js';
import { INITIALIZE, MCP_HEADERS } from '../oauth.js';
import { bearer, callTool, postRaw, rpc } from '../mcp.js';
import { Checks, type AttackRow } from '../types.js';
import { short } from './common.js';

export const m5: AttackRow = {
  id: 'M5',
  title: 'DNS rebinding: foreign Origin or Host',
  expected: '403',
  async run(ctx) {
    const c = new Checks();
    const token = await ctx.accessToken('customer');
    const body = JSON.stringify(INITIALIZE);
    for (const [name, url] of [['customer endpoint', ctx.customerUrl()], ['internal endpoint', ctx.internalUrl()]] as const) {
      if (!url) { c.note('internal endpoint not given: only the customer endpoint tried'); continue; }
      const origin = await postRaw(ctx.http, url, body, { ...bearer(token), origin: 'https://evil.example' });
      c.expect(`${name}: foreign Origin`, origin.status === 403, `${origin.status}`);
      const nullOrigin = await postRaw(ctx.http, url, body, { ...bearer(token), origin: 'null' });
      c.expect(`${name}: Origin null`, nullOrigin.status === 403, `${nullOrigin.status}`);
      const host = await rawRequest(url, {
        method: 'POST', timeoutMs: ctx.options.timeoutMs, body,
        headers: { ...MCP_HEADERS, ...bearer(token), host: 'evil.example', 'content-length': String(Buffer.byteLength(body)) },
      });
      c.expect(`${name}: foreign Host`, host.status === 403, `${host.status}`);
      const rebound = await rawRequest(url, {
        method: 'POST', timeoutMs: ctx.options.timeoutMs, body,
        headers: { ...MCP_HEADERS, ...bearer(token), host: `attacker.example:${new URL(url).port || 80}`, 'content-length': String(Buffer.byteLength(body)) },
      });
      c.expect(`${name}: rebinding name with the right port`, rebound.status === 403, `${rebound.status}`);
    }
    return c.result();
  },
};

/** Resident memory of the service from /metrics on the internal listener, when exposed there. */
async function residentMemory(ctx: Parameters<AttackRow['run']>[0]): Promise<number | undefined> {
  if (!ctx.options.internal) return undefined;
  try {
    const res = await ctx.http.fetch(`${ctx.options.internal}/metrics`);
    const text = await res.text();
    const m = /^process_resident_memory_bytes\s+([\d.e+]+)/m.exec(text);
    return m ? Number(m[1]) : undefined;
  } catch {
    return undefined;
  }
}

export const m7: AttackRow = {
  id: 'M7',
  title: 'JSON-RPC batch, oversized body, deeply nested JSON, huge strings',
  expected: 'rejected with 4xx/JSON-RPC error before work is done; memory flat',
  async run(ctx) {
    const c = new Checks();
    const url = ctx.customerUrl();
    const token = await ctx.accessToken('customer');
    const rssBefore = await residentMemory(ctx);
    const timed = async (name: string, body: string | Buffer, check: (a: Awaited<ReturnType<typeof postRaw>>) => boolean) => {
      const t0 = performance.now();
      let a: Awaited<ReturnType<typeof postRaw>>;
      try {
        a = await postRaw(ctx.http, url, body, bearer(token));
      } catch (error) {
        // A server may cut an oversized upload off mid-stream: a refusal too, as long as it is quick.
        const ms = performance.now() - t0;
        c.expect(name, ms < 5000, `connection closed after ${ms.toFixed(0)} ms (${(error as Error).message})`);
        return;
      }
      const ms = performance.now() - t0;
      c.expect(name, check(a) && ms < 5000 && !/\bat .+\.(ts|js):\d+/.test(a.text), `${a.status} in ${ms.toFixed(0)} ms: ${short(a.error ?? a.text, 120)}`);
    };
    const call = (id: number) => ({ jsonrpc: '2.0', id, method: 'tools/list', params: {} });
    const rejected = (a: Awaited<ReturnType<typeof postRaw>>) => a.status >= 400 && a.status < 500;
    await timed('JSON-RPC batch', JSON.stringify([call(1), call(2)]), (a) => rejected(a) || (a.status === 200 && Boolean(a.error)));
    await timed('batch of 1000 calls', JSON.stringify(Array.from({ length: 1000 }, (_, i) => call(i))), rejected);
    await timed('oversized body (8 MB)', Buffer.alloc(8 * 1024 * 1024, 0x20), (a) => a.status === 413 || rejected(a));
    await timed('deeply nested JSON (10 000 levels)', `{"jsonrpc":"2.0","id":1,"method":"tools/list","params":{"x":${'['.repeat(10_000)}${']'.repeat(10_000)}}}`, rejected);
    await timed('invalid JSON', '{"jsonrpc":"2.0",', rejected);
    // A huge string inside an allowed body size reaches the schema and is refused there.
    const huge = await callTool(ctx.http, url, token, 'search_products', { query: 'x'.repeat(60_000) });
    c.expect('huge string argument refused by the schema', huge.isError && huge.status < 500, `${huge.status}: ${short(huge.content, 120)}`);
    const hugeId = await postRaw(ctx.http, url, JSON.stringify({ jsonrpc: '2.0', id: 'i'.repeat(50_000), method: 'tools/list' }), bearer(token));
    c.expect('huge JSON-RPC id refused', rejected(hugeId) || Boolean(hugeId.error), `${hugeId.status}`);
    const control = await rpc(ctx.http, url, token, 'tools/list');
    c.expect('control: the endpoint still answers', control.status === 200, `${control.status}`);
    const rssAfter = await residentMemory(ctx);
    if (rssBefore !== undefined && rssAfter !== undefined) {
      const grown = (rssAfter - rssBefore) / (1024 * 1024);
      c.expect('memory flat (RSS growth < 64 MB)', grown < 64, `${(rssBefore / 1048576).toFixed(0)} → ${(rssAfter / 1048576).toFixed(0)} MB`);
    } else {
      c.note('memory not observed (no process_resident_memory_bytes at the internal /metrics)');
    }
    return c.result();
  },
};

export const m8: AttackRow = {
  id: 'M8',
  title: 'unsupported MCP-Protocol-Version',
  expected: '400',
  async run(ctx) {
    const c = new Checks();
    const token = await ctx.accessToken('customer');
    for (const v of ['1999-01-01', '2025-13-45', 'latest']) {
      const a = await postRaw(ctx.http, ctx.customerUrl(), JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/list' }), { ...bearer(token), 'mcp-protocol-version': v });
      c.expect(`MCP-Protocol-Version: ${v}`, a.status === 400, `${a.status} ${short(a.error ?? a.text, 100)}`);
    }
    const ok = await postRaw(ctx.http, ctx.customerUrl(), JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/list' }), { ...bearer(token), 'mcp-protocol-version': '2025-06-18' });
    c.expect('control: a supported version is accepted', ok.status === 200, `${ok.status}`);
    return c.result();
  },
};
