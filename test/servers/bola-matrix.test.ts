// A1 (BOLA) as a matrix: two tenants × two customers (and each tenant's staff), every tool and
// resource that takes an id, every other party's ids: the answer is the same "not found" as for a
// missing id, and no other party's canary appears anywhere in what the caller receives.
import assert from 'node:assert/strict';
import { before, test } from 'node:test';
import type { Client } from '@modelcontextprotocol/client';
import { TENANT_CANARIES } from '../../src/seed/fixtures.js';
import { startTestService, type TestService, GENEROUS_BUDGETS } from '../support/service.js';
import { connect, customerToken, customerUrl, internalUrl, staffToken, text } from './helpers.js';

interface Party { slug: 'acme' | 'globex'; email: string; orders: string[]; returns: string[]; skus: string[] }
let s: TestService;
const parties: Party[] = [
  { slug: 'acme', email: 'alice@acme.example', orders: [], returns: [], skus: [] },
  { slug: 'acme', email: 'bob@acme.example', orders: [], returns: [], skus: [] },
  { slug: 'globex', email: 'carol@globex.example', orders: [], returns: [], skus: [] },
  { slug: 'globex', email: 'dave@globex.example', orders: [], returns: [], skus: [] },
];

before(async () => {
  s = await startTestService(GENEROUS_BUDGETS);
  for (const p of parties) {
    const rows = await s.database.owner<{ number: string }[]>`
      select o.number from orders o join customers c on c.tenant_id = o.tenant_id and c.id = o.customer_id
      join tenants t on t.id = o.tenant_id where t.slug = ${p.slug} and c.email = ${p.email} order by o.placed_at desc limit 6`;
    p.orders = rows.map((r) => r.number);
    const rets = await s.database.owner<{ number: string }[]>`
      select r.number from returns r join customers c on c.tenant_id = r.tenant_id and c.id = r.customer_id
      join tenants t on t.id = r.tenant_id where t.slug = ${p.slug} and c.email = ${p.email}`;
    p.returns = rets.map((r) => r.number);
    assert.ok(p.orders.length > 0, `${p.email} has no orders`);
  }
  // Globex-only SKUs (acme has no such SKU): the catalog is per tenant.
  const g = await s.database.owner<{ sku: string }[]>`
    select p.sku from products p join tenants t on t.id = p.tenant_id where t.slug = 'globex'
      and not exists (select 1 from products q join tenants u on u.id = q.tenant_id where u.slug = 'acme' and q.sku = p.sku) limit 3`;
  parties[0]!.skus = g.map((r) => r.sku);
});

type Probe = (c: Client, id: string) => Promise<string>;
const toolText = (name: string, argsFor: (id: string) => Record<string, unknown>): Probe => async (c, id) => {
  const r = await c.callTool({ name, arguments: argsFor(id) });
  assert.equal(r.isError, true, `${name}(${id}) answered: ${text(r).slice(0, 200)}`);
  return text(r);
};
const resourceText: Probe = async (c, id) => {
  await assert.rejects(c.readResource({ uri: `order://${id}` }), /Resource not found/);
  return 'Resource not found';
};

const orderProbes: [string, Probe, (id: string) => string][] = [
  ['get_order', toolText('get_order', (id) => ({ order_number: id })), (id) => `order ${id} not found`],
  ['check_return_eligibility', toolText('check_return_eligibility', (id) => ({ order_number: id })), (id) => `order ${id} not found`],
  ['start_return', toolText('start_return', (id) => ({ order_number: id, lines: [{ line_no: 1, quantity: 1 }], reason: 'bola probe', idempotency_key: `bola-${id}` })), (id) => `order ${id} not found`],
  ['order://', resourceText, () => 'Resource not found'],
];

