// M3: session hijack. The endpoint is stateless: no session id is issued or honoured, so another
// user's session id (or SSE Last-Event-ID) with B's token yields B's own answer and nothing of A's
// (MCP 2025-11-25 Security Best Practices §"Session Hijacking").
import { INITIALIZE } from '../oauth.js';
import { bearer, callTool, postRaw } from '../mcp.js';
import { Checks, type AttackRow } from '../types.js';
import { short } from './common.js';

export const m3: AttackRow = {
  id: 'M3',
  title: "session hijack: A's session id (or Last-Event-ID) with B's token",
  expected: 'rejected, nothing replayed',
  async run(ctx) {
    const c = new Checks();
    const url = ctx.customerUrl();
    const tokenA = await ctx.accessToken('customer');
    const tokenB = await ctx.accessToken('otherCustomer');
    const init = await postRaw(ctx.http, url, JSON.stringify(INITIALIZE), bearer(tokenA));
    const sessionA = init.headers.get('mcp-session-id');
    c.expect('initialize answered', init.status === 200, `${init.status}`);
    if (sessionA) c.note(`the server issued a session id (${short(sessionA, 20)})`);
    const hijackId = sessionA ?? `attack-${ctx.runId}`;
    const ordersA = await callTool(ctx.http, url, tokenA, 'list_orders', { limit: 50 });
    const numbersA = new Set(((ordersA.structured?.orders ?? []) as { order_number: string }[]).map((o) => o.order_number));
    const asB = await callTool(ctx.http, url, tokenB, 'list_orders', { limit: 50 }, { 'mcp-session-id': hijackId });
    const numbersB = ((asB.structured?.orders ?? []) as { order_number: string }[]).map((o) => o.order_number);
    const leaked = numbersB.filter((n) => numbersA.has(n));
    c.expect("B's token with A's session id sees none of A's orders", asB.status === 400 || asB.status === 404 || (asB.status === 200 && leaked.length === 0),
      `${asB.status}; ${numbersB.length} orders, ${leaked.length} of A's`);
    const sse = await ctx.http.fetch(url, { method: 'GET', headers: { accept: 'text/event-stream', 'last-event-id': `${hijackId}:1`, 'mcp-session-id': hijackId, ...bearer(tokenB) } });
    const sseBody = await sse.text();
    c.expect('GET stream resumption with Last-Event-ID is refused', sse.status >= 400 && sse.status < 500 && !sseBody.includes('data:'), `${sse.status}`);
    const del = await ctx.http.fetch(url, { method: 'DELETE', headers: { 'mcp-session-id': hijackId, ...bearer(tokenB) } });
    await del.arrayBuffer();
    c.expect("B cannot end A's session", del.status >= 400 && del.status < 500, `${del.status}`);
    return c.result();
  },
};
