// A1: broken object-level authorization. Every id swapped for another customer's or tenant's gets
// the same "not found" as a missing one, and nothing of theirs shows (OWASP API1:2023).
import { TENANT_CANARIES } from '../../src/seed/fixtures.js';
import { callTool, rpc } from '../mcp.js';
import { Checks, type AttackRow } from '../types.js';
import { short } from './common.js';
import { orderNumbers } from './customer-data.js';

function normalise(text: string, id: string): string {
  return text.split(id).join('<id>');
}

export const a1: AttackRow = {
  id: 'A1',
  title: "BOLA: id arguments swapped for another customer's or tenant's",
  expected: 'same "not found" as a missing id; zero rows leaked',
  async run(ctx) {
    const c = new Checks();
    const url = ctx.customerUrl();
    const token = await ctx.accessToken('customer');
    const mine = new Set(await orderNumbers(ctx, 'customer'));
    const neighbour = (await orderNumbers(ctx, 'otherCustomer')).filter((n) => !mine.has(n)).slice(0, 5);
    const foreign = (await orderNumbers(ctx, 'otherTenantCustomer')).filter((n) => !mine.has(n)).slice(0, 5);
    c.expect('fixtures: the other customers have orders to steal', neighbour.length > 0 && foreign.length > 0, `${neighbour.length} same-tenant, ${foreign.length} other-tenant`);
    const missingId = `ORD-${ctx.runId.toUpperCase()}9`;
    const missing = await callTool(ctx.http, url, token, 'get_order', { order_number: missingId });
    const missingText = normalise(missing.content, missingId);
    const missingRes = await rpc(ctx.http, url, token, 'resources/read', { uri: `order://${missingId}` });
    const missingResText = normalise(JSON.stringify(missingRes.error ?? missingRes.result), missingId);
    for (const [who, ids] of [['same tenant', neighbour], ['other tenant', foreign]] as const) {
      for (const id of ids) {
        const a = await callTool(ctx.http, url, token, 'get_order', { order_number: id });
        c.expect(`get_order ${id} (${who})`, a.isError && normalise(a.content, id) === missingText, short(a.content, 100));
        const r = await rpc(ctx.http, url, token, 'resources/read', { uri: `order://${id}` });
        c.expect(`resources/read order://${id} (${who})`, !r.result && normalise(JSON.stringify(r.error ?? r.result), id) === missingResText, short(r.error ?? r.result, 100));
        const e = await callTool(ctx.http, url, token, 'check_return_eligibility', { order_number: id });
        c.expect(`check_return_eligibility ${id} (${who})`, e.isError && !e.structured, short(e.content, 100));
      }
    }
    // Other tenant's catalogue and canary never show.
    const other = TENANT_CANARIES[ctx.options.otherTenant as keyof typeof TENANT_CANARIES];
    if (other) {
      const search = await callTool(ctx.http, url, token, 'search_products', { query: other });
      c.expect(`search for ${ctx.options.otherTenant}'s canary finds nothing`, !search.text.includes(other), short(search.structured ?? search.content, 100));
      const list = await rpc(ctx.http, url, token, 'resources/list');
      c.expect('resources/list shows no other tenant canary', !list.text.includes(other), `${list.status}`);
    }
    return c.result();
  },
};
