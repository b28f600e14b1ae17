// A9, A10: shared budgets. A9 (noisy neighbour): calls refused as "not enabled" flood the canary
// tenant's customer endpoint (phase 1) and must spend nothing, so canary staff keep their budget;
// calls refused by a token's own budget must spend nothing of the person's budget. A10 (budget
// multiplication): once a person has spent their budget, a refreshed token, a new authorization and
// a second client bring them no new one. Both work on demo accounts no other row uses (canary's
// first customer and supply-chain manager, the other tenant's second customer), so the flood leaves
// every other row's personas alone.
import type { AttackContext } from '../context.js';
import { rpc, type RpcAnswer } from '../mcp.js';
import { refresh } from '../oauth.js';
import { Checks, notApplicable, type AttackRow } from '../types.js';
import { demoLogin, probePerson, short, tokensFor } from './common.js';

const CANARY = 'canary';

const read = (ctx: AttackContext, url: string, token: string) =>
  rpc(ctx.http, url, token, 'tools/call', { name: 'search_products', arguments: { query: 'a', limit: 1 } });

/** Which budget refused a call, from the JSON-RPC error an agent reads. */
function refusedBy(a: RpcAnswer): 'token' | 'person' | 'other' | undefined {
  if (a.status !== 429) return undefined;
  const m = a.error?.message ?? '';
  if (/access token may make/.test(m)) return 'token';
  if (/across all their tokens and clients/.test(m)) return 'person';
  return 'other';
}

/** RateLimit: limit=…, remaining=… of an answer. */
function rateLimit(a: RpcAnswer): { limit: number; remaining: number } | undefined {
  const m = /limit=(\d+), remaining=(\d+)/.exec(a.headers.get('ratelimit') ?? '');
  return m ? { limit: Number(m[1]), remaining: Number(m[2]) } : undefined;
}

/** Calls on one token until the first 429 (a few at a time): how many were accepted, and the refusal. */
async function spendUntilRefused(send: () => Promise<RpcAnswer>, max = 3000): Promise<{ accepted: number; refusal: RpcAnswer | undefined; other: number }> {
  let accepted = 0;
  let other = 0;
  let sent = 0;
  let refusal: RpcAnswer | undefined;
  const worker = async () => {
    while (!refusal && sent < max) {
      sent++;
      const a = await send();
      if (a.status === 200) accepted++;
      else if (a.status === 429) refusal ??= a;
      else other++;
    }
  };
  await Promise.all(Array.from({ length: 4 }, worker));
  return { accepted, refusal, other };
}

export const a9: AttackRow = {
  id: 'A9',
  title: 'noisy neighbour: refused calls flood a tenant; one token spends the budget others share',
  expected: 'a refused call spends no other budget; customer traffic cannot starve the tenant\'s staff; one subject gets a bounded share',
  flood: true,
  async run(ctx) {
    const erin = demoLogin(CANARY, 'customer');
    const staff = demoLogin(CANARY, 'supply_chain_manager');
    const person = probePerson(ctx);
    if (!erin || !staff || !person) return notApplicable('needs the demo tenants (canary, with its customer endpoint off, and a second customer of the other tenant)');
    const c = new Checks();
    // 1. The canary tenant is in phase 1: its customer endpoint is off, every call is refused.
    const customerUrl = ctx.customerUrl(CANARY);
    const customer = await tokensFor(ctx, 'customer', CANARY, erin);
    const staffUrl = ctx.internalUrl(CANARY);
    const staffTokens = staffUrl ? await tokensFor(ctx, 'internal', CANARY, staff) : undefined;
    const staffCall = (t: string) => rpc(ctx.http, staffUrl!, t, 'tools/call', { name: 'low_stock', arguments: {} });
    const before = staffTokens ? await staffCall(staffTokens.access_token) : undefined;
    const statuses = new Map<number, number>();
    let next = 0;
    await Promise.all(Array.from({ length: 8 }, async () => {
      while (next++ < 400) {
        const a = await read(ctx, customerUrl, customer.access_token);
        statuses.set(a.status, (statuses.get(a.status) ?? 0) + 1);
      }
    }));
    const seen = [...statuses].map(([k, v]) => `${v}×${k}`).join(' ');
    c.expect('400 calls to a customer endpoint that is not enabled: all refused as such, none spends a budget (no 429)',
      statuses.get(403) === 400, seen);
    if (staffTokens && before) {
      const after = await staffCall(staffTokens.access_token);
      const b = rateLimit(before);
      const a = rateLimit(after);
      c.expect('canary staff after the customer flood: served, with the same budget less their own one call',
        before.status === 200 && after.status === 200 && b !== undefined && a !== undefined && a.remaining === b.remaining - 1,
        `before ${before.status} ${before.headers.get('ratelimit')}; after ${after.status} ${after.headers.get('ratelimit')}`);
    } else c.note('no --internal URL: canary staff not checked');

    // 2. Calls refused by a token's own budget spend nothing of the person's: new tokens of one
    // person until the person's budget is the tightest, then more refused calls on a spent token
    // must leave exactly what was left.
    const url = ctx.customerUrl(ctx.options.otherTenant);
    let tokenLimit: number | undefined;
    let measured = false;
    const spentTokens: string[] = [];
    for (let k = 0; k < 12; k++) {
      const t = await tokensFor(ctx, 'customer', ctx.options.otherTenant, person);
      const first = await read(ctx, url, t.access_token);
      if (refusedBy(first) === 'person') {
        measured = true;
        c.note(`${person.login}'s budget was already spent (a run less than a window ago): refused calls not measured`);
        c.expect('a new token of a person whose budget is spent is refused by the person\'s budget', true, short(first.error?.message, 120));
        break;
      }
      const rl = rateLimit(first);
      if (first.status !== 200 || !rl) {
        measured = true;
        c.expect('a call within the budgets is served with RateLimit headers', false, `${first.status} ${short(first.text, 120)}`);
        break;
      }
      tokenLimit ??= rl.limit;
      if (rl.limit !== tokenLimit && spentTokens.length) {
        // The person's budget is now the tightest: rl.remaining is what the person has left.
        measured = true;
        let refusedAgain = 0;
        for (let i = 0; i < 50; i++) if (refusedBy(await read(ctx, url, spentTokens[i % spentTokens.length]!)) === 'token') refusedAgain++;
        c.expect('50 more calls on tokens over their own budget: all refused by the token budget', refusedAgain === 50, `${refusedAgain}/50`);
        const rest = await spendUntilRefused(() => read(ctx, url, t.access_token));
        c.expect('those refused calls spent none of the person\'s budget: exactly what was left is still accepted',
          rest.accepted === rl.remaining && rest.other === 0, `left ${rl.remaining} (limit ${rl.limit}), then accepted ${rest.accepted}`);
        c.expect('the next call is refused by the person\'s budget, across all their tokens and clients',
          rest.refusal !== undefined && refusedBy(rest.refusal) === 'person' && Boolean(rest.refusal.headers.get('retry-after')),
          short(rest.refusal?.error?.message, 140));
        break;
      }
      const spent = await spendUntilRefused(() => read(ctx, url, t.access_token));
      if (spent.refusal && refusedBy(spent.refusal) === 'token') {
        spentTokens.push(t.access_token);
        continue;
      }
      measured = true;
      if (spent.refusal && refusedBy(spent.refusal) === 'person' && spentTokens.length === 0) {
        c.note(`${person.login} had less left than one token's budget (a run less than a window ago): refused calls not measured`);
        c.expect('the refusal names the person\'s budget, with Retry-After', Boolean(spent.refusal.headers.get('retry-after')), short(spent.refusal.error?.message, 120));
        break;
      }
      c.expect('a token is refused first by its own budget, then the person\'s', false, `${spent.accepted} accepted; ${short(spent.refusal?.error?.message ?? spent.refusal?.text, 120)}`);
      break;
    }
    c.note('the bound on one person\'s share of the client and tenant budgets is server configuration (RATE_LIMIT_SUBJECT_SHARE_PERCENT), tested at and one over in test/ratelimit/shared-budgets.test.ts');
    if (!measured) c.expect('within 12 new tokens, the person\'s own budget becomes the one that limits them', false, `${spentTokens.length} tokens each spent only their own budget`);
    return c.result();
  },
};

