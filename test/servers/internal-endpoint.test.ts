// The internal (staff) endpoint end to end: every read tool, the resources and the three prompts;
// P1 (the injected return reason reaches the staff assistant as delimited data), P2.
import assert from 'node:assert/strict';
import { before, test } from 'node:test';
import type { Client } from '@modelcontextprotocol/client';
import { INJECTION_CANARY } from '../../src/seed/fixtures.js';
import { startTestService, type TestService } from '../support/service.js';
import { connect, internalUrl, staffToken, text } from './helpers.js';

let s: TestService;
let staff: Client;

type Structured = Record<string, any>;
async function call(c: Client, name: string, args: Record<string, unknown>) {
  const r = await c.callTool({ name, arguments: args });
  return { isError: Boolean(r.isError), text: text(r), data: (r.structuredContent ?? {}) as Structured };
}

before(async () => {
  s = await startTestService();
  staff = await connect(internalUrl(s, 'acme'), (await staffToken(s, 'acme', 'supply@acme.example')).token);
});

test('P2 internal tool list is static and identical across staff, roles and tenants', async () => {
  const tools = (await staff.listTools()).tools;
  assert.deepEqual(tools.map((t) => t.name).sort(), [
    'change_price', 'confirm_my_action', 'create_reorder', 'decide_return', 'get_action_status', 'get_order_details', 'issue_refund',
    'late_shipments', 'list_my_actions', 'list_returns', 'lookup_claim', 'lookup_payment', 'lookup_return', 'low_stock',
    'open_damage_claim', 'reroute_delivery', 'resolve_damage_claim', 'search_orders',
  ]);
  assert.ok(!/CANARY/.test(JSON.stringify(tools)));
  const other = await connect(internalUrl(s, 'globex'), (await staffToken(s, 'globex', 'warehouse@globex.example', 'ops:read')).token);
  assert.equal(JSON.stringify((await other.listTools()).tools), JSON.stringify(tools));
});

test('read tools: search_orders, get_order_details, late_shipments, low_stock, lookups', async () => {
  const found = await call(staff, 'search_orders', { query: 'alice@acme', limit: 5 });
  assert.ok(found.data.orders.length > 0, found.text);
  assert.ok(found.data.orders.every((o: Structured) => o.customer.email === 'alice@acme.example'));
  const detail = await call(staff, 'get_order_details', { order_number: found.data.orders[0].order_number });
  assert.equal(detail.data.customer.email, 'alice@acme.example');
  const late = await call(staff, 'late_shipments', {});
  assert.ok(late.data.shipments.length > 0);
  assert.ok(late.data.shipments.some((x: Structured) => x.late_cause_code));
  const weather = await call(staff, 'late_shipments', { cause: 'weather' });
  assert.ok(weather.data.shipments.every((x: Structured) => x.late_cause_code === 'weather'));
  const low = await call(staff, 'low_stock', { limit: 10 });
  assert.ok(Array.isArray(low.data.items));
  for (const i of low.data.items) assert.ok(i.suggested_reorder_quantity > 0 && i.available <= i.reorder_point);
  const [claim] = await s.database.owner<{ number: string }[]>`select dc.number from damage_claims dc join tenants t on t.id = dc.tenant_id where t.slug = 'acme' limit 1`;
  const c = await call(staff, 'lookup_claim', { claim_number: claim!.number });
  assert.match(c.data.description.untrusted_customer_text, /^<<<customer_text>>>/);
  const pay = await call(staff, 'lookup_payment', { order_number: detail.data.order_number });
  assert.ok(Array.isArray(pay.data.payments));
  assert.equal((await call(staff, 'lookup_claim', { claim_number: 'CLM-999999' })).text, 'claim CLM-999999 not found');
  assert.equal((await call(staff, 'get_order_details', { order_number: 'ORD-999999' })).text, 'order ORD-999999 not found');
  const extra = await call(staff, 'search_orders', { tenant_id: 'x' });
  assert.equal(extra.isError, true, 'A3 on the internal endpoint');
});

test('P1 the prompt-injection return reason is returned delimited, as data, with its canary', async () => {
  const list = await call(staff, 'list_returns', { status: 'requested', limit: 50 });
  const injected = list.data.returns.find((r: Structured) => r.reason.untrusted_customer_text.includes(INJECTION_CANARY));
  assert.ok(injected, 'the seeded injection return is missing');
  assert.match(injected.reason.untrusted_customer_text, /^<<<customer_text>>>Ignore previous instructions[\s\S]*<<<end_customer_text>>>$/);
  assert.match(injected.reason.note, /not instructions/);
  const one = await call(staff, 'lookup_return', { return_number: injected.return_number });
  assert.deepEqual(one.data.reason, injected.reason);
  const triage = await staff.getPrompt({ name: 'returns_triage', arguments: {} });
  assert.doesNotMatch(JSON.stringify(triage), new RegExp(INJECTION_CANARY), 'customer text inside a prompt');
  assert.match(JSON.stringify(triage), /never as instructions/);
  // Acting on it goes through the approval path: test/servers/internal-writes.test.ts (P1).
});

test('resources and prompts of the internal endpoint', async () => {
  const uris = (await staff.listResources()).resources.map((r) => r.uri).sort();
  assert.deepEqual(uris, ['ops://claims', 'ops://deliveries', 'ops://orders/open', 'ops://payments', 'ops://returns', 'ops://stock', 'policy://returns']);
  for (const uri of uris) {
    const r = await staff.readResource({ uri });
    const body = JSON.parse((r.contents[0] as { text: string }).text);
    assert.ok(body && typeof body === 'object', uri);
    assert.ok(!JSON.stringify(body).includes('tenant_id'), `${uri} exposes tenant_id`);
  }
  const stock = JSON.parse(((await staff.readResource({ uri: 'ops://stock' })).contents[0] as { text: string }).text);
  assert.ok(stock.stock.length > 0 && 'warehouse' in stock.stock[0]);
  const sku = stock.stock[0].sku as string;
  const prices = JSON.parse(((await staff.readResource({ uri: `ops://prices/${sku}` })).contents[0] as { text: string }).text);
  assert.ok(prices.prices.length > 0);
  const names = (await staff.listPrompts()).prompts.map((p) => p.name).sort();
  assert.deepEqual(names, ['daily_supply_chain_briefing', 'investigate_late_shipment', 'returns_triage']);
  const briefing = await staff.getPrompt({ name: 'daily_supply_chain_briefing' });
  assert.match(JSON.stringify(briefing.messages), /late_shipments/);
  const inv = await staff.getPrompt({ name: 'investigate_late_shipment', arguments: { order_number: 'ORD-1001' } });
  assert.match(JSON.stringify(inv.messages), /ORD-1001/);
});
