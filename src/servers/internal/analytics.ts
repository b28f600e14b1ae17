// The seed's analytics on the internal endpoint (issue 12 item 5): sales trends against the
// previous period, and our prices against the competitor prices observed. Read-only, scope
// ops:read, staff context (RLS shows the tenant; the explicit tenant predicate is defence in depth).
// A price change they lead to is change_price, an action like any other (approval path).
import { z } from 'zod';
import { tenantCurrency } from '../../actions/executor.js';
import { defineTool } from '../mcp/capability.js';
import { iso, money, moneyOf, pageSize, sku } from '../mcp/fields.js';

const date = z.iso.date({ message: 'use a real date as YYYY-MM-DD' });
const DAY_MS = 86_400_000;
/** Orders that count as sales: paid and after (not cancelled, not awaiting payment). */
const SOLD_STATUSES = ['paid', 'picking', 'shipped', 'delivered', 'returned'] as const;

/** (current − previous) / previous in percent, one decimal; null when there was nothing before (pure). */
export function changePercent(current: number, previous: number): number | null {
  if (previous === 0) return null;
  return Math.round(((current - previous) / previous) * 1000) / 10;
}

function addDays(d: string, n: number): string {
  return new Date(Date.parse(`${d}T00:00:00Z`) + n * DAY_MS).toISOString().slice(0, 10);
}

function daysBetween(from: string, to: string): number {
  return Math.round((Date.parse(`${to}T00:00:00Z`) - Date.parse(`${from}T00:00:00Z`)) / DAY_MS);
}

const bucketOutput = z.object({ start: z.string(), end: z.string(), units: z.number().int(), revenue_cents: z.number().int() });
const groupOutput = z.object({
  key: z.string().describe('The SKU or the category'),
  name: z.string(),
  units: z.number().int(), revenue: money,
  previous_units: z.number().int(), previous_revenue: money,
  units_change_pct: z.number().nullable().describe('Against the previous period; null when it sold nothing'),
  revenue_change_pct: z.number().nullable(),
  buckets: z.array(bucketOutput).describe('Oldest first; a week bucket is 7 days ending on the period\'s end (the oldest may be shorter)'),
});

export const salesTrends = defineTool({
  name: 'sales_trends',
  title: 'Sales trends',
  description: 'Units sold and revenue by product or category, per day or week, over a period of N days ending on end_date (default today, UTC dates), ' +
    'against the previous period of the same length, with the change in percent. Counts the lines of orders paid or later (not cancelled or unpaid), in the shop\'s currency.',
  scope: 'ops:read',
  annotations: { readOnlyHint: true, openWorldHint: false },
  input: z.object({
    group_by: z.enum(['product', 'category']).default('category'),
    bucket: z.enum(['day', 'week']).default('week'),
    days: z.number().int().min(1).max(366).default(28).describe('Length of the period in days (1–366, default 28)'),
    end_date: date.optional().describe('Last day of the period (YYYY-MM-DD, default today)'),
    category: z.string().trim().min(1).max(64).optional(),
    sku: sku.optional(),
    limit: pageSize(100, 25),
  }).strict(),
  output: z.object({
    period: z.object({ start: z.string(), end: z.string(), days: z.number().int() }),
    previous_period: z.object({ start: z.string(), end: z.string() }),
    group_by: z.string(), bucket: z.string(), currency: z.string(),
    totals: groupOutput.omit({ key: true, name: true, buckets: true }),
    groups: z.array(groupOutput).describe('Largest revenue first'),
  }),
  async run(ctx, args) {
    const { tx, tenantId } = ctx;
    const currency = await tenantCurrency(tx, tenantId);
    const [today] = await tx<{ d: string }[]>`select (now() at time zone 'UTC')::date::text as d`;
    const end = args.end_date ?? today!.d;
    const start = addDays(end, -(args.days - 1));
    const previousStart = addDays(start, -args.days);
    const byProduct = args.group_by === 'product';
    const rows = await tx<{ key: string; name: string; day: string; units: string; revenue: string }[]>`
      select ${byProduct ? tx`p.sku` : tx`p.category`} as key, ${byProduct ? tx`min(p.name)` : tx`p.category`} as name,
             (o.placed_at at time zone 'UTC')::date::text as day, sum(l.quantity)::text as units,
             sum(l.quantity::bigint * l.unit_price_cents)::text as revenue
      from order_lines l
      join orders o on o.tenant_id = l.tenant_id and o.id = l.order_id
      join products p on p.tenant_id = l.tenant_id and p.id = l.product_id
      where l.tenant_id = ${tenantId} and o.status::text in ${tx(SOLD_STATUSES as unknown as string[])} and o.currency = ${currency}
        and o.placed_at >= (${previousStart}::date)::timestamp at time zone 'UTC'
        and o.placed_at < (${end}::date + 1)::timestamp at time zone 'UTC'
        ${args.category ? tx`and p.category = ${args.category}` : tx``}
        ${args.sku ? tx`and p.sku = ${args.sku.toUpperCase()}` : tx``}
      group by 1, ${byProduct ? tx`p.sku` : tx`p.category`}, 3`;

    const width = args.bucket === 'day' ? 1 : 7;
    const count = Math.ceil(args.days / width);
    const bucketOf = (day: string) => Math.floor(daysBetween(day, end) / width); // 0 = newest
    const emptyBuckets = () => Array.from({ length: count }, (_, i) => {
      const bEnd = addDays(end, -i * width);
      const bStart = i === count - 1 ? start : addDays(bEnd, -(width - 1));
      return { start: bStart, end: bEnd, units: 0, revenue_cents: 0 };
    }).reverse();
    const groups = new Map<string, { key: string; name: string; units: number; revenue: number; pu: number; pr: number; buckets: ReturnType<typeof emptyBuckets> }>();
    const totals = { units: 0, revenue: 0, pu: 0, pr: 0 };
    for (const r of rows) {
      let g = groups.get(r.key);
      if (!g) groups.set(r.key, g = { key: r.key, name: r.name, units: 0, revenue: 0, pu: 0, pr: 0, buckets: emptyBuckets() });
      const units = Number(r.units);
      const revenue = Number(r.revenue);
      if (r.day >= start) {
        g.units += units; g.revenue += revenue; totals.units += units; totals.revenue += revenue;
        const b = g.buckets[count - 1 - bucketOf(r.day)]!;
        b.units += units; b.revenue_cents += revenue;
      } else {
        g.pu += units; g.pr += revenue; totals.pu += units; totals.pr += revenue;
      }
    }
    const summary = (x: { units: number; revenue: number; pu: number; pr: number }) => ({
      units: x.units, revenue: moneyOf(x.revenue, currency), previous_units: x.pu, previous_revenue: moneyOf(x.pr, currency),
      units_change_pct: changePercent(x.units, x.pu), revenue_change_pct: changePercent(x.revenue, x.pr),
    });
    return {
      period: { start, end, days: args.days },
      previous_period: { start: previousStart, end: addDays(start, -1) },
      group_by: args.group_by, bucket: args.bucket, currency,
      totals: summary(totals),
      groups: [...groups.values()]
        .sort((a, b) => b.revenue - a.revenue || b.pr - a.pr || (a.key < b.key ? -1 : 1))
        .slice(0, args.limit)
        .map((g) => ({ key: g.key, name: g.name, ...summary(g), buckets: g.buckets })),
    };
  },
});

