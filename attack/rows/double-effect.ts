// A5, F4: a write happens exactly once. Parallel duplicates with one idempotency key return the one
// result; the same key with other arguments is an error; a retry after a dropped connection returns
// the original result (docs/DESIGN.md §1, §7 "Nothing lost"). On MCP 2026-07-28 the in-band
// confirmation (MRTR) holds the same: an altered, moved or foreign requestState is refused, and the
// accepted retry sent twice places one order.
import type { AttackContext, Persona } from '../context.js';
import { callTool, mustCall, rpc, type RpcAnswer, type ToolAnswer } from '../mcp.js';
import { Checks, type AttackRow } from '../types.js';
import { short, sleep } from './common.js';
import { orderableSku, returnableLine, returnableQuantity } from './customer-data.js';

async function confirmation(ctx: AttackContext, tool: string, args: Record<string, unknown>, who: Persona = 'customer'): Promise<string | undefined> {
  const first = await callTool(ctx.http, ctx.customerUrl(ctx.tenantOf(who)), await ctx.accessToken(who), tool, args);
  return first.structured?.confirmation_token as string | undefined;
}

const number = (a: ToolAnswer, key: string) => (a.structured?.[key] as string | undefined) ?? `(error: ${short(a.content, 80)})`;

/** A 2026-07-28 tools/call declaring form elicitation (the `_meta` envelope and its headers), with MRTR retry fields. */
function modernCall(ctx: AttackContext, url: string, token: string, name: string, args: Record<string, unknown>, retry: Record<string, unknown> = {}): Promise<RpcAnswer> {
  return rpc(ctx.http, url, token, 'tools/call', {
    name, arguments: args, ...retry,
    _meta: {
      'io.modelcontextprotocol/protocolVersion': '2026-07-28',
      'io.modelcontextprotocol/clientCapabilities': { elicitation: { form: {} } },
      'io.modelcontextprotocol/clientInfo': { name: 'commerce-mcp attack suite', version: '1' },
    },
  }, { 'mcp-protocol-version': '2026-07-28', 'mcp-method': 'tools/call', 'mcp-name': name });
}
const ACCEPT = { confirm: { action: 'accept', content: { confirm: true } } };

/** A5 through MRTR (2026-07-28): the requestState cannot be altered, moved to other arguments or replayed into a second order. */
async function inBandOrder(ctx: AttackContext, c: Checks): Promise<void> {
  const url = ctx.customerUrl();
  const token = await ctx.accessToken('customer');
  const sku = await orderableSku(ctx, 'customer');
  if (!c.expect('MRTR fixtures: an orderable SKU exists', Boolean(sku), sku ?? 'none')) return;
  const orders = async () => ((await mustCall(ctx.http, url, token, 'list_orders', { limit: 50 })).orders as unknown[]).length;
  ctx.created.add({ kind: 'cart', tenant: ctx.tenantOf('customer'), login: ctx.credentials('customer').login });
  await mustCall(ctx.http, url, token, 'add_to_cart', { sku: sku!, quantity: 1 });
  const args = { idempotency_key: `attack-${ctx.runId}-a5-mrtr` };
  const asked = await modernCall(ctx, url, token, 'place_order', args);
  const state = asked.result?.requestState as string | undefined;
  if (!c.expect('MRTR: the first call asks (input_required with a requestState)', asked.result?.resultType === 'input_required' && Boolean(state),
    short(asked.text, 120))) return;
  const before = await orders();
  // One character of the MAC changed (the last one may carry only unused bits: take the one before).
  const at = state!.length - 2;
  const flipped = state!.slice(0, at) + (state![at] === 'A' ? 'B' : 'A') + state!.slice(at + 1);
  const tampered = await modernCall(ctx, url, token, 'place_order', args, { requestState: flipped, inputResponses: ACCEPT });
  c.expect('MRTR: an altered requestState is refused', Boolean((tampered.result as { isError?: boolean } | undefined)?.isError), short(tampered.text, 100));
  const moved = await modernCall(ctx, url, token, 'place_order', { ...args, note: 'attack: other arguments' }, { requestState: state, inputResponses: ACCEPT });
  c.expect('MRTR: the state on other arguments is refused', Boolean((moved.result as { isError?: boolean } | undefined)?.isError), short(moved.text, 100));
  const other = await ctx.accessToken('otherCustomer');
  const foreign = await modernCall(ctx, ctx.customerUrl(ctx.tenantOf('otherCustomer')), other, 'place_order', args, { requestState: state, inputResponses: ACCEPT });
  c.expect('MRTR: another customer\'s use of the state is refused', foreign.status !== 200 || Boolean((foreign.result as { isError?: boolean } | undefined)?.isError), short(foreign.text, 100));
  c.expect('MRTR: nothing ordered by the refused retries', (await orders()) === before, `${before} → ${await orders()}`);
  const done = await Promise.all([0, 1].map(() => modernCall(ctx, url, token, 'place_order', args, { requestState: state, inputResponses: ACCEPT })));
  const numbers = done.map((d) => ((d.result?.structuredContent as Record<string, unknown> | undefined)?.order_number as string | undefined) ?? `(error: ${short(d.text, 60)})`);
  // Raw 2026-07-28 calls pass the plumbing's recording by: the order they placed is recorded here.
  for (const d of done) {
    const number = (d.result?.structuredContent as Record<string, unknown> | undefined)?.order_number;
    if (typeof number === 'string') ctx.created.add({ kind: 'order', tenant: ctx.tenantOf('customer'), number });
  }
  c.expect('MRTR: the accepted retry, sent twice, places one order', numbers.every((n) => n === numbers[0] && !n.startsWith('(error')), numbers.join(', '));
  const after = await orders();
  c.expect('MRTR: exactly one order more', after === Math.min(before + 1, 50), `${before} → ${after}`);
}

