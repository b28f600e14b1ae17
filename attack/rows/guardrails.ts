// A7, A8: guardrails that cannot be walked around (docs/DESIGN.md §1, "Human in the loop").
//
// A7 — splitting. As a returns specialist (--returns, no approver rights) the row finds an order with
// a captured, unrefunded payment of at least 200.00 and fires four refunds of 50.00 (the demo's
// per-action limit) on it at once, varying only the reason: at most one may run, the others must
// wait, each saying which limit made it wait. A8 — the requester's own numbers. As the supply
// manager (--staff) the row asks for 100 units of the shop's most expensive stocked product at a
// unit cost of 1 cent: the value must be measured at the cost on file, so it waits.
//
// Clean-up: every action left waiting is withdrawn by its requester in the approval console. One
// refund of 50.00 may run on the chosen order (that is the secure outcome the row cannot undo); a
// re-run picks another order.
import type { AttackContext } from '../context.js';
import { csrfOf } from '../http.js';
import { callTool, rpc, type ToolAnswer } from '../mcp.js';
import { Checks, notApplicable, type AttackRow } from '../types.js';
import { ConsoleSession } from './approval.js';
import { short } from './common.js';

interface Outcome { status?: string; action_id?: string; reason?: string; message?: string }

const outcomeOf = (a: ToolAnswer): Outcome => (a.structured ?? {}) as Outcome;

/** Withdraws the requester's own pending actions through the console; returns what could not be withdrawn. */
async function withdraw(ctx: AttackContext, who: 'staff' | 'returns', ids: string[], tag: string): Promise<string[]> {
  if (ids.length === 0) return [];
  let session: ConsoleSession;
  try {
    session = await ConsoleSession.signIn(ctx, who);
  } catch {
    return ids;
  }
  const left: string[] = [];
  for (const id of ids) {
    const card = await session.card(id);
    const token = card.section ? csrfOf(card.section) : undefined;
    const done = token ? await session.decide(id, token, 'reject', `${tag}: clean-up`) : undefined;
    if (done?.status !== 303) left.push(id);
  }
  return left;
}

async function readJson(ctx: AttackContext, url: string, token: string, uri: string): Promise<Record<string, unknown> | undefined> {
  const r = await rpc(ctx.http, url, token, 'resources/read', { uri });
  const text = (r.result?.contents as { text?: string }[] | undefined)?.[0]?.text;
  try { return text ? (JSON.parse(text) as Record<string, unknown>) : undefined; } catch { return undefined; }
}

