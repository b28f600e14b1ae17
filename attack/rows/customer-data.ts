// Helpers over the customer tools that several rows need: whose orders are whose, a returnable line.
import type { AttackContext, Persona } from '../context.js';
import { callTool, mustCall } from '../mcp.js';

export async function orderNumbers(ctx: AttackContext, who: Persona): Promise<string[]> {
  const token = await ctx.accessToken(who);
  const out = await mustCall(ctx.http, ctx.customerUrl(ctx.tenantOf(who)), token, 'list_orders', { limit: 50 });
  return ((out.orders ?? []) as { order_number: string }[]).map((o) => o.order_number);
}

export interface ReturnableLine {
  order_number: string;
  line_no: number;
  returnable_quantity: number;
}

/** A delivered order of `who` with a line that can still be returned, or undefined. */
export async function returnableLine(ctx: AttackContext, who: Persona, exclude: string[] = []): Promise<ReturnableLine | undefined> {
  const token = await ctx.accessToken(who);
  const url = ctx.customerUrl(ctx.tenantOf(who));
  const out = await mustCall(ctx.http, url, token, 'list_orders', { limit: 50, status: 'delivered' });
  for (const o of (out.orders ?? []) as { order_number: string }[]) {
    if (exclude.includes(o.order_number)) continue;
    const e = await callTool(ctx.http, url, token, 'check_return_eligibility', { order_number: o.order_number });
    const lines = ((e.structured?.lines ?? []) as { line_no: number; eligible: boolean; returnable_quantity: number }[]);
    const line = lines.find((l) => l.eligible && l.returnable_quantity > 0);
    if (line) return { order_number: o.order_number, line_no: line.line_no, returnable_quantity: line.returnable_quantity };
  }
  return undefined;
}

export async function returnableQuantity(ctx: AttackContext, who: Persona, orderNumber: string, lineNo: number): Promise<number | undefined> {
  const e = await callTool(ctx.http, ctx.customerUrl(ctx.tenantOf(who)), await ctx.accessToken(who), 'check_return_eligibility', { order_number: orderNumber });
  return ((e.structured?.lines ?? []) as { line_no: number; returnable_quantity: number }[]).find((l) => l.line_no === lineNo)?.returnable_quantity;
}

/** An orderable SKU of the persona's tenant. */
export async function orderableSku(ctx: AttackContext, who: Persona): Promise<string | undefined> {
  const url = ctx.customerUrl(ctx.tenantOf(who));
  const token = await ctx.accessToken(who);
  for (const q of ['a', 'e', 'o']) {
    const out = await callTool(ctx.http, url, token, 'search_products', { query: q, limit: 25 });
    for (const p of (out.structured?.products ?? []) as { sku: string }[]) {
      const inv = await callTool(ctx.http, url, token, 'check_inventory', { sku: p.sku, quantity: 1 });
      if (inv.structured?.can_order === true) return p.sku;
    }
  }
  return undefined;
}
