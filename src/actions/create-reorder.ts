// create_reorder: a purchase order for one product to one supplier, delivered to one warehouse.
// Refused when the product is withdrawn or not stocked there, when an open purchase order for the
// same product and warehouse exists (a reorder already on its way), or when no unit cost is known.
//
// A8: the guardrail value is quantity × max(cost on file, the unit cost passed). The cost on file is
// the catalogue cost (products.unit_cost_cents) or, higher of the two, the highest unit cost of the
// product's last five purchase orders; with neither on file the value cannot be measured and the
// reorder waits for approval, whatever unit cost the requester names.
import { z } from 'zod';
import type { Tx } from '../db/context.js';
import { ActionRefused, defineExecutor, formatMoney, money, nextNumber, reference, tenantCurrency, type ExecutorContext } from './executor.js';

const args = z.object({
  sku: reference('SKU').describe('Product SKU, e.g. TNT-001'),
  warehouse_code: reference('warehouse code').describe('Warehouse code, e.g. AMS-1'),
  supplier: z.string().trim().min(1).max(120).describe('Supplier name'),
  quantity: z.number().int().min(1).max(100_000),
  unit_cost_cents: z.number().int().min(0).max(10_000_000).optional()
    .describe('Unit cost in cents for the purchase order; defaults to the last purchase order\'s (or the catalogue) cost. The guardrail values the reorder at the cost on file when that is higher'),
}).strict();
type Args = z.infer<typeof args>;

interface Facts {
  productId: string; productName: string; warehouseId: string; supplierId: string; supplierName: string; leadTimeDays: number;
  onHand: number; reserved: number; reorderPoint: number; unitCost: number; currency: string;
  /** The cost the shop has on file (catalogue or recent purchase orders), null when none. */
  costOnFile: number | null;
}

async function facts(tx: Tx, ctx: ExecutorContext, a: Args, lock: boolean): Promise<Facts> {
  const { tenantId } = ctx;
  const [product] = await tx<{ id: string; name: string; active: boolean; unit_cost_cents: string | null }[]>`
    select id, name, active, unit_cost_cents from products where tenant_id = ${tenantId} and sku = ${a.sku.toUpperCase()}`;
  if (!product) throw new ActionRefused(`no product with SKU ${a.sku}: look it up with low_stock or the catalogue`, 'not_found');
  if (!product.active) throw new ActionRefused(`${a.sku} (${product.name}) is withdrawn from sale: it cannot be reordered`);
  const [warehouse] = await tx<{ id: string }[]>`select id from warehouses where tenant_id = ${tenantId} and code = ${a.warehouse_code.toUpperCase()}`;
  if (!warehouse) {
    const codes = await tx<{ code: string }[]>`select code from warehouses where tenant_id = ${tenantId} order by code`;
    throw new ActionRefused(`no warehouse ${a.warehouse_code}: use one of ${codes.map((c) => c.code).join(', ')}`, 'not_found');
  }
  const [supplier] = await tx<{ id: string; name: string; lead_time_days: number }[]>`
    select id, name, lead_time_days from suppliers where tenant_id = ${tenantId} and lower(name) = ${a.supplier.toLowerCase()}`;
  if (!supplier) {
    const names = await tx<{ name: string }[]>`select name from suppliers where tenant_id = ${tenantId} order by name`;
    throw new ActionRefused(`no supplier named "${a.supplier}": use one of ${names.map((s) => s.name).join(', ')}`, 'not_found');
  }
  const [stock] = lock
    ? await tx<{ on_hand: number; reserved: number; reorder_point: number }[]>`
        select on_hand, reserved, reorder_point from stock_levels
        where tenant_id = ${tenantId} and warehouse_id = ${warehouse.id} and product_id = ${product.id} for update`
    : await tx<{ on_hand: number; reserved: number; reorder_point: number }[]>`
        select on_hand, reserved, reorder_point from stock_levels
        where tenant_id = ${tenantId} and warehouse_id = ${warehouse.id} and product_id = ${product.id}`;
  if (!stock) throw new ActionRefused(`${a.sku} is not stocked in ${a.warehouse_code}: reorder it for a warehouse that carries it`);
  const [open] = await tx<{ number: string; quantity: number; status: string }[]>`
    select number, quantity, status from purchase_orders
    where tenant_id = ${tenantId} and product_id = ${product.id} and warehouse_id = ${warehouse.id} and status in ('sent', 'confirmed')
    order by created_at desc limit 1`;
  if (open) {
    throw new ActionRefused(
      `purchase order ${open.number} for ${open.quantity} × ${a.sku} to ${a.warehouse_code} is still ${open.status}: wait for it to be received or cancelled instead of reordering`,
      'conflict');
  }
  const [recent] = await tx<{ highest: string | null; latest: string | null }[]>`
    select max(unit_cost_cents) as highest, (array_agg(unit_cost_cents order by created_at desc))[1] as latest
    from (select unit_cost_cents, created_at from purchase_orders where tenant_id = ${tenantId} and product_id = ${product.id}
          order by created_at desc limit 5) last_five`;
  const catalogue = product.unit_cost_cents === null ? null : Number(product.unit_cost_cents);
  const fromOrders = recent?.highest == null ? null : Number(recent.highest);
  const costOnFile = catalogue === null && fromOrders === null ? null : Math.max(catalogue ?? 0, fromOrders ?? 0);
  const unitCost = a.unit_cost_cents ?? (recent?.latest != null ? Number(recent.latest) : catalogue);
  if (unitCost === null) throw new ActionRefused(`no earlier purchase order or catalogue cost gives a unit cost for ${a.sku}: pass unit_cost_cents`);
  return {
    productId: product.id, productName: product.name, warehouseId: warehouse.id, supplierId: supplier.id, supplierName: supplier.name,
    leadTimeDays: supplier.lead_time_days, onHand: stock.on_hand, reserved: stock.reserved, reorderPoint: stock.reorder_point,
    unitCost, currency: await tenantCurrency(tx, tenantId), costOnFile,
  };
}