export const a7: AttackRow = {
  id: 'A7',
  title: 'guardrail splitting: many actions, each under the per-action limit, for the same order, customer, SKU or day',
  expected: 'limits also hold in aggregate over a window; what would exceed them waits for approval',
  async run(ctx) {
    const internal = ctx.internalUrl();
    if (!internal || !ctx.options.internal) return notApplicable('internal listener not given (--internal): the staff write tools live there');
    if (!ctx.options.credentials.returns) return notApplicable('no returns specialist given (--returns)');
    const c = new Checks();
    const token = await ctx.accessToken('returns');
    const tag = `attack suite A7 ${ctx.runId}`;

    // Fixture: an order whose payment is captured, nothing refunded, at least 200.00 (four × 50.00).
    const search = await callTool(ctx.http, internal, token, 'search_orders', { status: 'delivered', limit: 50 });
    const orders = ((search.structured?.orders ?? []) as { order_number: string }[]).map((o) => o.order_number).reverse();
    let order: string | undefined;
    for (const number of orders.slice(0, 25)) {
      const p = await callTool(ctx.http, internal, token, 'lookup_payment', { order_number: number });
      const pays = (p.structured?.payments ?? []) as { status: string; amount: { amount_cents: number }; refunded: { amount_cents: number } }[];
      if (pays.some((x) => x.status === 'captured' && x.refunded.amount_cents === 0 && x.amount.amount_cents >= 20_000)) { order = number; break; }
    }
    if (!c.expect('fixture: a delivered order with a captured, unrefunded payment of at least 200.00 (search_orders, lookup_payment)', Boolean(order),
      order ?? `none among ${orders.length} delivered orders (${short(search.content, 80)})`)) return c.result();

    const reasons = ['damaged on arrival', 'late delivery', 'goodwill', 'wrong colour'];
    const answers = await Promise.all(reasons.map((reason, i) => callTool(ctx.http, internal, token, 'issue_refund', {
      order_number: order, amount_cents: 5_000, reason: `${tag}: ${reason}`, idempotency_key: `attack-${ctx.runId}-a7-${i}`,
    })));
    const outcomes = answers.map(outcomeOf);
    const executed = outcomes.filter((o) => o.status === 'executed');
    const pending = outcomes.filter((o) => o.status === 'pending');
    try {
      c.expect('four 50.00 refunds on one order at once: at most one runs', executed.length <= 1,
        `${executed.length} executed, ${pending.length} pending${answers.some((a) => a.isError) ? `, refused: ${short(answers.find((a) => a.isError)!.content, 80)}` : ''}`);
      c.expect('the rest wait for approval', pending.length >= 3, outcomes.map((o) => o.status ?? 'error').join(', '));
      const unnamed = pending.filter((o) => !/limit|\(per_|phase 1|no guardrail/.test(o.reason ?? ''));
      c.expect('each waiting answer says which limit made it wait', pending.length > 0 && unnamed.length === 0,
        short(pending.map((o) => o.reason ?? '(no reason)').filter((r, i, all) => all.indexOf(r) === i).join(' | '), 200));
      const first = pending[0]?.action_id;
      if (first) {
        const s = await callTool(ctx.http, internal, token, 'get_action_status', { action_id: first });
        const stored = s.structured?.wait_reason as string | undefined;
        c.expect('get_action_status keeps the reason with the action', Boolean(stored) && stored === pending[0]!.reason, short(stored ?? s.content, 120));
      }
    } finally {
      const left = await withdraw(ctx, 'returns', pending.map((o) => o.action_id!).filter(Boolean), tag);
      c.expect('clean-up: the waiting refunds withdrawn by their requester (console)', left.length === 0, left.length ? `still pending: ${left.join(', ')}` : `${pending.length} withdrawn`);
    }
    c.notes.unshift(`order ${order}: ${outcomes.map((o) => o.status ?? 'error').join(', ')}`);
    return c.result();
  },
};

export const a8: AttackRow = {
  id: 'A8',
  title: 'guardrail measured on the requester\'s own numbers (a unit cost, a basis amount passed as an argument)',
  expected: 'the measure comes from the platform\'s data (catalogue or supplier cost, amount paid, price list); an argument can only make the measure larger',
  async run(ctx) {
    const internal = ctx.internalUrl();
    if (!internal || !ctx.options.internal) return notApplicable('internal listener not given (--internal): the staff write tools live there');
    const c = new Checks();
    const token = await ctx.accessToken('staff');
    const tag = `attack suite A8 ${ctx.runId}`;

    // Fixture: the shop's most expensive stocked products (their cost on file makes 100 units worth most).
    const stock = ((await readJson(ctx, internal, token, 'ops://stock'))?.stock ?? []) as { sku: string; warehouse: string }[];
    const skus = [...new Set(stock.map((s) => s.sku))].slice(0, 40);
    const priced: { sku: string; cents: number }[] = [];
    for (const sku of skus) {
      const h = ((await readJson(ctx, internal, token, `ops://prices/${sku}`))?.prices ?? []) as { amount_cents: number; valid_to: string | null }[];
      const current = h.find((p) => p.valid_to === null)?.amount_cents;
      if (current !== undefined) priced.push({ sku, cents: current });
    }
    priced.sort((a, b) => b.cents - a.cents);
    if (!c.expect('fixture: stocked products with a current price (ops://stock, ops://prices)', priced.length > 0, `${priced.length} of ${skus.length}`)) return c.result();

    let supplier = 'Nordic Gear AB';
    let answer: ToolAnswer | undefined;
    let tried = '';
    outer: for (const p of priced.slice(0, 3)) {
      for (const warehouse of stock.filter((s) => s.sku === p.sku).map((s) => s.warehouse)) {
        const ask = () => callTool(ctx.http, internal, token, 'create_reorder', {
          sku: p.sku, warehouse_code: warehouse, supplier, quantity: 100, unit_cost_cents: 1,
          justification: `${tag}: priced at one cent a unit`, idempotency_key: `attack-${ctx.runId}-a8-${p.sku}-${warehouse}`,
        });
        let a = await ask();
        const known = /no supplier named .*: use one of ([^,]+)/.exec(a.content);
        if (a.isError && known) { supplier = known[1]!.trim(); a = await ask(); }
        tried = `${p.sku} (list price ${(p.cents / 100).toFixed(2)}) to ${warehouse}`;
        if (!a.isError) { answer = a; break outer; }
        c.note(`${tried} not reorderable: ${short(a.content, 80)}`);
      }
    }
    if (!c.expect('fixture: a reorder the supply manager may request', Boolean(answer), tried || 'no candidate')) return c.result();
    const o = outcomeOf(answer!);
    try {
      c.expect('100 units at a claimed unit cost of 0.01 are valued at the cost on file: the reorder waits', o.status === 'pending',
        `${tried}: ${o.status}${o.status === 'executed' ? ' — a purchase order of 1.00 ran at once' : ''}`);
      c.expect('the waiting answer names the value limit, measured above the claimed 1.00', o.status !== 'pending' || /value|could not be measured/.test(o.reason ?? ''),
        short(o.reason ?? o.message ?? answer!.content, 160));
    } finally {
      const left = o.status === 'pending' && o.action_id ? await withdraw(ctx, 'staff', [o.action_id], tag) : [];
      c.expect('clean-up: the waiting reorder withdrawn by its requester (console)', left.length === 0, left.length ? `still pending: ${left.join(', ')}` : 'nothing left waiting');
    }
    return c.result();
  },
};
