// Customer tools: my orders, and one order's status with tracking and lateness (docs/DESIGN.md §1).
import { z } from 'zod';
import { defineTool, ToolError, type CallContext } from '../mcp/capability.js';
import { cursor, decodeCursor, encodeCursor, iso, money, moneyOf, orderNumber, pageSize } from '../mcp/fields.js';
import { loadOrderDetail, orderDetailOutput } from '../shared/order-detail.js';

export const ORDER_STATUSES = ['pending_payment', 'paid', 'picking', 'shipped', 'delivered', 'cancelled', 'returned'] as const;

export function customerId(ctx: CallContext): string {
  if (ctx.actor.kind !== 'customer') throw new Error('customer tool called without a customer context');
  return ctx.actor.customerId;
}

export const listOrders = defineTool({
  name: 'list_orders',
  title: 'List my orders',
  description: 'Lists the signed-in customer\'s orders, newest first, with status, total and whether delivery is late. Use get_order for lines and tracking.',
  scope: 'orders',
  annotations: { readOnlyHint: true, openWorldHint: false },
  input: z.object({
    status: z.enum(ORDER_STATUSES).optional().describe('Only orders in this status'),
    limit: pageSize(50, 10),
    cursor: cursor.optional(),
  }).strict(),
  output: z.object({
    orders: z.array(z.object({
      order_number: z.string(), status: z.string(), placed_at: z.string(), promised_by: z.string().nullable(),
      total: money, item_count: z.number().int(), late: z.boolean(),
    })),
    next_cursor: z.string().nullable(),
  }),
  async run(ctx, args) {
    const after = decodeCursor(args.cursor);
    if (args.cursor && !after) throw new ToolError('cursor is not valid: pass the next_cursor of the previous page');
    const rows = await ctx.tx<{
      number: string; status: string; placed_at: Date; promised_by: string | null; total_cents: string; currency: string;
      item_count: number; late: boolean;
    }[]>`
      select o.number, o.status::text as status, o.placed_at, o.promised_by::text as promised_by, o.total_cents, o.currency,
        (select coalesce(sum(l.quantity), 0)::int from order_lines l where l.tenant_id = o.tenant_id and l.order_id = o.id) as item_count,
        exists (select 1 from shipments s where s.tenant_id = o.tenant_id and s.order_id = o.id and (
                  s.late_cause_code is not null or (s.delivered_at is null and o.promised_by < current_date)
                  or s.delivered_at::date > o.promised_by)) as late
      from orders o
      where o.tenant_id = ${ctx.tenantId} and o.customer_id = ${customerId(ctx)}
        ${args.status ? ctx.tx`and o.status = ${args.status}` : ctx.tx``}
        ${after ? ctx.tx`and (o.placed_at, o.number) < (${after.at}::timestamptz, ${after.tiebreak})` : ctx.tx``}
      order by o.placed_at desc, o.number desc
      limit ${args.limit + 1}`;
    const page = rows.slice(0, args.limit);
    const last = page[page.length - 1];
    return {
      orders: page.map((o) => ({
        order_number: o.number, status: o.status, placed_at: iso(o.placed_at)!, promised_by: o.promised_by,
        total: moneyOf(o.total_cents, o.currency), item_count: o.item_count, late: o.late,
      })),
      next_cursor: rows.length > args.limit && last ? encodeCursor(last.placed_at, last.number) : null,
    };
  },
});

export const getOrder = defineTool({
  name: 'get_order',
  title: 'Order status and tracking',
  description: 'One of the customer\'s orders: status, line items, shipments with carrier, tracking link, ETA, driver position while out for delivery, and why it is late when it is late.',
  scope: 'orders',
  annotations: { readOnlyHint: true, openWorldHint: false },
  input: z.object({ order_number: orderNumber }).strict(),
  output: orderDetailOutput,
  async run(ctx, args) {
    const order = await loadOrderDetail(ctx.tx, ctx.tenantId, customerId(ctx), args.order_number);
    if (!order) throw new ToolError(`order ${args.order_number} not found`, 'not_found');
    const { customer_id: _hidden, ...visible } = order;
    return visible;
  },
});