export const a10: AttackRow = {
  id: 'A10',
  title: 'budget multiplication: refresh, new authorizations, a second client',
  expected: 'budgets also per subject (person) across all their tokens and clients',
  flood: true,
  async run(ctx) {
    const person = probePerson(ctx);
    if (!person) return notApplicable('needs the demo tenants (a second customer of the other tenant)');
    const c = new Checks();
    const slug = ctx.options.otherTenant;
    const url = ctx.customerUrl(slug);
    // Spend the person's budget: new token families until a refusal names the person's budget.
    let last: Awaited<ReturnType<typeof tokensFor>> | undefined;
    let accepted = 0;
    let refusal: RpcAnswer | undefined;
    for (let k = 0; k < 12 && !refusal; k++) {
      last = await tokensFor(ctx, 'customer', slug, person);
      const spent = await spendUntilRefused(() => read(ctx, url, last!.access_token));
      accepted += spent.accepted;
      if (spent.refusal && refusedBy(spent.refusal) !== 'token') refusal = spent.refusal;
      else if (!spent.refusal) break;
    }
    if (!c.expect('new token families of one person end at the person\'s budget', refusal !== undefined && refusedBy(refusal) === 'person',
      `${accepted} accepted; ${short(refusal?.error?.message, 140)}`) || !last) return c.result();
    // A refreshed token (rotation) brings no new budget.
    if (last.refresh_token) {
      const r = await refresh(ctx.http, last.request.discovery.as, last.request.clientId, last.refresh_token);
      const renewed = typeof r.body.access_token === 'string' ? await read(ctx, url, r.body.access_token) : undefined;
      c.expect('a refreshed access token: refused by the person\'s budget', renewed !== undefined && refusedBy(renewed) === 'person',
        renewed ? `${renewed.status} ${short(renewed.error?.message, 100)}` : `refresh answered ${r.status}`);
    } else c.note('no refresh token issued: refresh not tried');
    const again = await tokensFor(ctx, 'customer', slug, person);
    const fresh = await read(ctx, url, again.access_token);
    c.expect('a new authorization: refused by the person\'s budget', refusedBy(fresh) === 'person', `${fresh.status} ${short(fresh.error?.message, 100)}`);
    const other = await tokensFor(ctx, 'customer', slug, person, 'budgets-second-client');
    const viaOther = await read(ctx, url, other.access_token);
    c.expect('a second client of the same person: refused by the person\'s budget', refusedBy(viaOther) === 'person', `${viaOther.status} ${short(viaOther.error?.message, 100)}`);
    // Another customer of the same tenant and client is served.
    const neighbour = await read(ctx, url, await ctx.accessToken('otherTenantCustomer'));
    c.expect('another customer of the same tenant is served', neighbour.status === 200, `${neighbour.status} ${short(neighbour.error?.message, 100)}`);
    return c.result();
  },
};
