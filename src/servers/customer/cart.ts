// Customer tools: the cart, and placing an order from it (a confirmed, idempotent write; payments
// are simulated with the customer's stored test payment method, never a real network).
import { createHash } from 'node:crypto';
import { z } from 'zod';
import { defineTool, ToolError, type CallContext } from '../mcp/capability.js';
import { confirmationToken, idempotencyKey, money, moneyOf, sku } from '../mcp/fields.js';
import { confirmedWrite } from '../mcp/confirmed-write.js';
import { customerId } from './orders.js';
import { productBySku } from './catalog.js';
import { enqueueWebhookEvent } from '../../webhooks/outbox.js';

interface CartItem {
  product_id: string; sku: string; name: string; quantity: number; amount_cents: string | null; currency: string | null; available: number;
}

async function cartItems(ctx: CallContext): Promise<CartItem[]> {
  return ctx.tx<CartItem[]>`
    select p.id as product_id, p.sku, p.name, ci.quantity, pp.amount_cents, pp.currency,
      coalesce((select sum(greatest(sl.on_hand - sl.reserved, 0)) from stock_levels sl
                where sl.tenant_id = p.tenant_id and sl.product_id = p.id), 0)::int as available
    from carts c
    join cart_items ci on ci.tenant_id = c.tenant_id and ci.cart_id = c.id
    join products p on p.tenant_id = ci.tenant_id and p.id = ci.product_id
    left join product_prices pp on pp.tenant_id = p.tenant_id and pp.product_id = p.id and pp.valid_to is null
    where c.tenant_id = ${ctx.tenantId} and c.customer_id = ${customerId(ctx)}
    order by p.name`;
}

const cartOutput = z.object({
  items: z.array(z.object({
    sku: z.string(), name: z.string(), quantity: z.number().int(), unit_price: money.nullable(), line_total: money.nullable(), available: z.number().int(),
  })),
  total: money.nullable(),
});

async function describeCart(ctx: CallContext) {
  const items = await cartItems(ctx);
  const currency = items.find((i) => i.currency)?.currency ?? null;
  const total = items.reduce((sum, i) => sum + Number(i.amount_cents ?? 0) * i.quantity, 0);
  return {
    items: items.map((i) => ({
      sku: i.sku, name: i.name, quantity: i.quantity,
      unit_price: i.amount_cents === null ? null : moneyOf(i.amount_cents, i.currency!),
      line_total: i.amount_cents === null ? null : moneyOf(Number(i.amount_cents) * i.quantity, i.currency!),
      available: i.available,
    })),
    total: currency && items.length ? moneyOf(total, currency) : null,
  };
}

export const viewCart = defineTool({
  name: 'view_cart',
  title: 'View my cart',
  description: 'The customer\'s cart: items, quantities, prices, availability and total.',
  scope: 'cart',
  annotations: { readOnlyHint: true, openWorldHint: false },
  input: z.object({}).strict(),
  output: cartOutput,
  run: (ctx) => describeCart(ctx),
});

export const addToCart = defineTool({
  name: 'add_to_cart',
  title: 'Add to cart',
  description: 'Adds a quantity of a product to the customer\'s cart (at most 100 of one product).',
  scope: 'cart',
  writes: true,
  annotations: { readOnlyHint: false, destructiveHint: false, idempotentHint: false, openWorldHint: false },
  input: z.object({ sku, quantity: z.number().int().min(1).max(100).default(1) }).strict(),
  output: cartOutput,
  async run(ctx, args) {
    const product = await productBySku(ctx, args.sku);
    const { tx, tenantId } = ctx;
    const cid = customerId(ctx);
    const [cart] = await tx<{ id: string }[]>`
      insert into carts (tenant_id, customer_id) values (${tenantId}, ${cid})
      on conflict (tenant_id, customer_id) do update set updated_at = now()
      returning id`;
    const [pid] = await tx<{ id: string }[]>`select id from products where tenant_id = ${tenantId} and sku = ${product.sku}`;
    await tx`
      insert into cart_items (tenant_id, cart_id, product_id, customer_id, quantity)
      values (${tenantId}, ${cart!.id}, ${pid!.id}, ${cid}, ${args.quantity})
      on conflict (tenant_id, cart_id, product_id) do update set quantity = least(cart_items.quantity + excluded.quantity, 100)`;
    return describeCart(ctx);
  },
});

