// A4: unrestricted resource consumption (OWASP API4:2023): page sizes are capped, and registration,
// token and MCP call floods meet 429 with Retry-After (RFC 6585 §4).
import { callTool, rpc } from '../mcp.js';
import { Checks, type AttackRow } from '../types.js';
import { probePerson, short, tokensFor } from './common.js';

async function flood(n: number, concurrency: number, send: (i: number) => Promise<{ status: number; headers: Headers }>): Promise<{ first429: number | undefined; retryAfter: string | null; rateLimit: string | null; statuses: Map<number, number> }> {
  const statuses = new Map<number, number>();
  let first429: number | undefined;
  let retryAfter: string | null = null;
  let rateLimit: string | null = null;
  let next = 0;
  const worker = async () => {
    while (next < n && first429 === undefined) {
      const i = next++;
      const r = await send(i);
      statuses.set(r.status, (statuses.get(r.status) ?? 0) + 1);
      if (r.status === 429 && first429 === undefined) {
        first429 = i + 1;
        retryAfter = r.headers.get('retry-after');
        rateLimit = r.headers.get('ratelimit') ?? r.headers.get('ratelimit-policy');
      }
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  return { first429, retryAfter, rateLimit, statuses };
}

const fmt = (s: Map<number, number>) => [...s].map(([k, v]) => `${v}×${k}`).join(' ');

export const a4: AttackRow = {
  id: 'A4',
  title: 'resource consumption: huge limit, registration flood, token flood, MCP call flood',
  expected: 'caps applied; 429 with Retry-After',
  flood: true,
  async run(ctx) {
    const c = new Checks();
    const url = ctx.customerUrl();
    const token = await ctx.accessToken('customer');
    for (const [tool, args, cap] of [['list_orders', { limit: 1_000_000 }, 50], ['search_products', { query: 'a', limit: 100_000 }, 25], ['recommend_products', { limit: 10_000 }, 10]] as const) {
      const a = await callTool(ctx.http, url, token, tool, args);
      const items = (a.structured?.orders ?? a.structured?.products) as unknown[] | undefined;
      c.expect(`${tool} with a huge limit`, (a.isError && a.status < 500) || (Array.isArray(items) && items.length <= cap),
        a.isError ? short(a.content, 90) : `${items?.length} items`);
    }
    const { as } = await ctx.endpoint('customer');
    // A token of its own for the MCP flood, obtained before the token endpoint is flooded, of the
    // probe person (budgets are per person too, A10: flooding the suite's customer would starve
    // the next run's rows).
    const probe = probePerson(ctx);
    const floodUrl = probe ? ctx.customerUrl(ctx.options.otherTenant) : url;
    const own = probe ? await tokensFor(ctx, 'customer', ctx.options.otherTenant, probe) : await ctx.freshTokens('customer');
    if (as.registration_endpoint) {
      const reg = await flood(40, 4, (i) => ctx.http.json(as.registration_endpoint!, {
        method: 'POST', headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ client_name: `flood ${ctx.runId} ${i}`, redirect_uris: ['http://127.0.0.1:9/cb'] }),
      }));
      c.expect('registration flood meets 429 with Retry-After', reg.first429 !== undefined && Boolean(reg.retryAfter), `${fmt(reg.statuses)}; Retry-After ${reg.retryAfter}`);
    } else c.note('no registration endpoint advertised');
    const tok = await flood(200, 8, (i) => ctx.http.form(as.token_endpoint, { grant_type: 'authorization_code', code: `flood-${i}`, client_id: 'flood', code_verifier: 'v'.repeat(43), redirect_uri: 'http://127.0.0.1:9/cb' }));
    c.expect('token endpoint flood meets 429 with Retry-After', tok.first429 !== undefined && Boolean(tok.retryAfter), `${fmt(tok.statuses)}; Retry-After ${tok.retryAfter}`);
    // MCP calls: one token's budget (its own token, so the flood does not starve other rows).
    const mcp = await flood(400, 8, (_i) => rpc(ctx.http, floodUrl, own.access_token, 'tools/call', { name: 'search_products', arguments: { query: 'a', limit: 1 } }));
    c.expect('MCP call flood on one token meets 429 with Retry-After', mcp.first429 !== undefined && Boolean(mcp.retryAfter), `${fmt(mcp.statuses)}; Retry-After ${mcp.retryAfter}; RateLimit ${mcp.rateLimit}`);
    return c.result();
  },
};
