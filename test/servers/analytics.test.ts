// The seed's analytics (issue 12 item 5): sales_trends and competitor_prices checked against a
// fixture whose expected figures are computed here, in plain JS from the inserted rows (period
// edges on both sides, statuses that do not count, weekly buckets), and against raw SQL over the
// seeded data; the price_review prompt points at both tools and at change_price.
import assert from 'node:assert/strict';
import { before, describe, test } from 'node:test';
import type { Client } from '@modelcontextprotocol/client';
import { connect, internalUrl, staffToken } from './helpers.js';
import { startTestService, type TestService } from '../support/service.js';

let s: TestService;
let staff: Client;
let tenantId: string;
let currency: string;
const CATEGORY = 'Analytics Fixture';
const END = '2026-01-31';
const DAYS = 14; // current: 01-18..01-31, previous: 01-04..01-17

interface FixtureOrder { at: string; status: string; lines: [string, number, number][] } // [sku, quantity, unit cents]
const ORDERS: FixtureOrder[] = [
  { at: '2026-01-31T23:59:59Z', status: 'paid', lines: [['FIX-A', 2, 1500], ['FIX-B', 1, 4000]] }, // last second of the period
  { at: '2026-02-01T00:00:00Z', status: 'paid', lines: [['FIX-A', 9, 1500]] }, // one second after: out
  { at: '2026-01-25T10:00:00Z', status: 'delivered', lines: [['FIX-A', 3, 1400]] },
  { at: '2026-01-24T10:00:00Z', status: 'shipped', lines: [['FIX-B', 2, 3900]] }, // the older week bucket's last day
  { at: '2026-01-18T00:00:00Z', status: 'returned', lines: [['FIX-A', 1, 1500]] }, // first second of the period
  { at: '2026-01-17T23:59:59Z', status: 'picking', lines: [['FIX-A', 4, 1500]] }, // last second of the previous period
  { at: '2026-01-10T12:00:00Z', status: 'paid', lines: [['FIX-B', 3, 4000], ['FIX-A', 1, 1500]] },
  { at: '2026-01-04T00:00:00Z', status: 'delivered', lines: [['FIX-A', 2, 1500]] }, // first second of the previous period
  { at: '2026-01-03T23:59:59Z', status: 'paid', lines: [['FIX-A', 7, 1500]] }, // before the previous period: out
  { at: '2026-01-20T09:00:00Z', status: 'cancelled', lines: [['FIX-A', 5, 1500]] }, // cancelled: out
  { at: '2026-01-21T09:00:00Z', status: 'pending_payment', lines: [['FIX-B', 5, 4000]] }, // unpaid: out
];

/** Expected figures, straight from the fixture. */
function expected(groupBy: 'product' | 'category') {
  const counts = new Set(['paid', 'picking', 'shipped', 'delivered', 'returned']);
  const inRange = (at: string, from: string, to: string) => at.slice(0, 10) >= from && at.slice(0, 10) <= to;
  const groups = new Map<string, { units: number; revenue: number; pu: number; pr: number; weeks: [number, number][] }>();
  for (const o of ORDERS) {
    if (!counts.has(o.status)) continue;
    for (const [sku, q, unit] of o.lines) {
      const key = groupBy === 'product' ? sku : CATEGORY;
      const g = groups.get(key) ?? { units: 0, revenue: 0, pu: 0, pr: 0, weeks: [[0, 0], [0, 0]] };
      groups.set(key, g);
      if (inRange(o.at, '2026-01-18', '2026-01-31')) {
        g.units += q; g.revenue += q * unit;
        const w = inRange(o.at, '2026-01-25', '2026-01-31') ? 1 : 0;
        g.weeks[w]![0] += q; g.weeks[w]![1] += q * unit;
      } else if (inRange(o.at, '2026-01-04', '2026-01-17')) {
        g.pu += q; g.pr += q * unit;
      }
    }
  }
  return groups;
}

const pct = (cur: number, prev: number) => (prev === 0 ? null : Math.round(((cur - prev) / prev) * 1000) / 10);

async function call(name: string, args: Record<string, unknown>) {
  const r = await staff.callTool({ name, arguments: args });
  assert.ok(!r.isError, JSON.stringify(r.content));
  return r.structuredContent as Record<string, any>;
}

