// change_price: sets a product's current price. The history is kept (product_prices): the current
// row is closed (valid_to) and a new one opened, in one step under a lock on the current row.
import { z } from 'zod';
import type { Tx } from '../db/context.js';
import { ActionRefused, defineExecutor, formatMoney, money, reference, staffText, type ExecutorContext } from './executor.js';

const args = z.object({
  sku: reference('SKU'),
  new_price_cents: z.number().int().min(1).max(100_000_000),
  reason: staffText(500).optional(),
}).strict();
type Args = z.infer<typeof args>;

interface Facts { productId: string; name: string; priceId: string; current: number; currency: string }

async function facts(tx: Tx, ctx: ExecutorContext, a: Args, lock: boolean): Promise<Facts> {
  const [p] = await tx<{ id: string; name: string; active: boolean; price_id: string | null; amount_cents: string | null; currency: string | null }[]>`
    select p.id, p.name, p.active, pp.id as price_id, pp.amount_cents, pp.currency
    from products p left join product_prices pp on pp.tenant_id = p.tenant_id and pp.product_id = p.id and pp.valid_to is null
    where p.tenant_id = ${ctx.tenantId} and p.sku = ${a.sku.toUpperCase()}
    ${lock ? tx`for update of p` : tx``}`;
  if (!p) throw new ActionRefused(`no product with SKU ${a.sku}`, 'not_found');
  if (!p.active) throw new ActionRefused(`${a.sku.toUpperCase()} (${p.name}) is withdrawn from sale: its price cannot change`);
  if (!p.price_id || p.amount_cents === null) throw new ActionRefused(`${a.sku.toUpperCase()} has no current price to change`, 'conflict');
  if (Number(p.amount_cents) === a.new_price_cents) {
    throw new ActionRefused(`${a.sku.toUpperCase()} already costs ${formatMoney(a.new_price_cents, p.currency!)}: nothing to change`, 'conflict');
  }
  return { productId: p.id, name: p.name, priceId: p.price_id, current: Number(p.amount_cents), currency: p.currency! };
}

/** |new − old| / old in percent, rounded up to two decimals so a limit is never undercut by rounding. */
export function changePercent(oldCents: number, newCents: number): number {
  return Math.ceil((Math.abs(newCents - oldCents) / oldCents) * 10_000) / 100;
}

export const changePrice = defineExecutor({
  tool: 'change_price',
  title: 'Change a price',
  description: 'Sets a product\'s current price; the previous price stays in the price history.',
  scope: 'prices:write',
  args,
  async prepare(tx, ctx, a) {
    const f = await facts(tx, ctx, a, false);
    const percent = changePercent(f.current, a.new_price_cents);
    return {
      summary: `Change the price of ${a.sku.toUpperCase()} (${f.name}) from ${formatMoney(f.current, f.currency)} to ${formatMoney(a.new_price_cents, f.currency)} (${a.new_price_cents > f.current ? '+' : '−'}${percent}%)`,
      measures: { change_percent: percent },
      scope: { productId: f.productId },
      valueCents: Math.abs(a.new_price_cents - f.current),
      context: { current_price: money(f.current, f.currency), change_percent: percent },
    };
  },
  async execute(tx, ctx, a) {
    const f = await facts(tx, ctx, a, true);
    await tx`update product_prices set valid_to = now() where tenant_id = ${ctx.tenantId} and id = ${f.priceId} and valid_to is null`;
    await tx`insert into product_prices (tenant_id, product_id, amount_cents, currency, valid_from, changed_by)
             values (${ctx.tenantId}, ${f.productId}, ${a.new_price_cents}, ${f.currency}, now(), ${ctx.requestedBy})`;
    return { sku: a.sku.toUpperCase(), product_name: f.name, previous_price: money(f.current, f.currency), price: money(a.new_price_cents, f.currency),
      change_percent: changePercent(f.current, a.new_price_cents) };
  },
});