export const competitorPrices = defineTool({
  name: 'competitor_prices',
  title: 'Competitor prices',
  description: 'Our current price per SKU against the latest observed price of each competitor: the gap (our price minus theirs: positive means we are ' +
    'dearer) in cents and in percent of their price, and how old the observation is. SKUs without observations are left out. Suggestions only: a new price is change_price, which may need approval.',
  scope: 'ops:read',
  annotations: { readOnlyHint: true, openWorldHint: false },
  input: z.object({
    sku: sku.optional(),
    category: z.string().trim().min(1).max(64).optional(),
    competitor: z.string().trim().min(1).max(100).optional(),
    limit: pageSize(100, 25),
  }).strict(),
  output: z.object({
    products: z.array(z.object({
      sku: z.string(), product_name: z.string(), category: z.string(), our_price: money.nullable(),
      competitors: z.array(z.object({
        competitor: z.string(), price: money, observed_at: z.string(), age_hours: z.number().int(),
        gap_cents: z.number().int().nullable().describe('Our price minus theirs; null when the currencies differ or we have no price'),
        gap_pct: z.number().nullable().describe('gap_cents in percent of their price, one decimal'),
      })).describe('Cheapest first'),
    })),
  }),
  async run(ctx, args) {
    const { tx, tenantId } = ctx;
    const rows = await tx<{ sku: string; name: string; category: string; our_cents: string | null; our_currency: string | null;
      competitor: string; price_cents: string; currency: string; observed_at: Date; age_hours: number }[]>`
      with chosen as (
        select p.id, p.sku, p.name, p.category from products p
        where p.tenant_id = ${tenantId}
          and exists (select 1 from competitor_price_observations c where c.tenant_id = p.tenant_id and c.product_id = p.id
                      ${args.competitor ? tx`and c.competitor = ${args.competitor}` : tx``})
          ${args.sku ? tx`and p.sku = ${args.sku.toUpperCase()}` : tx``}
          ${args.category ? tx`and p.category = ${args.category}` : tx``}
        order by p.sku limit ${args.limit})
      select ch.sku, ch.name, ch.category, pp.amount_cents as our_cents, pp.currency as our_currency,
             o.competitor, o.price_cents, o.currency, o.observed_at,
             floor(extract(epoch from now() - o.observed_at) / 3600)::int as age_hours
      from chosen ch
      left join product_prices pp on pp.tenant_id = ${tenantId} and pp.product_id = ch.id and pp.valid_to is null
      join lateral (
        select distinct on (c.competitor) c.competitor, c.price_cents, c.currency, c.observed_at
        from competitor_price_observations c
        where c.tenant_id = ${tenantId} and c.product_id = ch.id ${args.competitor ? tx`and c.competitor = ${args.competitor}` : tx``}
        order by c.competitor, c.observed_at desc, c.id) o on true
      order by ch.sku, o.price_cents, o.competitor`;
    const products = new Map<string, { sku: string; product_name: string; category: string; our_price: { amount_cents: number; currency: string } | null;
      competitors: { competitor: string; price: { amount_cents: number; currency: string }; observed_at: string; age_hours: number; gap_cents: number | null; gap_pct: number | null }[] }>();
    for (const r of rows) {
      let p = products.get(r.sku);
      if (!p) products.set(r.sku, p = { sku: r.sku, product_name: r.name, category: r.category,
        our_price: r.our_cents === null ? null : moneyOf(r.our_cents, r.our_currency!), competitors: [] });
      const theirs = Number(r.price_cents);
      const comparable = p.our_price !== null && p.our_price.currency === r.currency;
      const gap = comparable ? p.our_price!.amount_cents - theirs : null;
      p.competitors.push({
        competitor: r.competitor, price: moneyOf(theirs, r.currency), observed_at: iso(r.observed_at)!, age_hours: Math.max(0, r.age_hours),
        gap_cents: gap, gap_pct: gap === null || theirs === 0 ? null : Math.round((gap / theirs) * 1000) / 10,
      });
    }
    return { products: [...products.values()] };
  },
});
