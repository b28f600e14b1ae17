// Customer tools: return eligibility against the tenant's policy, starting a return (a confirmed,
// idempotent write) and its status (docs/DESIGN.md §1; A5 for double returns).
import { z } from 'zod';
import { defineTool, ToolError, type CallContext } from '../mcp/capability.js';
import { confirmationToken, idempotencyKey, iso, money, moneyOf, orderNumber, returnNumber, untrustedText } from '../mcp/fields.js';
import { confirmedWrite } from '../mcp/confirmed-write.js';
import { untrusted } from '../mcp/untrusted.js';
import { customerId } from './orders.js';
import { enqueueWebhookEvent } from '../../webhooks/outbox.js';

const DAY_MS = 86_400_000;

interface LineEligibility {
  line_no: number;
  sku: string;
  product_name: string;
  quantity: number;
  returnable_quantity: number;
  unit_price: { amount_cents: number; currency: string };
  eligible: boolean;
  reason: string | null;
}

interface Eligibility {
  orderId: string;
  order_number: string;
  eligible: boolean;
  reason: string | null;
  delivered_on: string | null;
  window_closes_on: string | null;
  lines: LineEligibility[];
}

/** The policy applied to one order, read in the caller's context. `lock` serialises writers (A5). */
async function evaluate(ctx: CallContext, number: string, lock: boolean): Promise<Eligibility> {
  const { tx, tenantId } = ctx;
  const [order] = await tx<{
    id: string; number: string; status: string; currency: string; window_days: number; excluded: string[]; delivered_at: Date | null;
  }[]>`
    select o.id, o.number, o.status::text as status, o.currency, ts.return_window_days as window_days,
           ts.non_returnable_categories as excluded,
           coalesce((select max(s.delivered_at) from shipments s where s.tenant_id = o.tenant_id and s.order_id = o.id),
                    case when o.status in ('delivered', 'returned') then o.updated_at end) as delivered_at
    from orders o join tenant_settings ts on ts.tenant_id = o.tenant_id
    where o.tenant_id = ${tenantId} and o.number = ${number} and o.customer_id = ${customerId(ctx)}
    ${lock ? tx`for update of o` : tx``}`;
  if (!order) throw new ToolError(`order ${number} not found`, 'not_found');
  const lines = await tx<{
    line_no: number; sku: string; name: string; category: string; returnable: boolean; quantity: number; unit_price_cents: string; returned: number;
  }[]>`
    select l.line_no, p.sku, p.name, p.category, p.returnable, l.quantity, l.unit_price_cents,
      coalesce((select sum(rl.quantity) from return_lines rl join returns r on r.tenant_id = rl.tenant_id and r.id = rl.return_id
                where rl.tenant_id = l.tenant_id and rl.order_id = l.order_id and rl.line_no = l.line_no
                  and r.status <> 'rejected'), 0)::int as returned
    from order_lines l join products p on p.tenant_id = l.tenant_id and p.id = l.product_id
    where l.tenant_id = ${tenantId} and l.order_id = ${order.id}
    order by l.line_no`;
  const deliveredOn = order.delivered_at ? order.delivered_at.toISOString().slice(0, 10) : null;
  const closes = order.delivered_at ? new Date(order.delivered_at.getTime() + order.window_days * DAY_MS) : null;
  let reason: string | null = null;
  if (order.status === 'cancelled') reason = `order ${order.number} was cancelled: there is nothing to return`;
  else if (!order.delivered_at || !['delivered', 'returned'].includes(order.status)) {
    reason = `order ${order.number} has not been delivered yet (status: ${order.status}); a return can be started once it is delivered`;
  } else if (closes && closes.getTime() < Date.now()) {
    reason = `return window closed on ${closes.toISOString().slice(0, 10)} (${order.window_days} days after delivery)`;
  }
  const evaluated = lines.map((l): LineEligibility => {
    const left = Math.max(0, l.quantity - l.returned);
    const excluded = !l.returnable || order.excluded.includes(l.category);
    const lineReason = reason ?? (excluded ? `${l.category} items cannot be returned` : left === 0 ? 'already returned' : null);
    return {
      line_no: l.line_no, sku: l.sku, product_name: l.name, quantity: l.quantity,
      returnable_quantity: lineReason ? 0 : left, unit_price: moneyOf(l.unit_price_cents, order.currency),
      eligible: lineReason === null, reason: lineReason,
    };
  });
  if (!reason && !evaluated.some((l) => l.eligible)) reason = 'no line of this order can be returned';
  return {
    orderId: order.id, order_number: order.number, eligible: reason === null, reason, delivered_on: deliveredOn,
    window_closes_on: closes ? closes.toISOString().slice(0, 10) : null, lines: evaluated,
  };
}