export const createReorder = defineExecutor({
  tool: 'create_reorder',
  title: 'Create a reorder',
  description: 'Sends a purchase order for one product to a supplier, for delivery to one warehouse.',
  scope: 'stock:reorder',
  args,
  async prepare(tx, ctx, a) {
    const f = await facts(tx, ctx, a, false);
    const value = a.quantity * f.unitCost;
    // A8: measured at the cost on file; the unit cost passed only counts when it is higher.
    const measured = f.costOnFile === null ? null : a.quantity * Math.max(f.costOnFile, f.unitCost);
    return {
      summary: `Purchase order: ${a.quantity} × ${a.sku.toUpperCase()} (${f.productName}) from ${f.supplierName} to ${a.warehouse_code.toUpperCase()}, ${formatMoney(value, f.currency)}`
        + (measured !== null && measured > value ? ` (${formatMoney(measured, f.currency)} at the cost on file)` : '')
        + (measured === null ? ' (no cost on file to check it against)' : ''),
      measures: measured === null ? { quantity: a.quantity } as Record<string, number> : { quantity: a.quantity, value_cents: measured },
      scope: { productId: f.productId },
      valueCents: measured,
      context: {
        stock: { on_hand: f.onHand, reserved: f.reserved, available: f.onHand - f.reserved, reorder_point: f.reorderPoint },
        unit_cost: money(f.unitCost, f.currency),
        cost_on_file: f.costOnFile === null ? null : money(f.costOnFile, f.currency),
        supplier_lead_time_days: f.leadTimeDays,
      },
    };
  },
  async execute(tx, ctx, a) {
    const f = await facts(tx, ctx, a, true);
    const number = await nextNumber(tx, ctx.tenantId, 'purchase_orders', 'PO-');
    await tx`
      insert into purchase_orders (tenant_id, number, supplier_id, warehouse_id, product_id, quantity, unit_cost_cents, status, action_id, created_by)
      values (${ctx.tenantId}, ${number}, ${f.supplierId}, ${f.warehouseId}, ${f.productId}, ${a.quantity}, ${f.unitCost}, 'sent',
              ${ctx.actionId}, ${ctx.requestedBy})`;
    const expected = new Date(Date.now() + f.leadTimeDays * 86_400_000).toISOString().slice(0, 10);
    return {
      purchase_order_number: number, sku: a.sku.toUpperCase(), product_name: f.productName, warehouse_code: a.warehouse_code.toUpperCase(),
      supplier: f.supplierName, quantity: a.quantity, unit_cost: money(f.unitCost, f.currency),
      total: money(a.quantity * f.unitCost, f.currency), status: 'sent', expected_delivery: expected,
    };
  },
});