export const removeFromCart = defineTool({
  name: 'remove_from_cart',
  title: 'Remove from cart',
  description: 'Removes a product from the cart, or lowers its quantity when a quantity is given.',
  scope: 'cart',
  writes: true,
  annotations: { readOnlyHint: false, destructiveHint: true, idempotentHint: false, openWorldHint: false },
  input: z.object({ sku, quantity: z.number().int().min(1).max(100).optional().describe('How many to remove; all when left out') }).strict(),
  output: cartOutput,
  async run(ctx, args) {
    const { tx, tenantId } = ctx;
    const items = await cartItems(ctx);
    const item = items.find((i) => i.sku === args.sku);
    if (!item) throw new ToolError(`product ${args.sku} is not in your cart`, 'not_found');
    const cid = customerId(ctx);
    if (args.quantity === undefined || args.quantity >= item.quantity) {
      await tx`delete from cart_items where tenant_id = ${tenantId} and customer_id = ${cid} and product_id = ${item.product_id}`;
    } else {
      await tx`update cart_items set quantity = quantity - ${args.quantity}
               where tenant_id = ${tenantId} and customer_id = ${cid} and product_id = ${item.product_id}`;
    }
    return describeCart(ctx);
  },
});

function checkCart(items: CartItem[]): { text: string; totalCents: number; currency: string; lines: string[] } {
  if (items.length === 0) throw new ToolError('your cart is empty: add products with add_to_cart first');
  const currency = items[0]!.currency;
  for (const i of items) {
    if (i.amount_cents === null || !i.currency) throw new ToolError(`${i.name} has no price at the moment and cannot be ordered`);
    if (i.currency !== currency) throw new ToolError('the cart mixes currencies and cannot be ordered');
    if (i.available < i.quantity) throw new ToolError(`only ${i.available} × ${i.name} available: lower the quantity in the cart`);
  }
  const totalCents = items.reduce((sum, i) => sum + Number(i.amount_cents) * i.quantity, 0);
  return {
    text: items.map((i) => `${i.quantity} × ${i.name}`).join(', '), totalCents, currency: currency!,
    lines: items.map((i) => `${i.quantity} × ${i.name} (${i.sku}) at ${formatMoney(Number(i.amount_cents), currency!)} = ${formatMoney(Number(i.amount_cents) * i.quantity, currency!)}`),
  };
}

function formatMoney(cents: number, currency: string): string {
  return `${(cents / 100).toFixed(2)} ${currency}`;
}

const PROMISE_DAYS = 5;

