// decide_return: approves or rejects a requested return (RMA). Refused when the return is already
// decided, and approving is refused when a returned line is a non-returnable product. The
// customer's reason reaches the approver only as delimited untrusted data (P1), never in the summary.
import { z } from 'zod';
import type { Tx } from '../db/context.js';
import { untrusted } from '../servers/mcp/untrusted.js';
import { ActionRefused, defineExecutor, formatMoney, money, reference, staffText, tenantCurrency, type ExecutorContext } from './executor.js';

const args = z.object({
  return_number: reference('return number').describe('e.g. RMA-1002'),
  decision: z.enum(['approve', 'reject']),
  note: staffText(1000).optional().describe('Why; required when rejecting, shown to the customer as the decision note'),
}).strict();
type Args = z.infer<typeof args>;

interface Facts {
  id: string; number: string; orderId: string; customerId: string; orderNumber: string; status: string; reason: string; valueCents: number; currency: string;
  lines: { line_no: number; sku: string; name: string; quantity: number; condition: string; returnable: boolean }[];
}

async function facts(tx: Tx, ctx: ExecutorContext, a: Args, lock: boolean): Promise<Facts> {
  if (a.decision === 'reject' && !a.note) throw new ActionRefused('a rejection needs a note saying why (it is shown to the customer): pass note');
  const { tenantId } = ctx;
  const [r] = await tx<{ id: string; number: string; status: string; reason: string; order_number: string; order_id: string; customer_id: string }[]>`
    select r.id, r.number, r.status::text as status, r.reason, o.number as order_number, o.id as order_id, o.customer_id
    from returns r join orders o on o.tenant_id = r.tenant_id and o.id = r.order_id
    where r.tenant_id = ${tenantId} and r.number = ${a.return_number.toUpperCase()}
    ${lock ? tx`for update of r` : tx``}`;
  if (!r) throw new ActionRefused(`no return ${a.return_number}: list open ones with list_returns`, 'not_found');
  if (r.status !== 'requested') throw new ActionRefused(`return ${r.number} is already ${r.status}: only a requested return can be decided`, 'conflict');
  const lines = await tx<{ line_no: number; sku: string; name: string; quantity: number; condition: string; returnable: boolean; unit_price_cents: string }[]>`
    select rl.line_no, p.sku, p.name, rl.quantity, rl.condition, p.returnable, ol.unit_price_cents
    from return_lines rl
    join order_lines ol on ol.tenant_id = rl.tenant_id and ol.order_id = rl.order_id and ol.line_no = rl.line_no
    join products p on p.tenant_id = ol.tenant_id and p.id = ol.product_id
    where rl.tenant_id = ${tenantId} and rl.return_id = ${r.id} order by rl.line_no`;
  if (a.decision === 'approve') {
    const blocked = lines.filter((l) => !l.returnable);
    if (blocked.length) {
      throw new ActionRefused(`return ${r.number} includes non-returnable ${blocked.map((l) => `${l.sku} (${l.name})`).join(', ')}: reject it with a note citing the returns policy`);
    }
  }
  return {
    id: r.id, number: r.number, orderId: r.order_id, customerId: r.customer_id, orderNumber: r.order_number, status: r.status, reason: r.reason,
    valueCents: lines.reduce((sum, l) => sum + l.quantity * Number(l.unit_price_cents), 0), currency: await tenantCurrency(tx, tenantId),
    lines: lines.map(({ unit_price_cents: _u, ...l }) => l),
  };
}

export const decideReturn = defineExecutor({
  tool: 'decide_return',
  title: 'Approve or reject a return',
  description: 'Decides a requested return (RMA): approve it, or reject it with a note.',
  scope: 'returns:decide',
  args,
  async prepare(tx, ctx, a) {
    const f = await facts(tx, ctx, a, false);
    return {
      summary: `${a.decision === 'approve' ? 'Approve' : 'Reject'} return ${f.number} (order ${f.orderNumber}, ${f.lines.length} line${f.lines.length === 1 ? '' : 's'}, ${formatMoney(f.valueCents, f.currency)})`,
      measures: { value_cents: f.valueCents },
      scope: { orderId: f.orderId, customerId: f.customerId },
      valueCents: f.valueCents,
      context: { lines: f.lines, value: money(f.valueCents, f.currency), customer_reason: untrusted(f.reason) },
    };
  },
  async execute(tx, ctx, a) {
    const f = await facts(tx, ctx, a, true);
    const status = a.decision === 'approve' ? 'approved' : 'rejected';
    await tx`update returns set status = ${status}, decided_at = now(), decided_by = ${ctx.requestedBy}, decision_note = ${a.note ?? null}
             where tenant_id = ${ctx.tenantId} and id = ${f.id} and status = 'requested'`;
    return { return_number: f.number, order_number: f.orderNumber, status, value: money(f.valueCents, f.currency), note: a.note ?? null };
  },
});
