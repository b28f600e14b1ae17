// M6: step-up. A call needing a scope the token lacks gets 403 insufficient_scope naming the scope
// (RFC 6750 §3.1; MCP 2025-11-25 Authorization §"Scope Challenge Handling").
import { callTool } from '../mcp.js';
import { challengeParam } from '../oauth.js';
import { Checks, type AttackRow } from '../types.js';

export const m6: AttackRow = {
  id: 'M6',
  title: 'call a tool with a token lacking its scope',
  expected: '403 insufficient_scope naming the scope',
  async run(ctx) {
    const c = new Checks();
    const limited = await ctx.freshTokens('customer', { scope: 'catalog' });
    const url = ctx.customerUrl();
    const control = await callTool(ctx.http, url, limited.access_token, 'search_products', { query: 'a' });
    c.expect('control: an in-scope tool works', control.status === 200 && !control.isError, `${control.status}`);
    for (const [tool, args, scope] of [
      ['list_orders', {}, 'orders'],
      ['start_return', { order_number: 'X-1', lines: [{ line_no: 1, quantity: 1 }], reason: 'abc', idempotency_key: 'attack-key-1' }, 'returns'],
      ['place_order', { idempotency_key: 'attack-key-2' }, 'cart'],
    ] as const) {
      const a = await callTool(ctx.http, url, limited.access_token, tool, args);
      const h = a.headers.get('www-authenticate') ?? '';
      c.expect(`${tool} without "${scope}"`, a.status === 403 && challengeParam(h, 'error') === 'insufficient_scope' && (challengeParam(h, 'scope') ?? '').split(' ').includes(scope),
        `${a.status} WWW-Authenticate: ${h || 'absent'}`);
    }
    const read = await ctx.http.fetch(url, {
      method: 'POST', headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream', authorization: `Bearer ${limited.access_token}` },
      body: JSON.stringify({ jsonrpc: '2.0', id: 9, method: 'resources/read', params: { uri: 'order://ORD-1001' } }),
    });
    await read.arrayBuffer();
    c.expect('resources/read of an order without "orders"', read.status === 403, `${read.status} ${read.headers.get('www-authenticate') ?? ''}`);
    return c.result();
  },
};
