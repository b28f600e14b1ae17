// O7: scope escalation (RFC 6749 §3.3, §6: a refresh may only narrow).
import { AttackContext } from '../context.js';
import { refresh } from '../oauth.js';
import { Checks, type AttackRow } from '../types.js';
import { authorizeOnce, describeAnswer, redirectedWithError, short } from './common.js';

export const o7: AttackRow = {
  id: 'O7',
  title: 'scope escalation: refresh asking for more; customer client asking for staff scopes; unknown scope',
  expected: 'invalid_scope',
  async run(ctx) {
    const c = new Checks();
    const r = await ctx.authorizationRequest('customer', ctx.options.tenant, AttackContext.CUSTOMER_SCOPE);
    const as = r.discovery.as;
    for (const [name, scope] of [
      ['staff scope at the customer endpoint', 'orders ops:read'],
      ['approvals scope at the customer endpoint', 'approvals'],
      ['unknown scope', 'orders superuser'],
    ] as const) {
      const a = await authorizeOnce(ctx, as, r, { scope });
      c.expect(name, redirectedWithError(a, r.redirectUri, 'invalid_scope'), describeAnswer(a));
    }
    if (ctx.options.internal) {
      const ri = await ctx.authorizationRequest('internal', ctx.options.tenant, 'ops:read');
      const a = await authorizeOnce(ctx, ri.discovery.as, ri, { scope: 'ops:read orders' });
      c.expect('customer scope at the internal endpoint', redirectedWithError(a, ri.redirectUri, 'invalid_scope'), describeAnswer(a));
    }
    const narrow = await ctx.freshTokens('customer', { scope: 'orders' });
    c.expect('token carries only what was asked', narrow.scope === 'orders', `scope=${narrow.scope}`);
    const wider = await refresh(ctx.http, as, narrow.request.clientId, narrow.refresh_token ?? '', { scope: 'orders returns' });
    c.expect('refresh asking for more → invalid_scope', wider.status === 400 && wider.body.error === 'invalid_scope', `${wider.status} ${short(wider.body)}`);
    const staffScope = await refresh(ctx.http, as, narrow.request.clientId, narrow.refresh_token ?? '', { scope: 'ops:read' });
    c.expect('refresh asking for a staff scope → invalid_scope', staffScope.status === 400 && staffScope.body.error === 'invalid_scope', `${staffScope.status} ${short(staffScope.body)}`);
    const same = await refresh(ctx.http, as, narrow.request.clientId, narrow.refresh_token ?? '', { scope: 'orders' });
    if (same.status !== 200) c.note(`after the refused attempts the refresh token no longer refreshes (${same.status}): the client lost its session`);
    return c.result();
  },
};
