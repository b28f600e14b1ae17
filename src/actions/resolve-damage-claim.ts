// resolve_damage_claim: closes an open claim as paid by the carrier or rejected by it.
import { z } from 'zod';
import type { Tx } from '../db/context.js';
import { ActionRefused, defineExecutor, formatMoney, money, reference, staffText, tenantCurrency, type ExecutorContext } from './executor.js';

const args = z.object({
  claim_number: reference('claim number').describe('e.g. CLM-1001'),
  outcome: z.enum(['paid', 'rejected']).describe('paid: the carrier compensated; rejected: the carrier declined'),
  resolution: staffText(1000).describe('What was agreed, in staff wording'),
}).strict();
type Args = z.infer<typeof args>;

interface Facts { id: string; number: string; orderId: string; customerId: string; amountCents: number; carrier: string; orderNumber: string; currency: string }

async function facts(tx: Tx, ctx: ExecutorContext, a: Args, lock: boolean): Promise<Facts> {
  const [c] = await tx<{ id: string; number: string; order_id: string; customer_id: string; status: string; amount_cents: string; carrier: string; order_number: string }[]>`
    select d.id, d.number, d.order_id, o.customer_id, d.status::text as status, d.amount_cents, c.name as carrier, o.number as order_number
    from damage_claims d
    join carriers c on c.tenant_id = d.tenant_id and c.id = d.carrier_id
    join orders o on o.tenant_id = d.tenant_id and o.id = d.order_id
    where d.tenant_id = ${ctx.tenantId} and d.number = ${a.claim_number.toUpperCase()}
    ${lock ? tx`for update of d` : tx``}`;
  if (!c) throw new ActionRefused(`no damage claim ${a.claim_number}: look it up with lookup_claim`, 'not_found');
  if (c.status !== 'open') throw new ActionRefused(`claim ${c.number} is already ${c.status.replace('_', ' ')}: only an open claim can be resolved`, 'conflict');
  return { id: c.id, number: c.number, orderId: c.order_id, customerId: c.customer_id, amountCents: Number(c.amount_cents), carrier: c.carrier, orderNumber: c.order_number,
    currency: await tenantCurrency(tx, ctx.tenantId) };
}

export const resolveDamageClaim = defineExecutor({
  tool: 'resolve_damage_claim',
  title: 'Resolve a damage claim',
  description: 'Closes an open damage claim as paid or rejected by the carrier.',
  scope: 'claims:manage',
  args,
  async prepare(tx, ctx, a) {
    const f = await facts(tx, ctx, a, false);
    return {
      summary: `Resolve claim ${f.number} (${formatMoney(f.amountCents, f.currency)} against ${f.carrier}, order ${f.orderNumber}) as ${a.outcome}`,
      measures: { amount_cents: f.amountCents },
      scope: { orderId: f.orderId, customerId: f.customerId },
      valueCents: f.amountCents,
      context: { amount: money(f.amountCents, f.currency), carrier: f.carrier },
    };
  },
  async execute(tx, ctx, a) {
    const f = await facts(tx, ctx, a, true);
    const status = a.outcome === 'paid' ? 'resolved_paid' : 'resolved_rejected';
    await tx`update damage_claims set status = ${status}, resolved_at = now(), resolution = ${a.resolution}
             where tenant_id = ${ctx.tenantId} and id = ${f.id} and status = 'open'`;
    return { claim_number: f.number, status, amount: money(f.amountCents, f.currency), resolution: a.resolution };
  },
});
