// A2: a customer token calling staff tools by name gets an error, and the attempt is audited
// (OWASP API5:2023 broken function-level authorization).
import { callTool } from '../mcp.js';
import { Checks, type AttackRow } from '../types.js';
import { short } from './common.js';

const STAFF_TOOLS: [string, Record<string, unknown>][] = [
  ['search_orders', {}], ['lookup_payment', { order_number: 'ORD-1001' }], ['list_returns', {}],
  ['issue_refund', { order_number: 'ORD-1001', amount_cents: 100 }], ['approve_action', { action_id: '00000000-0000-0000-0000-000000000000' }],
];

export const a2: AttackRow = {
  id: 'A2',
  title: 'customer token calls staff tools by name',
  expected: 'error, audited',
  async run(ctx) {
    const c = new Checks();
    const since = new Date();
    const token = await ctx.accessToken('customer');
    for (const [name, args] of STAFF_TOOLS) {
      const a = await callTool(ctx.http, ctx.customerUrl(), token, name, args);
      c.expect(`${name} refused`, a.isError && !a.structured && a.status < 500, `${a.status} ${short(a.content, 100)}`);
    }
    if (ctx.database) {
      const rows = await ctx.database.owner<{ tool: string; outcome: string }[]>`
        select e.tool, e.outcome from audit_events e join tenants t on t.id = e.tenant_id
        where t.slug = ${ctx.options.tenant} and e.actor_kind = 'customer' and e.at >= ${since} and e.tool = 'search_orders'`;
      c.expect('the attempt is in the audit log', rows.length > 0 && rows.every((r) => r.outcome !== 'ok'), rows.map((r) => `${r.tool}:${r.outcome}`).join(', ') || 'no audit entry');
    } else {
      c.note('audit entry not checked (needs --database-url)');
    }
    return c.result();
  },
};