const lineEligibilityOutput = z.object({
  line_no: z.number().int(), sku: z.string(), product_name: z.string(), quantity: z.number().int(),
  returnable_quantity: z.number().int(), unit_price: money, eligible: z.boolean(), reason: z.string().nullable(),
});

export const checkReturnEligibility = defineTool({
  name: 'check_return_eligibility',
  title: 'Check return eligibility',
  description: 'Checks which lines of one of the customer\'s orders can be returned under the shop\'s returns policy (window after delivery, non-returnable categories, quantities already returned).',
  scope: 'returns',
  annotations: { readOnlyHint: true, openWorldHint: false },
  input: z.object({ order_number: orderNumber }).strict(),
  output: z.object({
    order_number: z.string(), eligible: z.boolean(), reason: z.string().nullable(), delivered_on: z.string().nullable(),
    window_closes_on: z.string().nullable(), lines: z.array(lineEligibilityOutput),
  }),
  async run(ctx, args) {
    const { orderId: _hidden, ...e } = await evaluate(ctx, args.order_number, false);
    return e;
  },
});

const returnLineInput = z.object({
  line_no: z.number().int().min(1).max(1000),
  quantity: z.number().int().min(1).max(1000),
  condition: z.enum(['unopened', 'opened', 'damaged']).default('unopened'),
}).strict();

const startReturnInput = z.object({
  order_number: orderNumber,
  lines: z.array(returnLineInput).min(1).max(50).describe('The lines to return and how many of each'),
  reason: z.string().trim().min(3).max(1000).describe('Why the customer returns the items, in their words'),
  idempotency_key: idempotencyKey,
  confirmation_token: confirmationToken.optional(),
}).strict();

/** The requested lines, checked against what may still be returned, and what they are worth. */
function checkRequest(e: Eligibility, lines: z.infer<typeof returnLineInput>[]): { text: string; lines: string[]; refundCents: number; currency: string } {
  if (!e.eligible) throw new ToolError(e.reason ?? 'this order cannot be returned');
  const seen = new Set<number>();
  const parts: string[] = [];
  const details: string[] = [];
  let refundCents = 0;
  let currency = '';
  for (const want of lines) {
    if (seen.has(want.line_no)) throw new ToolError(`line ${want.line_no} is listed twice`);
    seen.add(want.line_no);
    const line = e.lines.find((l) => l.line_no === want.line_no);
    if (!line) throw new ToolError(`order ${e.order_number} has no line ${want.line_no}`);
    if (!line.eligible) throw new ToolError(`line ${want.line_no} (${line.product_name}) cannot be returned: ${line.reason}`);
    if (want.quantity > line.returnable_quantity) {
      throw new ToolError(`line ${want.line_no} (${line.product_name}): at most ${line.returnable_quantity} can be returned`);
    }
    parts.push(`${want.quantity} × ${line.product_name} (${want.condition})`);
    const cents = line.unit_price.amount_cents * want.quantity;
    refundCents += cents;
    currency = line.unit_price.currency;
    details.push(`Line ${want.line_no}: ${want.quantity} × ${line.product_name} (${line.sku}), ${want.condition}, ${formatMoney(cents, currency)}`);
  }
  return { text: parts.join(', '), lines: details, refundCents, currency };
}

function formatMoney(cents: number, currency: string): string {
  return `${(cents / 100).toFixed(2)} ${currency}`;
}

/** How the items go back and the money with them: the shop's one return method today. */
async function returnMethod(ctx: CallContext): Promise<{ shipping: string; refundTo: string }> {
  const [c] = await ctx.tx<{ payment_method: { last4?: string } | null }[]>`
    select payment_method from customers where tenant_id = ${ctx.tenantId} and id = ${customerId(ctx)}`;
  return {
    shipping: 'send the items back by post once the shop has approved the return',
    refundTo: `the original payment method (test card ending ${c?.payment_method?.last4 ?? '4242'}, simulated)`,
  };
}