before(async () => {
  s = await startTestService();
  const db = s.database.owner;
  const [t] = await db<{ id: string; currency: string }[]>`select t.id, ts.currency from tenants t join tenant_settings ts on ts.tenant_id = t.id where t.slug = 'acme'`;
  tenantId = t!.id;
  currency = t!.currency;
  const [customer] = await db<{ id: string }[]>`select id from customers where tenant_id = ${tenantId} and email = 'alice@acme.example'`;
  const products: Record<string, string> = {};
  for (const [sku, price] of [['FIX-A', 1499], ['FIX-B', 3999]] as const) {
    const [p] = await db<{ id: string }[]>`insert into products (tenant_id, sku, name, category) values (${tenantId}, ${sku}, ${`Fixture ${sku}`}, ${CATEGORY}) returning id`;
    products[sku] = p!.id;
    await db`insert into product_prices (tenant_id, product_id, amount_cents, currency, valid_from) values (${tenantId}, ${p!.id}, ${price}, ${currency}, now() - interval '1 year')`;
  }
  for (const [i, o] of ORDERS.entries()) {
    const total = o.lines.reduce((n, [, q, u]) => n + q * u, 0);
    const [row] = await db<{ id: string }[]>`
      insert into orders (tenant_id, number, customer_id, status, currency, total_cents, placed_at)
      values (${tenantId}, ${`FIX-ORD-${i + 1}`}, ${customer!.id}, ${o.status}, ${currency}, ${total}, ${o.at}) returning id`;
    for (const [n, [sku, q, unit]] of o.lines.entries()) {
      await db`insert into order_lines (tenant_id, order_id, line_no, customer_id, product_id, quantity, unit_price_cents)
               values (${tenantId}, ${row!.id}, ${n + 1}, ${customer!.id}, ${products[sku]!}, ${q}, ${unit})`;
    }
  }
  staff = await connect(internalUrl(s, 'acme'), (await staffToken(s, 'acme', 'supply@acme.example', 'ops:read')).token);
});

describe('sales_trends', () => {
  test('by product, weekly: units, revenue, previous period and change against the fixture (edges on both sides)', async () => {
    const r = await call('sales_trends', { group_by: 'product', bucket: 'week', days: DAYS, end_date: END, category: CATEGORY });
    assert.deepEqual(r.period, { start: '2026-01-18', end: END, days: DAYS });
    assert.deepEqual(r.previous_period, { start: '2026-01-04', end: '2026-01-17' });
    const want = expected('product');
    assert.deepEqual(r.groups.map((g: { key: string }) => g.key).sort(), [...want.keys()].sort());
    for (const g of r.groups) {
      const e = want.get(g.key)!;
      assert.equal(g.units, e.units, g.key);
      assert.deepEqual(g.revenue, { amount_cents: e.revenue, currency }, g.key);
      assert.equal(g.previous_units, e.pu, g.key);
      assert.equal(g.previous_revenue.amount_cents, e.pr, g.key);
      assert.equal(g.units_change_pct, pct(e.units, e.pu), g.key);
      assert.equal(g.revenue_change_pct, pct(e.revenue, e.pr), g.key);
      assert.deepEqual(g.buckets, [
        { start: '2026-01-18', end: '2026-01-24', units: e.weeks[0]![0], revenue_cents: e.weeks[0]![1] },
        { start: '2026-01-25', end: '2026-01-31', units: e.weeks[1]![0], revenue_cents: e.weeks[1]![1] },
      ], g.key);
    }
    const revenues = r.groups.map((g: { revenue: { amount_cents: number } }) => g.revenue.amount_cents);
    assert.deepEqual(revenues, [...revenues].sort((a, b) => b - a), 'largest revenue first');
  });

  test('by category, daily: totals equal the fixture and the daily series adds up to them', async () => {
    const r = await call('sales_trends', { group_by: 'category', bucket: 'day', days: DAYS, end_date: END, category: CATEGORY });
    const e = expected('category').get(CATEGORY)!;
    assert.equal(r.groups.length, 1);
    const g = r.groups[0];
    assert.equal(g.key, CATEGORY);
    assert.equal(g.buckets.length, DAYS);
    assert.equal(g.buckets[0].start, '2026-01-18');
    assert.equal(g.buckets[DAYS - 1].end, END);
    assert.equal(g.buckets.reduce((n: number, b: { units: number }) => n + b.units, 0), e.units);
    assert.equal(g.buckets.reduce((n: number, b: { revenue_cents: number }) => n + b.revenue_cents, 0), e.revenue);
    assert.deepEqual(r.totals, {
      units: e.units, revenue: { amount_cents: e.revenue, currency }, previous_units: e.pu, previous_revenue: { amount_cents: e.pr, currency },
      units_change_pct: pct(e.units, e.pu), revenue_change_pct: pct(e.revenue, e.pr),
    });
    const jan31 = g.buckets.find((b: { start: string }) => b.start === END);
    assert.deepEqual(jan31, { start: END, end: END, units: 3, revenue_cents: 2 * 1500 + 4000 });
  });

  test('the seeded data: totals per category over 90 days equal raw SQL over orders and lines', async () => {
    const r = await call('sales_trends', { group_by: 'category', bucket: 'week', days: 90, limit: 100 });
    const raw = await s.database.owner<{ category: string; units: number; revenue: number }[]>`
      select p.category, sum(l.quantity)::int as units, sum(l.quantity * l.unit_price_cents)::int as revenue
      from order_lines l join orders o on o.tenant_id = l.tenant_id and o.id = l.order_id
      join products p on p.tenant_id = l.tenant_id and p.id = l.product_id
      where o.tenant_id = ${tenantId} and o.status not in ('cancelled', 'pending_payment')
        and (o.placed_at at time zone 'UTC')::date between ${r.period.start}::date and ${r.period.end}::date
      group by p.category`;
    assert.ok(raw.length > 0, 'the seed sold something in the last 90 days');
    const got = new Map(r.groups.map((g: { key: string; units: number; revenue: { amount_cents: number } }) => [g.key, [g.units, g.revenue.amount_cents]]));
    for (const row of raw) assert.deepEqual(got.get(row.category), [row.units, row.revenue], row.category);
  });

  test('E1 bounds: days 366 accepted, 367 and 0 refused naming the field', async () => {
    assert.ok((await staff.callTool({ name: 'sales_trends', arguments: { days: 366, category: CATEGORY } })).isError !== true);
    for (const days of [0, 367]) {
      const r = await staff.callTool({ name: 'sales_trends', arguments: { days } });
      assert.equal(r.isError, true);
      assert.match(JSON.stringify(r.content), /days/);
    }
  });
});

