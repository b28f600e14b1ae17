// Customer resources: my order (order://{number}), the returns policy, product pages.
import type { ResourceTemplateDefinition, StaticResourceDefinition } from '../mcp/capability.js';
import { loadOrderDetail } from '../shared/order-detail.js';
import { loadReturnsPolicy } from '../shared/returns-policy.js';
import { customerId } from './orders.js';
import { productBySku } from './catalog.js';

const ORDER_URI = /^order:\/\/([A-Za-z0-9][A-Za-z0-9-]{0,39})$/;
const PRODUCT_URI = /^product:\/\/([A-Za-z0-9][A-Za-z0-9._-]{0,63})$/;

export const returnsPolicyResource: StaticResourceDefinition = {
  uri: 'policy://returns',
  name: 'returns-policy',
  title: 'Returns policy',
  description: 'The shop\'s returns policy: window after delivery, non-returnable categories, conditions.',
  mimeType: 'application/json',
  scope: null,
  read: (ctx) => loadReturnsPolicy(ctx),
};

export const orderResource: ResourceTemplateDefinition = {
  uriTemplate: 'order://{order_number}',
  name: 'order',
  title: 'My order',
  description: 'One of the customer\'s orders with lines, tracking and lateness, as JSON.',
  mimeType: 'application/json',
  scope: 'orders',
  match(uri) {
    const m = ORDER_URI.exec(uri);
    return m ? { order_number: m[1]! } : null;
  },
  async read(ctx, params) {
    const order = await loadOrderDetail(ctx.tx, ctx.tenantId, customerId(ctx), params.order_number!);
    if (!order) return null;
    const { customer_id: _hidden, ...visible } = order;
    return visible;
  },
  async list(ctx) {
    const rows = await ctx.tx<{ number: string; status: string }[]>`
      select number, status::text as status from orders
      where tenant_id = ${ctx.tenantId} and customer_id = ${customerId(ctx)}
      order by placed_at desc limit 20`;
    return rows.map((r) => ({ uri: `order://${r.number}`, name: r.number, title: `Order ${r.number} (${r.status})` }));
  },
};

export const productResource: ResourceTemplateDefinition = {
  uriTemplate: 'product://{sku}',
  name: 'product',
  title: 'Product page',
  description: 'A product page: description, price, availability and whether it can be returned.',
  mimeType: 'text/markdown',
  scope: 'catalog',
  match(uri) {
    const m = PRODUCT_URI.exec(uri);
    return m ? { sku: m[1]! } : null;
  },
  async read(ctx, params) {
    const p = await productBySku(ctx, params.sku!).catch(() => null);
    if (!p) return null;
    const price = p.amount_cents === null ? 'not for sale at the moment' : `${(Number(p.amount_cents) / 100).toFixed(2)} ${p.currency}`;
    return [
      `# ${p.name}`,
      '',
      `SKU: ${p.sku} · Category: ${p.category}`,
      `Price: ${price}`,
      `Availability: ${p.available > 0 ? `${p.available} in stock` : 'out of stock'}`,
      `Returnable: ${p.returnable ? 'yes, under the returns policy' : 'no'}`,
      '',
      p.description,
    ].join('\n');
  },
};
