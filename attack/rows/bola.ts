// A1: broken object-level authorization. Every id swapped for another customer's or tenant's gets
// the same "not found" as a missing one, and nothing of theirs shows (OWASP API1:2023). With the
// internal listener given, the same for task ids (MCP 2026-07-28, Tasks extension): another staff
// member's task reads exactly like one that does not exist.
import { TENANT_CANARIES } from '../../src/seed/fixtures.js';
import type { AttackContext } from '../context.js';
import { callTool, rpc, type RpcAnswer } from '../mcp.js';
import { Checks, type AttackRow } from '../types.js';
import { short } from './common.js';
import { orderNumbers } from './customer-data.js';

function normalise(text: string, id: string): string {
  return text.split(id).join('<id>');
}

const TASKS_META = {
  'io.modelcontextprotocol/protocolVersion': '2026-07-28',
  'io.modelcontextprotocol/clientCapabilities': { extensions: { 'io.modelcontextprotocol/tasks': {} } },
  'io.modelcontextprotocol/clientInfo': { name: 'commerce-mcp attack suite', version: '1' },
};

/** A 2026-07-28 request declaring the tasks extension, with its routing headers. */
function modern(ctx: AttackContext, url: string, token: string, method: string, params: Record<string, unknown>, name?: string): Promise<RpcAnswer> {
  return rpc(ctx.http, url, token, method, { ...params, _meta: TASKS_META },
    { 'mcp-protocol-version': '2026-07-28', 'mcp-method': method, ...(name !== undefined && { 'mcp-name': name }) });
}

/** X's price change waits as a task (change_price has no guardrail); Y asks for it; X withdraws it. */
async function foreignTask(ctx: AttackContext, c: Checks): Promise<void> {
  const internal = ctx.internalUrl();
  if (!internal || !ctx.options.internal) return void c.note('task ids: internal listener not given (--internal), not exercised');
  const x = await ctx.accessToken('staff');
  const y = await ctx.accessToken('approver');
  const stock = await rpc(ctx.http, internal, x, 'resources/read', { uri: 'ops://stock' });
  let skus: string[] = [];
  try {
    const text = (stock.result?.contents as { text?: string }[] | undefined)?.[0]?.text ?? '{}';
    skus = [...new Set(((JSON.parse(text) as { stock?: { sku: string }[] }).stock ?? []).map((r) => r.sku))].reverse().slice(0, 5);
  } catch { /* no stock resource: no fixture */ }
  let taskId: string | undefined;
  for (const sku of skus) {
    const prices = await rpc(ctx.http, internal, x, 'resources/read', { uri: `ops://prices/${sku}` });
    let current: number | undefined;
    try {
      const text = (prices.result?.contents as { text?: string }[] | undefined)?.[0]?.text ?? '{}';
      current = ((JSON.parse(text) as { prices?: { amount_cents: number; valid_to: string | null }[] }).prices ?? []).find((p) => p.valid_to === null)?.amount_cents;
    } catch { /* unreadable: next */ }
    if (current === undefined) continue;
    const asked = await modern(ctx, internal, x, 'tools/call', {
      name: 'change_price', arguments: { sku, new_price_cents: current + 1, reason: `attack suite A1 ${ctx.runId}: task ids`, idempotency_key: `attack-${ctx.runId}-a1-task` },
    }, 'change_price');
    if (asked.result?.resultType === 'task' && typeof asked.result.taskId === 'string') {
      taskId = asked.result.taskId;
      ctx.created.add({ kind: 'pending action', tenant: ctx.options.tenant, id: taskId }); // a task is its pending action
      break;
    }
    c.note(`change_price ${sku} gave no task: ${short(asked.result ?? asked.error ?? asked.text, 80)}`);
  }
  if (!c.expect('fixtures: X\'s waiting write answers a task (tasks extension declared)', Boolean(taskId), taskId ?? 'none')) return;
  const missingId = '00000000-0000-4000-8000-000000000000';
  const missing = await modern(ctx, internal, x, 'tasks/get', { taskId: missingId }, missingId);
  const stolen = await modern(ctx, internal, y, 'tasks/get', { taskId }, taskId);
  c.expect('tasks/get of X\'s task by Y: the same error as a missing id', Boolean(stolen.error) && !stolen.result
    && JSON.stringify(stolen.error) === JSON.stringify(missing.error), `${short(stolen.error ?? stolen.result, 80)} vs ${short(missing.error, 60)}`);
  const cancel = await modern(ctx, internal, y, 'tasks/cancel', { taskId }, taskId);
  c.expect('tasks/cancel of X\'s task by Y: the same error', JSON.stringify(cancel.error) === JSON.stringify(missing.error), short(cancel.error ?? cancel.result, 80));
  const own = await modern(ctx, internal, x, 'tasks/get', { taskId }, taskId);
  c.expect('X still sees the task waiting', own.result?.status === 'working' || own.result?.status === 'input_required', short(own.result ?? own.error, 80));
  // Leave nothing behind: X withdraws it.
  await modern(ctx, internal, x, 'tasks/cancel', { taskId }, taskId);
  const after = await modern(ctx, internal, x, 'tasks/get', { taskId }, taskId);
  c.expect('X withdraws it with tasks/cancel', after.result?.status === 'cancelled', short(after.result ?? after.error, 80));
}