test('A1 customers: every other customer\'s and tenant\'s order and return ids answer exactly like missing ids', async () => {
  let probes = 0;
  for (const caller of parties) {
    const { token } = await customerToken(s, caller.slug, caller.email);
    const client = await connect(customerUrl(s, caller.slug), token);
    const own = new Set(caller.orders);
    const [{ numbers }] = (await s.database.owner<{ numbers: string[] }[]>`
      select coalesce(array_agg(o.number), '{}') as numbers from orders o join customers c on c.tenant_id = o.tenant_id and c.id = o.customer_id
      join tenants t on t.id = o.tenant_id where t.slug = ${caller.slug} and c.email = ${caller.email}` as unknown) as [{ numbers: string[] }];
    const mine = new Set(numbers);
    for (const victim of parties.filter((p) => p !== caller)) {
      for (const id of victim.orders.filter((n) => !mine.has(n) && !own.has(n))) {
        for (const [name, probe, expected] of orderProbes) {
          assert.equal(await probe(client, id), expected(id), `${caller.email} → ${name}(${id} of ${victim.email})`);
          probes++;
        }
      }
      for (const id of victim.returns) {
        const [{ own: isOwn }] = (await s.database.owner<{ own: boolean }[]>`
          select exists (select 1 from returns r join customers c on c.tenant_id = r.tenant_id and c.id = r.customer_id
            join tenants t on t.id = r.tenant_id where t.slug = ${caller.slug} and c.email = ${caller.email} and r.number = ${id}) as own` as unknown) as [{ own: boolean }];
        if (isOwn) continue;
        const r = await client.callTool({ name: 'get_return_status', arguments: { return_number: id } });
        assert.equal(text(r), `return ${id} not found`, `${caller.email} → get_return_status(${id} of ${victim.email})`);
        probes++;
      }
    }
    // Missing ids: the very same shape of answer.
    for (const [name, probe, expected] of orderProbes) assert.equal(await probe(client, 'ORD-999999'), expected('ORD-999999'), name);
    // Nothing of another tenant anywhere in the caller's own listings.
    const listing = JSON.stringify([
      await client.callTool({ name: 'list_orders', arguments: { limit: 50 } }),
      await client.callTool({ name: 'search_products', arguments: { query: 'a', limit: 25 } }),
      await client.listResources(),
    ]);
    const foreign = caller.slug === 'acme' ? TENANT_CANARIES.globex : TENANT_CANARIES.acme;
    assert.ok(!listing.includes(foreign), `${caller.email} sees the other tenant's canary`);
    for (const other of parties.filter((p) => p.slug === caller.slug && p !== caller)) {
      assert.ok(!listing.includes(other.email), `${caller.email} sees ${other.email}`);
    }
  }
  // Catalog ids across tenants.
  const alice = await connect(customerUrl(s, 'acme'), (await customerToken(s, 'acme', 'alice@acme.example')).token);
  for (const sku of parties[0]!.skus) {
    for (const name of ['get_price', 'check_inventory']) {
      const r = await alice.callTool({ name, arguments: { sku } });
      assert.equal(text(r), `product ${sku} not found`);
    }
    await assert.rejects(alice.readResource({ uri: `product://${sku}` }), /Resource not found/);
  }
  assert.ok(probes > 50, `only ${probes} probes`);
  const [{ count }] = (await s.database.owner<{ count: number }[]>`select count(*)::int as count from returns where reason = 'bola probe'` as unknown) as [{ count: number }];
  assert.equal(count, 0, 'a probe created a return');
});

test('A1 staff: another tenant\'s order, return and claim ids answer like missing ids', async () => {
  const acmeStaff = await connect(internalUrl(s, 'acme'), (await staffToken(s, 'acme', 'supply@acme.example')).token);
  const [{ numbers }] = (await s.database.owner<{ numbers: string[] }[]>`
    select coalesce(array_agg(o.number), '{}') as numbers from orders o join tenants t on t.id = o.tenant_id where t.slug = 'acme'` as unknown) as [{ numbers: string[] }];
  const acmeOrders = new Set(numbers);
  const globexOnly = await s.database.owner<{ number: string }[]>`
    select o.number from orders o join tenants t on t.id = o.tenant_id where t.slug = 'globex' order by o.number desc limit 200`;
  const ids = globexOnly.map((r) => r.number).filter((n) => !acmeOrders.has(n)).slice(0, 5);
  // Same numbers can exist in both tenants: an acme number then shows acme's order, never globex's.
  const shared = globexOnly.map((r) => r.number).find((n) => acmeOrders.has(n));
  for (const id of ids) {
    for (const name of ['get_order_details', 'lookup_payment']) {
      const r = await acmeStaff.callTool({ name, arguments: { order_number: id } });
      assert.equal(text(r), `order ${id} not found`, `${name}(${id})`);
    }
  }
  if (shared) {
    const r = await acmeStaff.callTool({ name: 'get_order_details', arguments: { order_number: shared } });
    assert.ok(!text(r).includes(TENANT_CANARIES.globex));
    assert.ok(!text(r).includes('@globex.example'));
  }
  const everything = JSON.stringify([
    await acmeStaff.callTool({ name: 'list_returns', arguments: { limit: 50 } }),
    await acmeStaff.callTool({ name: 'search_orders', arguments: { limit: 50 } }),
    await acmeStaff.callTool({ name: 'late_shipments', arguments: { limit: 100 } }),
    await acmeStaff.readResource({ uri: 'ops://claims' }),
    await acmeStaff.readResource({ uri: 'ops://returns' }),
  ]);
  assert.ok(everything.includes(TENANT_CANARIES.acme));
  assert.ok(!everything.includes(TENANT_CANARIES.globex), 'acme staff sees a globex canary');
  assert.equal(text(await acmeStaff.callTool({ name: 'lookup_claim', arguments: { claim_number: 'CLM-999999' } })), 'claim CLM-999999 not found');
});