export const startReturn = defineTool({
  name: 'start_return',
  title: 'Start a return',
  description: 'Starts a return (RMA) for chosen lines of a delivered order. Needs the customer\'s explicit confirmation: a client with elicitation gets a confirmation form (MCP 2026-07-28); otherwise the first call returns a summary and a confirmation_token, and you call again with the same arguments plus the token only after the customer agreed. Always pass an idempotency_key; a retry with the same key returns the first result.',
  scope: 'returns',
  writes: true,
  annotations: { readOnlyHint: false, destructiveHint: false, idempotentHint: true, openWorldHint: false },
  input: startReturnInput,
  output: z.object({
    status: z.enum(['confirmation_required', 'created', 'declined', 'cancelled']),
    summary: z.string(),
    confirmation_token: z.string().optional(),
    expires_at: z.string().optional(),
    next_step: z.string().optional(),
    return_number: z.string().optional(),
    order_number: z.string().optional(),
    return_status: z.string().optional(),
  }),
  async run(ctx, args) {
    return confirmedWrite(ctx, {
      tool: 'start_return',
      args,
      nothingDone: 'No return was started',
      async summarize() {
        const what = checkRequest(await evaluate(ctx, args.order_number, false), args.lines);
        const method = await returnMethod(ctx);
        const refund = formatMoney(what.refundCents, what.currency);
        return {
          text: `Start a return for order ${args.order_number}: ${what.text}; refund of up to ${refund} to ${method.refundTo}.`,
          details: [...what.lines, `Refund: up to ${refund}, after the shop has received and checked the items`,
            `Refund to: ${method.refundTo}`, `Return method: ${method.shipping}`],
          confirmTitle: `Start this return (refund up to ${refund})`,
        };
      },
      async execute() {
        const e = await evaluate(ctx, args.order_number, true); // locks the order: no parallel double return
        const what = checkRequest(e, args.lines);
        const { tx, tenantId } = ctx;
        const [counter] = await tx<{ value: string }[]>`
          insert into tenant_counters (tenant_id, name, value) values (${tenantId}, 'returns', 1001)
          on conflict (tenant_id, name) do update set value = tenant_counters.value + 1
          returning value`;
        const number = `RMA-${counter!.value}`;
        const cid = customerId(ctx);
        const [created] = await tx<{ id: string }[]>`
          insert into returns (tenant_id, number, order_id, customer_id, status, reason)
          values (${tenantId}, ${number}, ${e.orderId}, ${cid}, 'requested', ${args.reason})
          returning id`;
        for (const l of args.lines) {
          await tx`insert into return_lines (tenant_id, return_id, order_id, line_no, customer_id, quantity, condition)
                   values (${tenantId}, ${created!.id}, ${e.orderId}, ${l.line_no}, ${cid}, ${l.quantity}, ${l.condition})`;
        }
        await enqueueWebhookEvent(tx, tenantId, 'return.requested', { return_number: number, order_number: args.order_number, lines: args.lines.length });
        return {
          status: 'created' as const,
          summary: `Return ${number} started for order ${args.order_number}: ${what.text}. The shop will review it.`,
          return_number: number,
          order_number: args.order_number,
          return_status: 'requested',
        };
      },
    });
  },
});

export const getReturnStatus = defineTool({
  name: 'get_return_status',
  title: 'Return status',
  description: 'The status of one of the customer\'s returns (RMA): requested, approved, rejected, received or refunded, with its lines and any decision note.',
  scope: 'returns',
  annotations: { readOnlyHint: true, openWorldHint: false },
  input: z.object({ return_number: returnNumber }).strict(),
  output: z.object({
    return_number: z.string(), order_number: z.string(), status: z.string(), created_at: z.string(), decided_at: z.string().nullable(),
    decision_note: z.string().nullable(), reason: untrustedText,
    lines: z.array(z.object({ line_no: z.number().int(), sku: z.string(), product_name: z.string(), quantity: z.number().int(), condition: z.string() })),
  }),
  async run(ctx, args) {
    const { tx, tenantId } = ctx;
    const [r] = await tx<{
      number: string; order_number: string; status: string; created_at: Date; decided_at: Date | null; decision_note: string | null; reason: string;
      lines: { line_no: number; sku: string; name: string; quantity: number; condition: string }[];
    }[]>`
      select r.number, o.number as order_number, r.status::text as status, r.created_at, r.decided_at, r.decision_note, r.reason,
        coalesce((select json_agg(json_build_object('line_no', rl.line_no, 'sku', p.sku, 'name', p.name, 'quantity', rl.quantity,
                         'condition', rl.condition) order by rl.line_no)
                  from return_lines rl
                  join order_lines l on l.tenant_id = rl.tenant_id and l.order_id = rl.order_id and l.line_no = rl.line_no
                  join products p on p.tenant_id = l.tenant_id and p.id = l.product_id
                  where rl.tenant_id = r.tenant_id and rl.return_id = r.id), '[]') as lines
      from returns r join orders o on o.tenant_id = r.tenant_id and o.id = r.order_id
      where r.tenant_id = ${tenantId} and r.number = ${args.return_number} and r.customer_id = ${customerId(ctx)}`;
    if (!r) throw new ToolError(`return ${args.return_number} not found`, 'not_found');
    return {
      return_number: r.number, order_number: r.order_number, status: r.status, created_at: iso(r.created_at)!,
      decided_at: iso(r.decided_at), decision_note: r.decision_note, reason: untrusted(r.reason),
      lines: r.lines.map((l) => ({ line_no: l.line_no, sku: l.sku, product_name: l.name, quantity: l.quantity, condition: l.condition })),
    };
  },
});