export const a5: AttackRow = {
  id: 'A5',
  title: 'double or parallel return/order for the same thing; retry with the same idempotency key',
  expected: 'exactly one effect; same key + different arguments is an error',
  async run(ctx) {
    const c = new Checks();
    const url = ctx.customerUrl();
    const token = await ctx.accessToken('customer');
    // Returns: one returnable line, three parallel confirmed calls with one key. Each run uses up a
    // line, so a re-run against the same data falls back to the second customer persona.
    let returner: Persona = 'customer';
    let line = await returnableLine(ctx, returner);
    if (!line) line = await returnableLine(ctx, (returner = 'otherCustomer'));
    const rUrl = ctx.customerUrl(ctx.tenantOf(returner));
    const rToken = await ctx.accessToken(returner);
    if (c.expect('fixtures: a returnable line exists', Boolean(line), line ? `${returner}: ${line.order_number} line ${line.line_no} ×${line.returnable_quantity}` : 'none left for either customer persona: reseed the deployment or pass other --customer logins')) {
      const args = { order_number: line!.order_number, lines: [{ line_no: line!.line_no, quantity: line!.returnable_quantity }], reason: 'Arrived scratched (attack suite A5)', idempotency_key: `attack-${ctx.runId}-a5-return` };
      const confirm = await confirmation(ctx, 'start_return', args, returner);
      if (c.expect('two-step confirmation issued', Boolean(confirm), confirm ? 'confirmation_token' : 'none')) {
        const parallel = await Promise.all([0, 1, 2].map(() => callTool(ctx.http, rUrl, rToken, 'start_return', { ...args, confirmation_token: confirm })));
        const numbers = parallel.map((a) => number(a, 'return_number'));
        c.expect('parallel duplicates → one return', numbers.every((n) => n === numbers[0] && n.startsWith('RMA')), numbers.join(', '));
        const left = await returnableQuantity(ctx, returner, line!.order_number, line!.line_no);
        c.expect('returnable quantity consumed once', left === 0, `returnable now ${left}`);
        const other = await callTool(ctx.http, rUrl, rToken, 'start_return', { ...args, reason: 'different reason' });
        c.expect('same key + different arguments → error', other.isError && !other.structured?.return_number, short(other.content, 100));
        const again = await callTool(ctx.http, rUrl, rToken, 'start_return', { ...args, idempotency_key: `attack-${ctx.runId}-a5-return2` });
        c.expect('a second return of the same line (new key) is refused', again.isError, short(again.content, 100));
        ctx.shared.set('a5.return', numbers[0]);
      }
    }
    // Orders: the cart with one item, three parallel confirmed place_order calls with one key.
    const sku = await orderableSku(ctx, 'customer');
    if (c.expect('fixtures: an orderable SKU exists', Boolean(sku), sku ?? 'none')) {
      const before = ((await mustCall(ctx.http, url, token, 'list_orders', { limit: 50 })).orders as unknown[]).length;
      ctx.created.add({ kind: 'cart', tenant: ctx.options.tenant, login: ctx.credentials('customer').login });
      await mustCall(ctx.http, url, token, 'add_to_cart', { sku: sku!, quantity: 1 });
      const args = { idempotency_key: `attack-${ctx.runId}-a5-order` };
      const confirm = await confirmation(ctx, 'place_order', args);
      const parallel = await Promise.all([0, 1, 2].map(() => callTool(ctx.http, url, token, 'place_order', { ...args, confirmation_token: confirm })));
      const numbers = parallel.map((a) => number(a, 'order_number'));
      c.expect('parallel duplicates → one order', numbers.every((n) => n === numbers[0] && !n.startsWith('(error')), numbers.join(', '));
      const after = ((await mustCall(ctx.http, url, token, 'list_orders', { limit: 50 })).orders as unknown[]).length;
      c.expect('exactly one order more', after === Math.min(before + 1, 50), `${before} → ${after}`);
      const other = await callTool(ctx.http, url, token, 'place_order', { ...args, note: 'different' });
      c.expect('same key + different arguments → error', other.isError && !other.structured?.order_number, short(other.content, 100));
    }
    await inBandOrder(ctx, c);
    return c.result();
  },
};

