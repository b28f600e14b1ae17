// O5, O6: a replayed authorization code or rotated refresh token means someone holds a copy: it is
// refused and everything issued from the grant is revoked (RFC 6749 §4.1.2, OAuth 2.1 §4.3.1, RFC 9700 §4.14).
import { AttackContext } from '../context.js';
import { rpc } from '../mcp.js';
import { obtainCode, redeemCode, refresh } from '../oauth.js';
import { Checks, type AttackRow } from '../types.js';
import { short } from './common.js';

async function mcpStatus(ctx: AttackContext, token: string): Promise<number> {
  return (await rpc(ctx.http, ctx.customerUrl(), token, 'tools/list')).status;
}

export const o5: AttackRow = {
  id: 'O5',
  title: 'authorization code replayed',
  expected: 'second use invalid_grant; tokens from the first use revoked',
  async run(ctx) {
    const c = new Checks();
    const r = await ctx.authorizationRequest('customer', ctx.options.tenant, AttackContext.CUSTOMER_SCOPE);
    const as = r.discovery.as;
    const code = await obtainCode(ctx.http, as, r, ctx.credentials('customer'));
    const first = await redeemCode(ctx.http, as, r, code);
    const access = first.body.access_token as string | undefined;
    const refreshToken = first.body.refresh_token as string | undefined;
    if (!c.expect('first use issues tokens', first.status === 200 && Boolean(access), `${first.status}`)) return c.result();
    c.expect('first access token works', (await mcpStatus(ctx, access!)) === 200, 'tools/list');
    const second = await redeemCode(ctx.http, as, r, code);
    c.expect('second use invalid_grant', second.status === 400 && second.body.error === 'invalid_grant', `${second.status} ${short(second.body)}`);
    const after = await mcpStatus(ctx, access!);
    c.expect('access token from the first use revoked', after === 401, `tools/list → ${after}`);
    if (refreshToken) {
      const rt = await refresh(ctx.http, as, r.clientId, refreshToken);
      c.expect('refresh token from the first use revoked', rt.status === 400 && rt.body.error === 'invalid_grant', `${rt.status} ${short(rt.body)}`);
    }
    return c.result();
  },
};

export const o6: AttackRow = {
  id: 'O6',
  title: 'rotated refresh token replayed',
  expected: 'invalid_grant and the whole token family revoked',
  async run(ctx) {
    const c = new Checks();
    const t = await ctx.freshTokens('customer');
    const as = t.request.discovery.as;
    if (!c.expect('a refresh token is issued', Boolean(t.refresh_token), short(Object.keys(t)))) return c.result();
    const rotated = await refresh(ctx.http, as, t.request.clientId, t.refresh_token!);
    const newAccess = rotated.body.access_token as string | undefined;
    const newRefresh = rotated.body.refresh_token as string | undefined;
    c.expect('refresh rotates (new refresh token)', rotated.status === 200 && Boolean(newRefresh) && newRefresh !== t.refresh_token, `${rotated.status}`);
    if (!newAccess || !newRefresh) return c.result();
    c.expect('rotated access token works', (await mcpStatus(ctx, newAccess)) === 200, 'tools/list');
    const replay = await refresh(ctx.http, as, t.request.clientId, t.refresh_token!);
    c.expect('replayed refresh token → invalid_grant', replay.status === 400 && replay.body.error === 'invalid_grant', `${replay.status} ${short(replay.body)}`);
    const current = await refresh(ctx.http, as, t.request.clientId, newRefresh);
    c.expect('the current refresh token of the family is revoked too', current.status === 400 && current.body.error === 'invalid_grant', `${current.status} ${short(current.body)}`);
    const status = await mcpStatus(ctx, newAccess);
    c.expect('the family\'s access token is revoked', status === 401, `tools/list → ${status}`);
    const original = await mcpStatus(ctx, t.access_token);
    c.expect('the first access token is revoked', original === 401, `tools/list → ${original}`);
    return c.result();
  },
};
