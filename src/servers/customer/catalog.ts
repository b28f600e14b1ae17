// Customer tools: catalog search, price, availability, and recommendations from the customer's
// own order history (docs/DESIGN.md §1, the Workers seed's getPrice/checkInventory).
import { z } from 'zod';
import { defineTool, ToolError, type CallContext } from '../mcp/capability.js';
import { money, moneyOf, pageSize, sku } from '../mcp/fields.js';
import { customerId } from './orders.js';

const productSummary = z.object({
  sku: z.string(), name: z.string(), category: z.string(), price: money.nullable(), available: z.number().int(), in_stock: z.boolean(),
});

interface ProductRow {
  sku: string; name: string; category: string; description: string; returnable: boolean;
  amount_cents: string | null; currency: string | null; available: number;
}

/** Price (current row of the price history) and availability (on hand − reserved, all warehouses). */
export async function productsBySku(ctx: CallContext, skus: string[]): Promise<ProductRow[]> {
  return ctx.tx<ProductRow[]>`
    select p.sku, p.name, p.category, p.description, p.returnable, pp.amount_cents, pp.currency,
      coalesce((select sum(greatest(sl.on_hand - sl.reserved, 0)) from stock_levels sl
                where sl.tenant_id = p.tenant_id and sl.product_id = p.id), 0)::int as available
    from products p
    left join product_prices pp on pp.tenant_id = p.tenant_id and pp.product_id = p.id and pp.valid_to is null
    where p.tenant_id = ${ctx.tenantId} and p.sku = any(${skus}) and p.active`;
}

export async function productBySku(ctx: CallContext, s: string): Promise<ProductRow> {
  const [p] = await productsBySku(ctx, [s]);
  if (!p) throw new ToolError(`product ${s} not found`, 'not_found');
  return p;
}

function summary(p: ProductRow) {
  return {
    sku: p.sku, name: p.name, category: p.category,
    price: p.amount_cents === null ? null : moneyOf(p.amount_cents, p.currency!),
    available: p.available, in_stock: p.available > 0,
  };
}

export const searchProducts = defineTool({
  name: 'search_products',
  title: 'Search products',
  description: 'Searches the shop\'s catalog by words in the product name, description or category; returns price and availability.',
  scope: 'catalog',
  annotations: { readOnlyHint: true, openWorldHint: false },
  input: z.object({
    query: z.string().trim().min(1).max(100).describe('Words to look for, e.g. "tent" or "rain jacket"'),
    category: z.string().trim().min(1).max(64).optional().describe('Only this category'),
    limit: pageSize(25, 10),
  }).strict(),
  output: z.object({ products: z.array(productSummary) }),
  async run(ctx, args) {
    const words = args.query.toLowerCase().split(/\s+/).filter(Boolean).slice(0, 5)
      .map((w) => `%${w.replace(/[\\%_]/g, '\\$&')}%`);
    const rows = await ctx.tx<{ sku: string }[]>`
      select p.sku from products p
      where p.tenant_id = ${ctx.tenantId} and p.active
        ${args.category ? ctx.tx`and p.category = ${args.category}` : ctx.tx``}
        and (select bool_and(lower(p.name || ' ' || p.category || ' ' || p.description) like w) from unnest(${words}::text[]) as w)
      order by p.name limit ${args.limit}`;
    if (rows.length === 0) return { products: [] };
    const found = await productsBySku(ctx, rows.map((r) => r.sku));
    const order = new Map(rows.map((r, i) => [r.sku, i]));
    found.sort((a, b) => order.get(a.sku)! - order.get(b.sku)!);
    return { products: found.map(summary) };
  },
});

export const getPrice = defineTool({
  name: 'get_price',
  title: 'Product price',
  description: 'The current price of one product.',
  scope: 'catalog',
  annotations: { readOnlyHint: true, openWorldHint: false },
  input: z.object({ sku }).strict(),
  output: z.object({ sku: z.string(), name: z.string(), price: money.nullable() }),
  async run(ctx, args) {
    const p = await productBySku(ctx, args.sku);
    return { sku: p.sku, name: p.name, price: p.amount_cents === null ? null : moneyOf(p.amount_cents, p.currency!) };
  },
});

export const checkInventory = defineTool({
  name: 'check_inventory',
  title: 'Check availability',
  description: 'Whether a product is available, and whether the wanted quantity can be ordered now.',
  scope: 'catalog',
  annotations: { readOnlyHint: true, openWorldHint: false },
  input: z.object({ sku, quantity: z.number().int().min(1).max(100).default(1) }).strict(),
  output: z.object({ sku: z.string(), name: z.string(), available: z.number().int(), can_order: z.boolean() }),
  async run(ctx, args) {
    const p = await productBySku(ctx, args.sku);
    return { sku: p.sku, name: p.name, available: p.available, can_order: p.available >= args.quantity };
  },
});

export const recommendProducts = defineTool({
  name: 'recommend_products',
  title: 'Recommendations',
  description: 'Suggests in-stock products from the categories the customer bought before, excluding what they already bought.',
  scope: 'catalog',
  annotations: { readOnlyHint: true, openWorldHint: false },
  input: z.object({ limit: pageSize(10, 5) }).strict(),
  output: z.object({ based_on_categories: z.array(z.string()), products: z.array(productSummary) }),
  async run(ctx, args) {
    const { tx, tenantId } = ctx;
    const cid = customerId(ctx);
    const history = await tx<{ category: string; product_id: string }[]>`
      select p.category, p.id as product_id from order_lines l
      join products p on p.tenant_id = l.tenant_id and p.id = l.product_id
      where l.tenant_id = ${tenantId} and l.customer_id = ${cid}`;
    const categories = [...new Set(history.map((h) => h.category))];
    const bought = [...new Set(history.map((h) => h.product_id))];
    const rows = await tx<{ sku: string }[]>`
      select p.sku from products p
      where p.tenant_id = ${tenantId} and p.active
        and ${categories.length ? tx`p.category = any(${categories})` : tx`true`}
        and not (p.id = any(${bought}::uuid[]))
        and exists (select 1 from stock_levels sl where sl.tenant_id = p.tenant_id and sl.product_id = p.id and sl.on_hand > sl.reserved)
      order by p.name limit ${args.limit}`;
    const found = rows.length ? await productsBySku(ctx, rows.map((r) => r.sku)) : [];
    found.sort((a, b) => a.name.localeCompare(b.name));
    return { based_on_categories: categories.sort(), products: found.map(summary) };
  },
});