export const placeOrder = defineTool({
  name: 'place_order',
  title: 'Place the order',
  description: 'Places an order for everything in the cart, paid with the customer\'s stored test payment method (simulated). Needs the customer\'s explicit confirmation: a client with elicitation gets a confirmation form (MCP 2026-07-28); otherwise the first call returns a summary with the total and a confirmation_token, and you call again with the same arguments plus the token only after the customer agreed. Always pass an idempotency_key; a retry with the same key returns the first result and never orders twice.',
  scope: 'cart',
  writes: true,
  annotations: { readOnlyHint: false, destructiveHint: false, idempotentHint: true, openWorldHint: false },
  input: z.object({
    note: z.string().trim().max(500).optional().describe('A delivery note from the customer'),
    idempotency_key: idempotencyKey,
    confirmation_token: confirmationToken.optional(),
  }).strict(),
  output: z.object({
    status: z.enum(['confirmation_required', 'created', 'declined', 'cancelled']),
    summary: z.string(),
    confirmation_token: z.string().optional(),
    expires_at: z.string().optional(),
    next_step: z.string().optional(),
    order_number: z.string().optional(),
    total: money.optional(),
    payment: z.string().optional(),
  }),
  async run(ctx, args) {
    const { tx, tenantId } = ctx;
    const cid = customerId(ctx);
    const paymentMethod = async () => {
      const [c] = await tx<{ payment_method: { type?: string; last4?: string } }[]>`
        select payment_method from customers where tenant_id = ${tenantId} and id = ${cid}`;
      return `test card ending ${c?.payment_method?.last4 ?? '4242'} (simulated payment)`;
    };
    return confirmedWrite(ctx, {
      tool: 'place_order',
      args,
      nothingDone: 'Nothing was ordered and the cart is unchanged',
      async binding() {
        const items = await cartItems(ctx);
        return createHash('sha256').update(JSON.stringify(items.map((i) => [i.sku, i.quantity, i.amount_cents]))).digest('hex');
      },
      async summarize() {
        const c = checkCart(await cartItems(ctx));
        const payment = await paymentMethod();
        return {
          text: `Place an order for ${c.text}; total ${formatMoney(c.totalCents, c.currency)}, charged to the ${payment}.`,
          details: [...c.lines, `Total: ${formatMoney(c.totalCents, c.currency)}`, `Payment: ${payment}`,
            ...(args.note ? [`Delivery note: ${args.note}`] : [])],
          confirmTitle: `Place this order for ${formatMoney(c.totalCents, c.currency)}`,
        };
      },
      async execute() {
        await tx`select id from carts where tenant_id = ${tenantId} and customer_id = ${cid} for update`;
        const items = await cartItems(ctx);
        const c = checkCart(items);
        for (const i of items) {
          const reserved = await tx`
            update stock_levels set reserved = reserved + ${i.quantity}, updated_at = now()
            where tenant_id = ${tenantId} and product_id = ${i.product_id} and warehouse_id = (
              select warehouse_id from stock_levels
              where tenant_id = ${tenantId} and product_id = ${i.product_id} and on_hand - reserved >= ${i.quantity}
              order by on_hand - reserved desc limit 1 for update)
            returning warehouse_id`;
          if (reserved.length === 0) throw new ToolError(`${i.name} is not available in that quantity from one warehouse: lower the quantity`);
        }
        const [counter] = await tx<{ value: string }[]>`
          insert into tenant_counters (tenant_id, name, value) values (${tenantId}, 'orders', 1001)
          on conflict (tenant_id, name) do update set value = tenant_counters.value + 1
          returning value`;
        const number = `ORD-${counter!.value}`;
        const [order] = await tx<{ id: string }[]>`
          insert into orders (tenant_id, number, customer_id, status, currency, total_cents, note, promised_by)
          values (${tenantId}, ${number}, ${cid}, 'paid', ${c.currency}, ${c.totalCents}, ${args.note ?? null},
                  current_date + ${PROMISE_DAYS}::int)
          returning id`;
        let lineNo = 0;
        for (const i of items) {
          lineNo += 1;
          await tx`insert into order_lines (tenant_id, order_id, line_no, customer_id, product_id, quantity, unit_price_cents)
                   values (${tenantId}, ${order!.id}, ${lineNo}, ${cid}, ${i.product_id}, ${i.quantity}, ${i.amount_cents})`;
        }
        await tx`insert into payments (tenant_id, order_id, customer_id, amount_cents, currency, method, status)
                 values (${tenantId}, ${order!.id}, ${cid}, ${c.totalCents}, ${c.currency}, 'test_card', 'captured')`;
        await tx`delete from cart_items where tenant_id = ${tenantId} and customer_id = ${cid}`;
        await enqueueWebhookEvent(tx, tenantId, 'order.placed', { order_number: number, total_cents: Number(c.totalCents), currency: c.currency, lines: items.length });
        const payment = await paymentMethod();
        return {
          status: 'created' as const,
          summary: `Order ${number} placed: ${c.text}; total ${formatMoney(c.totalCents, c.currency)}, paid with the ${payment}.`,
          order_number: number,
          total: moneyOf(c.totalCents, c.currency),
          payment,
        };
      },
    });
  },
});
