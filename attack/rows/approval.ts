// A6: four-eyes approval in the console (docs/DESIGN.md §1): an approver cannot approve their own
// action; expired or rejected actions cannot be approved; a replayed approval form is refused.
//
// Driven end to end through the deployment's own interfaces: staff member X (--staff) asks for
// price changes through the internal MCP endpoint (change_price has no guardrail, so it always
// waits), and X and the approver Y (--approver) sign in to the console on the internal listener
// (/console/t/<slug>) like a browser. The price changes are one to four cents on one product, and
// the one that is approved is set back (another change, approved by Y) before the row ends; every
// action the row leaves undecided is withdrawn by X. Expiry (72 h) cannot be brought about from
// outside: with --database-url the row moves its own action's expiry into the past, otherwise that
// sub-check is reported as not exercised.
import type { AttackContext } from '../context.js';
import { Browser, csrfOf, pageText } from '../http.js';
import { callTool, rpc } from '../mcp.js';
import { Checks, notApplicable, SetupError, type AttackRow } from '../types.js';
import { short } from './common.js';

interface Page {
  status: number;
  html: string;
  location: string | null;
}

/** One staff member's console session, as a browser would hold it (also used by the A7/A8 rows to withdraw). */
export class ConsoleSession {
  private constructor(readonly browser: Browser, readonly base: string, readonly login: string) {}

  static async signIn(ctx: AttackContext, who: 'staff' | 'approver' | 'returns'): Promise<ConsoleSession> {
    const internal = ctx.options.internal!;
    const base = `${internal}/console/t/${ctx.options.tenant}`;
    const browser = new Browser(ctx.http, new URL(internal).origin);
    const s = new ConsoleSession(browser, base, ctx.credentials(who).login);
    const form = await s.get('/login');
    const csrf = csrfOf(form.html);
    if (form.status !== 200 || !csrf) throw new SetupError(`console sign-in page ${base}/login answered ${form.status}${csrf ? '' : ' without a form token'}`);
    const { login, password } = ctx.credentials(who);
    const res = await s.post('/login', { csrf, email: login, password });
    if (res.status !== 303) throw new SetupError(`console sign-in as ${login} answered ${res.status}: ${short(pageText(res.html), 120)}`);
    return s;
  }

  async get(path = ''): Promise<Page> {
    const res = await this.browser.fetch(`${this.base}${path}`);
    return { status: res.status, html: await res.text(), location: res.headers.get('location') };
  }

  async post(path: string, form: Record<string, string>): Promise<Page> {
    const res = await this.browser.post(`${this.base}${path}`, form);
    return { status: res.status, html: await res.text(), location: res.headers.get('location') };
  }

  decide(actionId: string, csrf: string, decision: 'approve' | 'reject', reason: string): Promise<Page> {
    return this.post(`/actions/${actionId}`, { csrf, decision, reason });
  }

  /** The action's card on the pending list (undefined when it is not listed). */
  async card(actionId: string): Promise<{ status: number; section: string | undefined }> {
    const page = await this.get();
    const at = page.html.indexOf(`id="action-${actionId}"`);
    if (page.status !== 200 || at < 0) return { status: page.status, section: undefined };
    const end = page.html.indexOf('</section>', at);
    return { status: page.status, section: page.html.slice(at, end < 0 ? undefined : end) };
  }
}

const describe = (p: Page) => p.location
  ? `${p.status} → ${p.location}`
  : `${p.status} ${short(pageText(p.html).replace(/^Approval console\s*/, '').replace(/\s*Back to the pending actions$/, ''), 110)}`;