describe('competitor_prices', () => {
  test('latest observation per competitor, gap in cents and percent of their price, age; other currencies have no gap', async () => {
    const db = s.database.owner;
    const [a] = await db<{ id: string }[]>`select id from products where tenant_id = ${tenantId} and sku = 'FIX-A'`;
    const [b] = await db<{ id: string }[]>`select id from products where tenant_id = ${tenantId} and sku = 'FIX-B'`;
    const now = Date.now();
    const hoursAgo = (h: number) => new Date(now - h * 3_600_000);
    const observations = [
      { product_id: a!.id, competitor: 'PriceHawk', price_cents: 1000, currency, observed_at: hoursAgo(72) },
      { product_id: a!.id, competitor: 'PriceHawk', price_cents: 1400, currency, observed_at: hoursAgo(24) }, // latest
      { product_id: a!.id, competitor: 'ShopRival', price_cents: 1750, currency, observed_at: hoursAgo(48) },
      { product_id: b!.id, competitor: 'ShopRival', price_cents: 3500, currency: currency === 'USD' ? 'EUR' : 'USD', observed_at: hoursAgo(5) },
    ];
    for (const [i, o] of observations.entries()) {
      await db`insert into competitor_price_observations ${db({ tenant_id: tenantId, external_id: `fixture-${i}`, ...o })}`;
    }
    const t0 = Date.now();
    const r = await call('competitor_prices', { category: CATEGORY });
    const t1 = Date.now();
    assert.deepEqual(r.products.map((p: { sku: string }) => p.sku), ['FIX-A', 'FIX-B']);
    const [fa, fb] = r.products;
    assert.deepEqual(fa.our_price, { amount_cents: 1499, currency });
    // Expected from the rows above: latest per competitor, cheapest first.
    const latest = [observations[1]!, observations[2]!];
    assert.deepEqual(fa.competitors.map((c: { competitor: string }) => c.competitor), latest.map((o) => o.competitor));
    for (const [i, o] of latest.entries()) {
      const c = fa.competitors[i];
      assert.deepEqual(c.price, { amount_cents: o.price_cents, currency });
      assert.equal(c.observed_at, o.observed_at.toISOString());
      assert.equal(c.gap_cents, 1499 - o.price_cents);
      assert.equal(c.gap_pct, Math.round(((1499 - o.price_cents) / o.price_cents) * 1000) / 10);
      const age = (at: number) => Math.floor((at - o.observed_at.getTime()) / 3_600_000);
      assert.ok(c.age_hours >= age(t0) - 1 && c.age_hours <= age(t1), `age ${c.age_hours}`);
    }
    assert.equal(fa.competitors[0].gap_cents, 99); // we are dearer than PriceHawk
    assert.equal(fa.competitors[1].gap_cents, -251); // and cheaper than ShopRival
    assert.equal(fb.competitors[0].gap_cents, null);
    assert.equal(fb.competitors[0].gap_pct, null);
    const one = await call('competitor_prices', { sku: 'FIX-A', competitor: 'ShopRival' });
    assert.deepEqual(one.products.map((p: { competitors: { competitor: string }[] }) => p.competitors.map((c) => c.competitor)), [['ShopRival']]);
  });

  test('the seed has observations for products on sale, and the prompt leads to change_price', async () => {
    const r = await call('competitor_prices', { limit: 100 });
    assert.ok(r.products.length >= 5, 'seeded competitor observations');
    const prompt = await staff.getPrompt({ name: 'price_review', arguments: { category: CATEGORY } });
    const text = JSON.stringify(prompt.messages);
    for (const name of ['competitor_prices', 'sales_trends', 'change_price', 'approval']) assert.match(text, new RegExp(name));
  });
});
