// open_damage_claim: a claim against the carrier for goods damaged in transit. Only for shipments
// that were delivered or failed (exception), one open claim per shipment, and never for more than
// the order is worth.
import { z } from 'zod';
import type { Tx } from '../db/context.js';
import { ActionRefused, cents, defineExecutor, formatMoney, money, nextNumber, reference, staffText, type ExecutorContext } from './executor.js';

const args = z.object({
  tracking_number: reference('tracking number'),
  amount_cents: cents.describe('What is claimed from the carrier, in cents'),
  description: staffText(2000).describe('What was damaged and how (staff wording)'),
}).strict();
type Args = z.infer<typeof args>;

interface Facts { shipmentId: string; orderId: string; customerId: string; orderNumber: string; carrierId: string; carrier: string; status: string; orderTotal: number; currency: string }

async function facts(tx: Tx, ctx: ExecutorContext, a: Args, lock: boolean): Promise<Facts> {
  const { tenantId } = ctx;
  const [s] = await tx<{ id: string; order_id: string; customer_id: string; number: string; carrier_id: string; carrier: string; status: string; total_cents: string; currency: string }[]>`
    select s.id, s.order_id, o.customer_id, o.number, s.carrier_id, c.name as carrier, s.status::text as status, o.total_cents, o.currency
    from shipments s
    join orders o on o.tenant_id = s.tenant_id and o.id = s.order_id
    join carriers c on c.tenant_id = s.tenant_id and c.id = s.carrier_id
    where s.tenant_id = ${tenantId} and s.tracking_number = ${a.tracking_number}
    ${lock ? tx`for update of s` : tx``}`;
  if (!s) throw new ActionRefused(`no shipment with tracking number ${a.tracking_number}`, 'not_found');
  if (s.status !== 'delivered' && s.status !== 'exception') {
    throw new ActionRefused(`shipment ${a.tracking_number} is ${s.status}: a damage claim can be opened once it is delivered or has failed (exception)`, 'conflict');
  }
  const [open] = await tx<{ number: string }[]>`
    select number from damage_claims where tenant_id = ${tenantId} and shipment_id = ${s.id} and status = 'open' limit 1`;
  if (open) throw new ActionRefused(`claim ${open.number} is already open for shipment ${a.tracking_number}: resolve it or add to it instead`, 'conflict');
  if (a.amount_cents > Number(s.total_cents)) {
    throw new ActionRefused(`the claim (${formatMoney(a.amount_cents, s.currency)}) is more than order ${s.number} is worth (${formatMoney(s.total_cents, s.currency)})`);
  }
  return { shipmentId: s.id, orderId: s.order_id, customerId: s.customer_id, orderNumber: s.number, carrierId: s.carrier_id, carrier: s.carrier, status: s.status,
    orderTotal: Number(s.total_cents), currency: s.currency };
}

export const openDamageClaim = defineExecutor({
  tool: 'open_damage_claim',
  title: 'Open a damage claim',
  description: 'Opens a claim against the carrier for a delivered or failed shipment.',
  scope: 'claims:manage',
  args,
  async prepare(tx, ctx, a) {
    const f = await facts(tx, ctx, a, false);
    return {
      summary: `Open a damage claim of ${formatMoney(a.amount_cents, f.currency)} against ${f.carrier} for shipment ${a.tracking_number} (order ${f.orderNumber})`,
      measures: { amount_cents: a.amount_cents },
      scope: { orderId: f.orderId, customerId: f.customerId },
      valueCents: a.amount_cents,
      context: { shipment_status: f.status, order_total: money(f.orderTotal, f.currency) },
    };
  },
  async execute(tx, ctx, a) {
    const f = await facts(tx, ctx, a, true);
    const number = await nextNumber(tx, ctx.tenantId, 'damage_claims', 'CLM-');
    await tx`insert into damage_claims (tenant_id, number, shipment_id, order_id, carrier_id, status, amount_cents, description)
             values (${ctx.tenantId}, ${number}, ${f.shipmentId}, ${f.orderId}, ${f.carrierId}, 'open', ${a.amount_cents}, ${a.description})`;
    return { claim_number: number, tracking_number: a.tracking_number, order_number: f.orderNumber, carrier: f.carrier, status: 'open',
      amount: money(a.amount_cents, f.currency) };
  },
});