export const a6: AttackRow = {
  id: 'A6',
  title: 'approver approves own action; approval of an expired/rejected action; replayed approval form',
  expected: 'refused',
  async run(ctx) {
    const internal = ctx.internalUrl();
    if (!internal || !ctx.options.internal) return notApplicable('internal listener not given (--internal): the approval console lives there');
    const probe = await ctx.http.fetch(`${ctx.options.internal}/console/t/${ctx.options.tenant}/login`);
    await probe.arrayBuffer();
    if (probe.status === 404) return notApplicable(`no approval console at ${ctx.options.internal}/console/t/${ctx.options.tenant}/login (404)`);
    const c = new Checks();
    const staff = await ctx.accessToken('staff');
    const tag = `attack suite A6 ${ctx.runId}`;

    // Fixture: an active product with a current price, read through the staff endpoint.
    const readJson = async (uri: string): Promise<Record<string, unknown> | undefined> => {
      const r = await rpc(ctx.http, internal, staff, 'resources/read', { uri });
      const text = (r.result?.contents as { text?: string }[] | undefined)?.[0]?.text;
      try { return text ? (JSON.parse(text) as Record<string, unknown>) : undefined; } catch { return undefined; }
    };
    const currentPrice = async (sku: string): Promise<{ current: number | undefined; history: { amount_cents: number; valid_from: string; valid_to: string | null }[] }> => {
      const h = ((await readJson(`ops://prices/${sku}`))?.prices ?? []) as { amount_cents: number; valid_from: string; valid_to: string | null }[];
      return { current: h.find((p) => p.valid_to === null)?.amount_cents, history: h };
    };
    const stock = ((await readJson('ops://stock'))?.stock ?? []) as { sku: string }[];
    // From the end of the catalogue: away from the products the customer rows order.
    const skus = [...new Set(stock.map((s) => s.sku))].reverse();

    const requested: { id: string; label: string }[] = [];
    const requestChange = async (sku: string, cents: number, label: string, note = label) => {
      // The run puts the price list back as it found it, whatever this row manages to set back itself.
      ctx.created.add({ kind: 'price', tenant: ctx.options.tenant, sku });
      const a = await callTool(ctx.http, internal, staff, 'change_price', {
        sku, new_price_cents: cents, reason: `${tag}: ${note}`, idempotency_key: `attack-${ctx.runId}-a6-${label}`,
      });
      const id = a.structured?.action_id as string | undefined;
      if (id && a.structured?.status === 'pending') requested.push({ id, label });
      const status = a.structured?.status as string | undefined;
      return { answer: a, id, status, said: id ? `${status} (action ${id})` : short(a.content, 100) };
    };
    const status = async (id: string) => {
      const s = await callTool(ctx.http, internal, staff, 'get_action_status', { action_id: id });
      return s.structured as { status?: string; executed_at?: string | null; decided_by?: { name: string } | null; result?: Record<string, unknown> | null } | undefined;
    };

    // Find a product whose price X may change (the first request shows it): action 1, X's own.
    let sku: string | undefined;
    let base: number | undefined;
    let own: string | undefined;
    for (const candidate of skus.slice(0, 5)) {
      const p = await currentPrice(candidate);
      if (p.current === undefined) continue;
      const r = await requestChange(candidate, p.current + 1, 'own');
      if (r.id && r.status === 'pending') { sku = candidate; base = p.current; own = r.id; break; }
      c.note(`change_price ${candidate} not usable: ${short(r.answer.content, 80)}`);
    }
    if (!c.expect('fixtures: X (staff) gets a pending change_price through the MCP write tool', Boolean(sku && own), sku ? `${sku} ${base} → ${base! + 1}: action ${own}` : `none of ${skus.slice(0, 5).join(', ') || 'no SKUs'} (token scope or product state)`)) {
      return c.result();
    }
    const x = await ConsoleSession.signIn(ctx, 'staff');
    const y = await ConsoleSession.signIn(ctx, 'approver');
    let changed = false;
    const seen: string[] = [];
    try {
      // (1) X cannot approve X's own action: no approve button, and a forged approve with X's own form token is refused.
      const mine = await x.card(own!);
      const noButton = c.expect('X sees own action without an approve button', Boolean(mine.section) && !mine.section!.includes('value="approve"'),
        mine.section ? (mine.section.includes('value="approve"') ? 'approve button shown to the requester' : 'no approve button') : `action not on X's pending list (${mine.status})`);
      const xToken = mine.section ? csrfOf(mine.section) : undefined;
      if (xToken) {
        const forged = await x.decide(own!, xToken, 'approve', 'self-approval attempt');
        c.expect('forged approve by the requester (valid form token) refused', forged.status === 403 || forged.status === 409, describe(forged));
        seen.push(`own action: ${noButton ? 'no approve button' : 'APPROVE BUTTON SHOWN'}, forged approve ${forged.status}`);
        const still = (await status(own!))?.status;
        c.expect('own action still pending', still === 'pending', String(still));
        // The same token withdraws it: the refusal above was four-eyes, not a bad token (and it cleans up).
        const withdrawn = await x.decide(own!, xToken, 'reject', `${tag}: withdrawn`);
        c.expect('the same form withdraws it (the token was good)', withdrawn.status === 303, describe(withdrawn));
      } else {
        c.expect('X has a form (withdraw) on own action', false, 'no form token on the card');
      }

      // (2) Y rejects action 2, then replays the approve form fetched before the rejection.
      const second = await requestChange(sku!, base! + 2, 'rejected');
      if (c.expect('second pending action', Boolean(second.id) && second.status === 'pending', second.said)) {
        const card = await y.card(second.id!);
        const token = card.section ? csrfOf(card.section) : undefined;
        c.expect('Y (approver) sees an approve button', Boolean(card.section?.includes('value="approve"')), card.section ? 'shown' : `not listed (${card.status})`);
        if (token) {
          const rejected = await y.decide(second.id!, token, 'reject', `${tag}: rejected`);
          c.expect('Y rejects it', rejected.status === 303, describe(rejected));
          const replay = await y.decide(second.id!, token, 'approve', 'approve after rejection');
          c.expect('approve of the rejected action (form from before) refused', replay.status === 409 || replay.status === 403, describe(replay));
          seen.push(`approve after reject ${replay.status}`);
          const after = await status(second.id!);
          c.expect('rejected action stays rejected, never ran', after?.status === 'rejected' && !after.executed_at, `${after?.status} executed_at=${after?.executed_at ?? null}`);
        }
      }

      // (3) Y approves action 3, then replays the same form; it ran exactly once.
      const third = await requestChange(sku!, base! + 3, 'approved');
      if (c.expect('third pending action', Boolean(third.id) && third.status === 'pending', third.said)) {
        const card = await y.card(third.id!);
        const token = card.section ? csrfOf(card.section) : undefined;
        if (c.expect('Y has an approval form for it', Boolean(token), card.section ? 'form token' : `not listed (${card.status})`)) {
          const at = (h: { amount_cents: number }[]) => h.filter((p) => p.amount_cents === base! + 3).length;
          const rowsBefore = at((await currentPrice(sku!)).history);
          const approved = await y.decide(third.id!, token!, 'approve', `${tag}: approved`);
          changed = approved.status === 303;
          c.expect('Y approves it (303, executed)', changed && /done=executed/.test(approved.location ?? ''), describe(approved));
          const first = await status(third.id!);
          const replay = await y.decide(third.id!, token!, 'approve', `${tag}: approved`);
          c.expect('replayed approval form refused (409)', replay.status === 409, describe(replay));
          seen.push(`replayed approval ${replay.status}`);
          const replayReject = await y.decide(third.id!, token!, 'reject', 'reject after approval');
          c.expect('replayed form as a rejection refused', replayReject.status === 409 || replayReject.status === 403, describe(replayReject));
          const after = await status(third.id!);
          c.expect('get_action_status: executed once (executed_at unchanged by the replays)',
            first?.status === 'executed' && after?.status === 'executed' && Boolean(first.executed_at) && after.executed_at === first.executed_at,
            `${first?.status} at ${first?.executed_at ?? null} → ${after?.status} at ${after?.executed_at ?? null}, decided by ${after?.decided_by?.name ?? '—'}`);
          const prices = await currentPrice(sku!);
          const added = at(prices.history) - rowsBefore;
          seen.push(`executed once (${after?.status}, one price row)`);
          c.expect('price history: the new price set once', prices.current === base! + 3 && added === 1, `current ${prices.current}, ${added} new row(s) at ${base! + 3}`);
        }
      }

      // (4) Expiry: only the deployment's clock (72 h) or its operator can expire an action.
      if (ctx.database) {
        const fourth = await requestChange(sku!, base! + 4, 'expired');
        if (c.expect('fourth pending action', Boolean(fourth.id) && fourth.status === 'pending', fourth.said)) {
          const card = await y.card(fourth.id!);
          const token = card.section ? csrfOf(card.section) : undefined;
          if (c.expect('Y has an approval form for the action that will expire', Boolean(token), card.section ? 'form token' : `not listed (${card.status})`)) {
            const moved = await ctx.database.owner`
              update pending_actions set expires_at = now() - interval '1 second' where id = ${fourth.id!} and status = 'pending'`;
            const late = await y.decide(fourth.id!, token!, 'approve', 'approve after expiry');
            seen.push(`approve after expiry ${late.status}`);
            c.expect('approve of the expired action refused', moved.count === 1 && (late.status === 409 || late.status === 403), `${describe(late)}${moved.count === 1 ? '' : ' (expiry not set)'}`);
            const after = await status(fourth.id!);
            c.expect('expired action never ran', after?.status === 'expired' && !after.executed_at, `${after?.status} executed_at=${after?.executed_at ?? null}`);
          }
        }
        c.note('expiry simulated: the row moved its own action\'s expires_at into the past through --database-url (nothing outside can expire an action before 72 h)');
      } else {
        c.note('expired action NOT exercised: actions expire after 72 h and nothing outside the deployment can expire one (give --database-url for a local deployment)');
      }
    } finally {
      // Leave nothing behind: withdraw what still waits, set the price back if it changed.
      const withdraw = async (id: string | undefined) => {
        if (!id || (await status(id))?.status !== 'pending') return;
        const card = await x.card(id);
        const token = card.section ? csrfOf(card.section) : undefined;
        if (token) await x.decide(id, token, 'reject', `${tag}: clean-up`);
      };
      for (const { id } of requested) await withdraw(id);
      const now = await currentPrice(sku!);
      if (now.current !== undefined && now.current !== base) {
        const restore = await requestChange(sku!, base!, 'restore', `set back to ${base}`);
        const card = restore.id && restore.status === 'pending' ? await y.card(restore.id) : undefined;
        const token = card?.section ? csrfOf(card.section) : undefined;
        const done = token ? await y.decide(restore.id!, token, 'approve', `${tag}: set back`) : undefined;
        if (!done || done.status !== 303) await withdraw(restore.id);
        const back = (await currentPrice(sku!)).current;
        c.expect('clean-up: price set back (change approved by Y)', back === base, `${sku} ${now.current} → ${back}${done ? ` (${done.status})` : ` (${short(restore.answer.content, 80)})`}`);
      } else if (changed) {
        c.expect('clean-up: price set back', now.current === base, `${sku} now ${now.current}`);
      }
    }
    c.notes.unshift(seen.join(', '));
    return c.result();
  },
};
