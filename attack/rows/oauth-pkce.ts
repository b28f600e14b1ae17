// O1, O2: PKCE is required, S256 only, and a code redeemed with a wrong or missing verifier is burned
// (RFC 7636; OAuth 2.1 §4.1.1; RFC 9700 §2.1.1).
import { AttackContext } from '../context.js';
import { obtainCode, redeemCode } from '../oauth.js';
import { Checks, type AttackRow } from '../types.js';
import { authorizeOnce, describeAnswer, redirectedWithError, short } from './common.js';

export const o1: AttackRow = {
  id: 'O1',
  title: 'authorize without code_challenge, or with plain',
  expected: 'invalid_request, no code issued',
  async run(ctx) {
    const c = new Checks();
    const r = await ctx.authorizationRequest('customer', ctx.options.tenant, AttackContext.CUSTOMER_SCOPE);
    const as = r.discovery.as;
    c.expect('metadata advertises S256 only', JSON.stringify(as.code_challenge_methods_supported) === '["S256"]',
      `code_challenge_methods_supported=${short(as.code_challenge_methods_supported)}`);
    const plainChallenge = 'a'.repeat(43);
    const cases: [string, Record<string, string | undefined>][] = [
      ['no code_challenge', { code_challenge: undefined, code_challenge_method: undefined }],
      ['code_challenge_method=plain', { code_challenge: plainChallenge, code_challenge_method: 'plain' }],
      ['challenge without method (means plain)', { code_challenge: plainChallenge, code_challenge_method: undefined }],
      ['unknown method S512', { code_challenge_method: 'S512' }],
    ];
    for (const [name, params] of cases) {
      const a = await authorizeOnce(ctx, as, r, params);
      c.expect(name, redirectedWithError(a, r.redirectUri, 'invalid_request'), describeAnswer(a));
    }
    return c.result();
  },
};

export const o2: AttackRow = {
  id: 'O2',
  title: 'redeem a code with a wrong or missing verifier',
  expected: 'invalid_grant, code burned',
  async run(ctx) {
    const c = new Checks();
    const r = await ctx.authorizationRequest('customer', ctx.options.tenant, AttackContext.CUSTOMER_SCOPE);
    const as = r.discovery.as;
    const user = ctx.credentials('customer');
    for (const [name, verifier] of [['wrong verifier', 'x'.repeat(43)], ['missing verifier', null]] as const) {
      const code = await obtainCode(ctx.http, as, r, user);
      if (!code.code) { c.expect(`${name}: a code was issued`, false, code.location.search); continue; }
      const bad = await redeemCode(ctx.http, as, r, code, verifier);
      c.expect(`${name}: invalid_grant`, bad.status === 400 && bad.body.error === 'invalid_grant', `${bad.status} ${short(bad.body)}`);
      const retry = await redeemCode(ctx.http, as, r, code);
      c.expect(`${name}: then the right verifier is refused (burned)`, retry.status === 400 && retry.body.error === 'invalid_grant' && !retry.body.access_token,
        `${retry.status} ${short(retry.body)}`);
    }
    return c.result();
  },
};