export const f4: AttackRow = {
  id: 'F4',
  title: 'client drops the connection after a write, then retries',
  expected: 'the retry returns the original result (idempotency), no duplicate',
  async run(ctx) {
    const c = new Checks();
    const url = ctx.customerUrl();
    const token = await ctx.accessToken('customer');
    const sku = await orderableSku(ctx, 'customer');
    if (!c.expect('fixtures: an orderable SKU exists', Boolean(sku), sku ?? 'none')) return c.result();
    const list = async () => ((await mustCall(ctx.http, url, token, 'list_orders', { limit: 50 })).orders as { order_number: string }[]).map((o) => o.order_number);
    const before = await list();
    ctx.created.add({ kind: 'cart', tenant: ctx.options.tenant, login: ctx.credentials('customer').login });
    await mustCall(ctx.http, url, token, 'add_to_cart', { sku: sku!, quantity: 1 });
    const args = { idempotency_key: `attack-${ctx.runId}-f4` };
    const confirm = await confirmation(ctx, 'place_order', args);
    // Send the confirmed write and hang up without reading the answer.
    const abort = new AbortController();
    const dropped = ctx.http.fetch(url, {
      method: 'POST', signal: abort.signal,
      headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream', authorization: `Bearer ${token}` },
      body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name: 'place_order', arguments: { ...args, confirmation_token: confirm } } }),
    }).catch(() => undefined);
    await sleep(15);
    abort.abort();
    await dropped;
    await sleep(1000);
    const retry = await callTool(ctx.http, url, token, 'place_order', { ...args, confirmation_token: confirm });
    const n1 = number(retry, 'order_number');
    c.expect('retry returns a result', !retry.isError && n1.startsWith('ORD'), `${n1}`);
    const retry2 = await callTool(ctx.http, url, token, 'place_order', { ...args, confirmation_token: confirm });
    c.expect('a second retry returns the same result', number(retry2, 'order_number') === n1, number(retry2, 'order_number'));
    const after = await list();
    const added = after.filter((n) => !before.includes(n));
    c.expect('exactly one order created', added.length === 1 && added[0] === n1, `new orders: ${added.join(', ') || 'none'}`);
    return c.result();
  },
};
