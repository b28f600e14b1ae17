// M1: every bad or misplaced credential gets 401 with a Bearer challenge that points at the
// protected resource metadata (RFC 6750 §3, RFC 9728 §5.1; MCP 2025-11-25 Authorization).
import { createHash, randomBytes } from 'node:crypto';
import { INITIALIZE, MCP_HEADERS, challengeParam, revoke } from '../oauth.js';
import { postRaw, rpc } from '../mcp.js';
import { Checks, type AttackRow } from '../types.js';

export const m1: AttackRow = {
  id: 'M1',
  title: 'missing, malformed, expired, revoked, wrong-audience, forged token; token in the query string',
  expected: '401 with WWW-Authenticate: Bearer resource_metadata=… (no error when the header is simply missing)',
  async run(ctx) {
    const c = new Checks();
    const url = ctx.customerUrl();
    const { resourceMetadataUrl } = await ctx.endpoint('customer');
    const challenged = (name: string, status: number, header: string | null, wantError: boolean) => {
      const h = header ?? '';
      const rm = challengeParam(h, 'resource_metadata');
      const err = challengeParam(h, 'error');
      c.expect(name, status === 401 && /^Bearer\b/i.test(h) && rm === resourceMetadataUrl && (wantError ? Boolean(err) : err === undefined),
        `${status} WWW-Authenticate: ${h || 'absent'}`);
    };
    const body = JSON.stringify(INITIALIZE);
    const missing = await postRaw(ctx.http, url, body);
    challenged('missing Authorization: 401, no error code', missing.status, missing.headers.get('www-authenticate'), false);
    for (const [name, authorization] of [
      ['malformed (not a b64token)', 'Bearer !!!not-a-token!!!'],
      ['wrong scheme (Basic)', `Basic ${Buffer.from('a:b').toString('base64')}`],
      ['empty bearer', 'Bearer '],
      ['forged token in the service\'s format', `Bearer cmcp_at_${randomBytes(32).toString('base64url')}`],
      ['overlong token', `Bearer ${'A'.repeat(4000)}`],
    ] as const) {
      const a = await postRaw(ctx.http, url, body, { authorization });
      challenged(name, a.status, a.headers.get('www-authenticate'), true);
    }
    // Wrong audience: the other tenant's customer token.
    const foreign = await ctx.accessToken('otherTenantCustomer');
    const wrongAudience = await rpc(ctx.http, url, foreign, 'tools/list');
    challenged('wrong-audience token (other tenant)', wrongAudience.status, wrongAudience.headers.get('www-authenticate'), true);
    // Revoked: revocation takes effect on the very next request (RFC 7009).
    const fresh = await ctx.freshTokens('customer');
    const before = await rpc(ctx.http, url, fresh.access_token, 'tools/list');
    c.expect('control: fresh token works', before.status === 200, `${before.status}`);
    const revoked = await revoke(ctx.http, fresh.request.discovery.as, fresh.request.clientId, fresh.access_token);
    c.expect('revocation answered 200', revoked === 200, `${revoked}`);
    const after = await rpc(ctx.http, url, fresh.access_token, 'tools/list');
    challenged('revoked token (next request)', after.status, after.headers.get('www-authenticate'), true);
    // Token in the query string, with no header: never accepted.
    const good = await ctx.accessToken('customer');
    const inQuery = await ctx.http.fetch(`${url}?access_token=${encodeURIComponent(good)}`, { method: 'POST', headers: MCP_HEADERS, body });
    await inQuery.arrayBuffer();
    const qh = inQuery.headers.get('www-authenticate') ?? '';
    c.expect('token in the query string refused with a Bearer challenge', (inQuery.status === 401 || inQuery.status === 400) && challengeParam(qh, 'resource_metadata') === resourceMetadataUrl,
      `${inQuery.status} WWW-Authenticate: ${qh || 'absent'}`);
    if (inQuery.status === 400) c.note('query-string token gets 400 invalid_request (RFC 6750 §3.1), the catalogue says 401');
    // Expired: only with the database (otherwise the token would have to be waited out).
    if (ctx.database) {
      const expiring = await ctx.freshTokens('customer');
      const hash = createHash('sha256').update(expiring.access_token).digest('hex');
      await ctx.database.owner`update oauth_access_tokens set expires_at = now() - interval '1 second' where token_hash = ${hash}`;
      const expired = await rpc(ctx.http, url, expiring.access_token, 'tools/list');
      challenged('expired token', expired.status, expired.headers.get('www-authenticate'), true);
    } else {
      c.note('expired token not tried (needs --database-url, or waiting out the token lifetime)');
    }
    return c.result();
  },
};
