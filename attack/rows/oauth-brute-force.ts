// O11: guessing passwords, client secrets and codes is throttled per IP and per account, and the
// answers do not tell a wrong password from an unknown account (RFC 9700 §4.15; OWASP ASVS V2.2).
import { performance } from 'node:perf_hooks';
import { csrfOf, formAction, pageText } from '../http.js';
import { AttackContext } from '../context.js';
import { openLoginPage, tokenRequest } from '../oauth.js';
import { Checks, type AttackRow } from '../types.js';
import { short } from './common.js';

export const o11: AttackRow = {
  id: 'O11',
  title: 'brute force of passwords, client secrets, codes',
  expected: 'per-IP and per-account limits, constant-time compares, uniform errors',
  flood: true,
  async run(ctx) {
    const c = new Checks();
    const r = await ctx.authorizationRequest('customer', ctx.options.tenant, AttackContext.CUSTOMER_SCOPE);
    const as = r.discovery.as;
    const page = await openLoginPage(ctx.http, as, r);
    const action = formAction(page.html)!;
    const csrf = csrfOf(page.html)!;
    const attempt = async (email: string, password: string) => {
      const t0 = performance.now();
      const res = await page.browser.post(action, { csrf, email, password });
      const text = pageText(await res.text());
      return { status: res.status, text, ms: performance.now() - t0, retryAfter: res.headers.get('retry-after') };
    };
    // Uniform errors: a real account with a wrong password vs an account that does not exist.
    const real = ctx.credentials('otherCustomer').login;
    const known = await attempt(real, 'wrong-password-' + ctx.runId);
    const unknown = await attempt(`nobody-${ctx.runId}@example.invalid`, 'wrong-password');
    c.expect('same status for wrong password and unknown account', known.status === unknown.status && known.status === 401, `${known.status} vs ${unknown.status}`);
    c.expect('same message for wrong password and unknown account', known.text === unknown.text, known.text === unknown.text ? 'identical page text' : `"${short(known.text, 80)}" vs "${short(unknown.text, 80)}"`);
    const ratio = Math.max(known.ms, unknown.ms) / Math.max(1, Math.min(known.ms, unknown.ms));
    c.expect('comparable timing (password hash work done for unknown accounts too)', ratio < 4, `${known.ms.toFixed(0)} ms vs ${unknown.ms.toFixed(0)} ms`);
    // Per account from one address: a probe account (no real user is held up) is delayed after a few
    // failures — a delay with Retry-After, never a lock (O13 covers many addresses and device cookies).
    const probe = `probe-${ctx.runId}@example.invalid`;
    let locked: Awaited<ReturnType<typeof attempt>> | undefined;
    let tries = 0;
    for (; tries < 12 && !locked; tries++) {
      const a = await attempt(probe, `guess-${tries}`);
      if (a.status === 429) locked = a;
    }
    c.expect('per-account delay after repeated failures', Boolean(locked), locked ? `429 after ${tries} attempts, Retry-After ${locked.retryAfter}` : `no 429 in ${tries} attempts`);
    c.expect('the delay carries Retry-After', Boolean(locked?.retryAfter), String(locked?.retryAfter ?? 'absent'));
    // Client secrets: a guessing client is locked out too (introspection requires client authentication).
    if (as.introspection_endpoint) {
      let clientLocked: number | undefined;
      const guesses: number[] = [];
      for (let i = 0; i < 15 && clientLocked === undefined; i++) {
        const res = await ctx.http.form(as.introspection_endpoint, { token: 'x', client_id: `probe-client-${ctx.runId}`, client_secret: `guess-${i}` });
        guesses.push(res.status);
        if (res.status === 429) clientLocked = i + 1;
      }
      c.expect('wrong client secrets are uniform invalid_client', guesses.filter((s) => s !== 429).every((s) => s === 401), guesses.join(','));
      c.expect('per-client lock after repeated secret failures', clientLocked !== undefined, clientLocked ? `429 after ${clientLocked}` : `no 429 in ${guesses.length}`);
    }
    // Codes: guessed codes are refused uniformly.
    const codes = await Promise.all(['cmcp_code_' + 'A'.repeat(43), 'guess', 'cmcp_code_' + ctx.runId].map((code) =>
      tokenRequest(ctx.http, as, { grant_type: 'authorization_code', code, client_id: r.clientId, redirect_uri: r.redirectUri, code_verifier: 'v'.repeat(43) })));
    c.expect('guessed codes → invalid_grant, uniformly', codes.every((t) => t.status === 400 && t.body.error === 'invalid_grant'), codes.map((t) => `${t.status} ${t.body.error}`).join(', '));
    // Per IP: the sign-in form stops answering one address after a burst.
    let ipLimited: number | undefined;
    for (let i = 0; i < 40 && ipLimited === undefined; i++) {
      const a = await attempt(`ip-probe-${i}-${ctx.runId}@example.invalid`, 'x');
      if (a.status === 429) ipLimited = i + 1;
    }
    c.expect('per-IP sign-in limit', ipLimited !== undefined, ipLimited ? `429 after ${ipLimited} more attempts` : 'no 429 in 40 attempts');
    return c.result();
  },
};