export const a1: AttackRow = {
  id: 'A1',
  title: "BOLA: id arguments swapped for another customer's or tenant's",
  expected: 'same "not found" as a missing id; zero rows leaked',
  async run(ctx) {
    const c = new Checks();
    const url = ctx.customerUrl();
    const token = await ctx.accessToken('customer');
    const mine = new Set(await orderNumbers(ctx, 'customer'));
    const neighbour = (await orderNumbers(ctx, 'otherCustomer')).filter((n) => !mine.has(n)).slice(0, 5);
    const foreign = (await orderNumbers(ctx, 'otherTenantCustomer')).filter((n) => !mine.has(n)).slice(0, 5);
    c.expect('fixtures: the other customers have orders to steal', neighbour.length > 0 && foreign.length > 0, `${neighbour.length} same-tenant, ${foreign.length} other-tenant`);
    const missingId = `ORD-${ctx.runId.toUpperCase()}9`;
    const missing = await callTool(ctx.http, url, token, 'get_order', { order_number: missingId });
    const missingText = normalise(missing.content, missingId);
    const missingRes = await rpc(ctx.http, url, token, 'resources/read', { uri: `order://${missingId}` });
    const missingResText = normalise(JSON.stringify(missingRes.error ?? missingRes.result), missingId);
    for (const [who, ids] of [['same tenant', neighbour], ['other tenant', foreign]] as const) {
      for (const id of ids) {
        const a = await callTool(ctx.http, url, token, 'get_order', { order_number: id });
        c.expect(`get_order ${id} (${who})`, a.isError && normalise(a.content, id) === missingText, short(a.content, 100));
        const r = await rpc(ctx.http, url, token, 'resources/read', { uri: `order://${id}` });
        c.expect(`resources/read order://${id} (${who})`, !r.result && normalise(JSON.stringify(r.error ?? r.result), id) === missingResText, short(r.error ?? r.result, 100));
        const e = await callTool(ctx.http, url, token, 'check_return_eligibility', { order_number: id });
        c.expect(`check_return_eligibility ${id} (${who})`, e.isError && !e.structured, short(e.content, 100));
      }
    }
    // Other tenant's catalogue and canary never show.
    const other = TENANT_CANARIES[ctx.options.otherTenant as keyof typeof TENANT_CANARIES];
    if (other) {
      const search = await callTool(ctx.http, url, token, 'search_products', { query: other });
      c.expect(`search for ${ctx.options.otherTenant}'s canary finds nothing`, !search.text.includes(other), short(search.structured ?? search.content, 100));
      const list = await rpc(ctx.http, url, token, 'resources/list');
      c.expect('resources/list shows no other tenant canary', !list.text.includes(other), `${list.status}`);
    }
    await foreignTask(ctx, c);
    return c.result();
  },
};
