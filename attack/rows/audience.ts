// O12: a token is bound to exactly one MCP endpoint of one tenant (RFC 8707; MCP 2025-11-25
// Authorization §"Token Audience Binding and Validation").
import { rpc } from '../mcp.js';
import { Checks, type AttackRow } from '../types.js';

export const o12: AttackRow = {
  id: 'O12',
  title: "token of tenant A at tenant B's endpoint; customer token at the internal endpoint",
  expected: '401 (wrong audience)',
  async run(ctx) {
    const c = new Checks();
    const customer = await ctx.accessToken('customer');
    const own = await rpc(ctx.http, ctx.customerUrl(), customer, 'tools/list');
    c.expect('control: the token works at its own endpoint', own.status === 200, `${own.status}`);
    const other = await rpc(ctx.http, ctx.customerUrl(ctx.options.otherTenant), customer, 'tools/list');
    c.expect(`${ctx.options.tenant} customer token at ${ctx.options.otherTenant}'s customer endpoint`, other.status === 401, `${other.status}`);
    const otherTenantToken = await ctx.accessToken('otherTenantCustomer');
    const back = await rpc(ctx.http, ctx.customerUrl(), otherTenantToken, 'tools/list');
    c.expect(`${ctx.options.otherTenant} customer token at ${ctx.options.tenant}'s customer endpoint`, back.status === 401, `${back.status}`);
    const internal = ctx.internalUrl();
    if (internal) {
      const atInternal = await rpc(ctx.http, internal, customer, 'tools/list');
      c.expect('customer token at the internal endpoint', atInternal.status === 401, `${atInternal.status}`);
      const staff = await ctx.accessToken('staff');
      const staffAtCustomer = await rpc(ctx.http, ctx.customerUrl(), staff, 'tools/list');
      c.expect('staff token at the customer endpoint', staffAtCustomer.status === 401, `${staffAtCustomer.status}`);
      const staffOtherTenant = await rpc(ctx.http, ctx.internalUrl(ctx.options.otherTenant)!, staff, 'tools/list');
      c.expect(`staff token at ${ctx.options.otherTenant}'s internal endpoint`, staffOtherTenant.status === 401, `${staffOtherTenant.status}`);
    } else {
      c.note('internal endpoint not given (--internal): customer-token-at-internal not tried');
    }
    return c.result();
  },
};
