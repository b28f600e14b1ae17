// issue_refund: refunds part or all of an order's captured payment (simulated payments: no
// network). Refused when nothing was captured, when the payment is already fully refunded, and
// when the amount exceeds what is still refundable. Re-checked under a row lock at execution, so
// two approved refunds can never together exceed the payment.
//
// Guardrails (A7, A8): the measure is the refund itself; the aggregate totals start from what the
// platform records as already refunded — on the order's payment (ever), and for the customer and the
// shop in the last 24 hours — whichever way those refunds were made.
import { z } from 'zod';
import type { Tx } from '../db/context.js';
import { AGGREGATE_WINDOW_HOURS } from './aggregates.js';
import { ActionRefused, cents, defineExecutor, formatMoney, money, reference, staffText, type ExecutorContext } from './executor.js';

const args = z.object({
  order_number: reference('order number').describe('e.g. ORD-1004'),
  amount_cents: cents.describe('Amount to refund, in cents'),
  reason: staffText(500).describe('Why (staff wording; recorded with the refund)'),
}).strict();
type Args = z.infer<typeof args>;

interface Facts { paymentId: string; orderId: string; orderNumber: string; customerId: string; amount: number; refunded: number; currency: string }

async function facts(tx: Tx, ctx: ExecutorContext, a: Args, lock: boolean): Promise<Facts> {
  const { tenantId } = ctx;
  const [order] = await tx<{ id: string; number: string }[]>`
    select id, number from orders where tenant_id = ${tenantId} and number = ${a.order_number.toUpperCase()}`;
  if (!order) throw new ActionRefused(`no order ${a.order_number}: find it with search_orders`, 'not_found');
  const payments = await tx<{ id: string; customer_id: string; amount_cents: string; refunded_cents: string; currency: string; status: string }[]>`
    select id, customer_id, amount_cents, refunded_cents, currency, status::text as status from payments
    where tenant_id = ${tenantId} and order_id = ${order.id}
    order by created_at ${lock ? tx`for update` : tx``}`;
  const p = payments.find((x) => x.status === 'captured' || x.status === 'partially_refunded')
    ?? payments.find((x) => x.status === 'refunded') ?? payments[0];
  if (!p) throw new ActionRefused(`order ${order.number} has no payment: nothing to refund`, 'conflict');
  if (p.status === 'authorized' || p.status === 'failed') {
    throw new ActionRefused(`the payment of order ${order.number} is ${p.status}, not captured: nothing was charged, so nothing can be refunded`, 'conflict');
  }
  const refundable = Number(p.amount_cents) - Number(p.refunded_cents);
  if (refundable <= 0) throw new ActionRefused(`order ${order.number} is already fully refunded (${formatMoney(p.refunded_cents, p.currency)})`, 'conflict');
  if (a.amount_cents > refundable) {
    throw new ActionRefused(`at most ${formatMoney(refundable, p.currency)} can still be refunded on order ${order.number} (paid ${formatMoney(p.amount_cents, p.currency)}, refunded ${formatMoney(p.refunded_cents, p.currency)}): lower amount_cents`);
  }
  return { paymentId: p.id, orderId: order.id, orderNumber: order.number, customerId: p.customer_id, amount: Number(p.amount_cents),
    refunded: Number(p.refunded_cents), currency: p.currency };
}

export const issueRefund = defineExecutor({
  tool: 'issue_refund',
  title: 'Issue a refund',
  description: 'Refunds part or all of an order\'s captured payment to the customer\'s stored (test) payment method.',
  scope: 'payments:refund',
  args,
  async prepare(tx, ctx, a) {
    const f = await facts(tx, ctx, a, false);
    const [recent] = await tx<{ customer: string; shop: string }[]>`
      select coalesce(sum(amount_cents) filter (where customer_id = ${f.customerId}), 0) as customer, coalesce(sum(amount_cents), 0) as shop
      from refunds where tenant_id = ${ctx.tenantId} and created_at > now() - make_interval(hours => ${AGGREGATE_WINDOW_HOURS})`;
    return {
      summary: `Refund ${formatMoney(a.amount_cents, f.currency)} on order ${f.orderNumber}`,
      measures: { amount_cents: a.amount_cents },
      scope: { orderId: f.orderId, customerId: f.customerId },
      onFile: {
        order: { amount_cents: f.refunded },
        customer_day: { amount_cents: Number(recent!.customer) },
        tenant_day: { amount_cents: Number(recent!.shop) },
      },
      valueCents: a.amount_cents,
      context: { paid: money(f.amount, f.currency), already_refunded: money(f.refunded, f.currency), refundable: money(f.amount - f.refunded, f.currency) },
    };
  },
  async execute(tx, ctx, a) {
    const f = await facts(tx, ctx, a, true);
    const refunded = f.refunded + a.amount_cents;
    const status = refunded >= f.amount ? 'refunded' : 'partially_refunded';
    const [refund] = await tx<{ id: string }[]>`
      insert into refunds (tenant_id, payment_id, order_id, customer_id, amount_cents, reason, action_id)
      values (${ctx.tenantId}, ${f.paymentId}, ${f.orderId}, ${f.customerId}, ${a.amount_cents}, ${a.reason}, ${ctx.actionId})
      returning id`;
    await tx`update payments set refunded_cents = ${refunded}, status = ${status} where tenant_id = ${ctx.tenantId} and id = ${f.paymentId}`;
    return { refund_id: refund!.id, order_number: f.orderNumber, amount: money(a.amount_cents, f.currency), payment_status: status,
      total_refunded: money(refunded, f.currency), still_refundable: money(f.amount - refunded, f.currency) };
  },
});
