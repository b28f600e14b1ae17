// In-band confirmations (MCP 2026-07-28 basic/patterns/mrtr, client/elicitation form mode) of the
// customer writes place_order and start_return, on a real database: accept, decline, cancel; a
// tampered state, another principal's, another tool's or other arguments', an expired one, a replay
// (exactly one order or return; A5); and a client without elicitation keeps the two-step confirm.
// The function-level tests run the tools in a real RLS transaction; the HTTP ones drive the whole
// endpoint with the v2 SDK client on 2026-07-28 (its MRTR auto-fulfilment through an elicitation
// handler) and with raw JSON-RPC for what a client would never send.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { before, describe, test } from 'node:test';
import { customerCapabilities } from '../../src/servers/customer/capabilities.js';
import { REQUEST_STATE_TTL_SECONDS, openRequestState, sealRequestState } from '../../src/servers/mcp/request-state.js';
import { Client, StreamableHTTPClientTransport } from '@modelcontextprotocol/client';
import type { TestDatabase } from '../support/database.js';
import { startTestService, type TestService } from '../support/service.js';
import { auditRows, connect, customerToken, customerUrl, text } from './helpers.js';
import { customerCaller, runTool, type Called, type Caller, type Interaction } from './interaction-harness.js';

let s: TestService;
let db: TestDatabase;
let alice: Caller;
let bob: Caller;
const stateKey = randomBytes(32);

function modern(extra: Partial<Interaction> = {}): Interaction {
  return { formElicitation: true, tasks: false, stateKey, ...extra };
}
const call = (c: Caller, name: string, args: Record<string, unknown>, i?: Interaction): Promise<Called> =>
  runTool(db.app, customerCapabilities, c, name, args, i);
const accept = { confirm: { action: 'accept', content: { confirm: true } } };

async function count(sqlText: string, ...params: string[]): Promise<number> {
  return Number((await db.owner.unsafe<{ n: string }[]>(sqlText, params))[0]!.n);
}
const ordersOf = (c: Caller) => count(`select count(*) as n from orders where customer_id = $1`, (c.actor as { customerId: string }).customerId);
const returnsOf = (c: Caller) => count(`select count(*) as n from returns where customer_id = $1`, (c.actor as { customerId: string }).customerId);

async function fillCart(c: Caller, quantity = 1): Promise<string> {
  const found = await call(c, 'search_products', { query: 'mat' });
  const sku = found.data.products.find((p: { in_stock: boolean }) => p.in_stock).sku as string;
  await call(c, 'add_to_cart', { sku, quantity });
  return sku;
}

/** A delivered order of the customer with a line that can still be returned. */
async function returnable(c: Caller): Promise<{ order_number: string; lines: { line_no: number; quantity: number }[]; reason: string }> {
  const rows = await db.owner<{ number: string }[]>`
    select o.number from orders o where o.customer_id = ${(c.actor as { customerId: string }).customerId} and o.status = 'delivered'
      and o.placed_at > now() - interval '12 days' order by o.placed_at desc`;
  for (const r of rows) {
    const e = await call(c, 'check_return_eligibility', { order_number: r.number });
    const line = e.data.lines?.find((l: { eligible: boolean }) => l.eligible);
    if (line) return { order_number: r.number, lines: [{ line_no: line.line_no, quantity: 1 }], reason: 'Does not fit' };
  }
  throw new Error('no returnable order');
}

before(async () => {
  s = await startTestService();
  db = s.database;
  await db.owner`update tenant_settings set phase = 3`;
  alice = await customerCaller(db, 'acme', 'alice@acme.example');
  bob = await customerCaller(db, 'acme', 'bob@acme.example');
});

describe('MRTR: place_order', () => {
  test('A5 accept: input_required shows lines, total in the shop\'s currency and payment; the retry places exactly one order; a replay returns the same order', async () => {
    await fillCart(bob, 2);
    const args = { idempotency_key: 'mrtr-order-accept-1', note: 'ring twice' };
    const before = await ordersOf(bob);
    const asked = await call(bob, 'place_order', args, modern());
    assert.equal(asked.resultType, 'input_required', asked.text);
    const form = asked.data.inputRequests.confirm;
    assert.equal(form.method, 'elicitation/create');
    assert.equal(form.params.mode, 'form');
    assert.match(form.params.message, /2 × .+ at \d+\.\d{2} EUR = \d+\.\d{2} EUR/);
    assert.match(form.params.message, /Total: \d+\.\d{2} EUR/);
    assert.match(form.params.message, /Payment: test card ending \d{4}/);
    assert.match(form.params.message, /Delivery note: ring twice/);
    assert.deepEqual(form.params.requestedSchema.required, ['confirm']);
    assert.equal(form.params.requestedSchema.properties.confirm.type, 'boolean');
    assert.match(asked.data.requestState, /^cmcp_rs1\./);
    assert.equal(await ordersOf(bob), before, 'ordered before the confirmation');

    const retry = { requestState: asked.data.requestState as string, inputResponses: accept };
    const done = await call(bob, 'place_order', args, modern(retry));
    assert.equal(done.data.status, 'created', done.text);
    assert.match(done.data.order_number, /^[A-Z0-9-]+$/);
    assert.equal(await ordersOf(bob), before + 1);
    // Replayed: the same state and answer again (a client that lost the response) → the original result, no second order.
    const replay = await call(bob, 'place_order', args, modern(retry));
    assert.deepEqual(replay.data, done.data);
    assert.equal(await ordersOf(bob), before + 1);
    // The same state with another idempotency key is another request: refused, still one order.
    const otherKey = await call(bob, 'place_order', { ...args, idempotency_key: 'mrtr-order-accept-2' }, modern(retry));
    assert.equal(otherKey.isError, true);
    assert.match(otherKey.text, /requestState is not valid for this call/);
    assert.equal(await ordersOf(bob), before + 1);
    assert.equal(await count(`select count(*) as n from request_state_uses`), 1);
  });

  test('decline and cancel change nothing and say so; the cart stays', async () => {
    await fillCart(alice, 1);
    const cartBefore = (await call(alice, 'view_cart', {})).data;
    const before = await ordersOf(alice);
    for (const action of ['decline', 'cancel'] as const) {
      const args = { idempotency_key: `mrtr-order-${action}` };
      const asked = await call(alice, 'place_order', args, modern());
      const r = await call(alice, 'place_order', args, modern({ requestState: asked.data.requestState, inputResponses: { confirm: { action } } }));
      assert.equal(r.isError, false);
      assert.equal(r.data.status, action === 'decline' ? 'declined' : 'cancelled');
      assert.match(r.data.summary, new RegExp(`Nothing was ordered and the cart is unchanged: the customer ${action === 'decline' ? 'declined' : 'cancelled'}`));
    }
    // Accept without ticking the box is no yes.
    const args = { idempotency_key: 'mrtr-order-unticked' };
    const asked = await call(alice, 'place_order', args, modern());
    const unticked = await call(alice, 'place_order', args, modern({ requestState: asked.data.requestState, inputResponses: { confirm: { action: 'accept', content: { confirm: false } } } }));
    assert.equal(unticked.data.status, 'declined');
    assert.equal(await ordersOf(alice), before);
    assert.deepEqual((await call(alice, 'view_cart', {})).data, cartBefore);
    assert.equal(await count(`select count(*) as n from idempotency_keys where key like 'mrtr-order-%' and subject = $1`, alice.subject), 0);
  });

  test('a retry without the answer asks again (MRTR error handling), and a changed cart voids the state', async () => {
    const args = { idempotency_key: 'mrtr-order-cart-changed' };
    const asked = await call(alice, 'place_order', args, modern());
    const again = await call(alice, 'place_order', args, modern({ requestState: asked.data.requestState, inputResponses: {} }));
    assert.equal(again.resultType, 'input_required');
    assert.notEqual(again.data.requestState, asked.data.requestState);
    await fillCart(alice, 1); // the cart changes between the form and the answer
    const before = await ordersOf(alice);
    const r = await call(alice, 'place_order', args, modern({ requestState: asked.data.requestState, inputResponses: accept }));
    assert.equal(r.isError, true);
    assert.match(r.text, /issued for another person, tool, arguments or cart/);
    assert.equal(await ordersOf(alice), before);
  });
});

describe('MRTR: refused states', () => {
  test('tampered, another principal\'s (customer or client), another tool\'s, other arguments\', expired: refused, nothing changes', async () => {
    await fillCart(bob, 1);
    const args = { idempotency_key: 'mrtr-order-refusals' };
    const asked = await call(bob, 'place_order', args, modern());
    const state = asked.data.requestState as string;
    const before = { bob: await ordersOf(bob), alice: await ordersOf(alice) };
    const [prefix, body, mac] = state.split('.') as [string, string, string];
    const payload = JSON.parse(Buffer.from(body, 'base64url').toString());
    const reencoded = Buffer.from(JSON.stringify({ ...payload, exp: payload.exp + 3600 })).toString('base64url');
    const flipped = mac.slice(0, -2) + (mac.at(-2) === 'A' ? 'B' : 'A') + mac.at(-1);
    // The MAC's last base64url character carries two unused bits: flipping one gives a different
    // string that decodes to the same bytes. Only the exact issued string is a state.
    const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
    const lookAlike = mac.slice(0, -1) + ALPHABET[ALPHABET.indexOf(mac.at(-1)!) ^ 1];
    assert.deepEqual(Buffer.from(lookAlike, 'base64url'), Buffer.from(mac, 'base64url'), 'the look-alike decodes to the same MAC');
    const cases: [string, Caller, string, Record<string, unknown>, string, RegExp][] = [
      ['tampered payload (longer expiry), old MAC', bob, 'place_order', args, `${prefix}.${reencoded}.${mac}`, /not valid for this call/],
      ['tampered MAC', bob, 'place_order', args, `${prefix}.${body}.${flipped}`, /not valid for this call/],
      ['a non-canonical encoding of the same MAC', bob, 'place_order', args, `${prefix}.${body}.${lookAlike}`, /not valid for this call/],
      ['garbage', bob, 'place_order', args, 'cmcp_rs1.e30.' + 'A'.repeat(43), /not valid for this call/],
      ['another customer', alice, 'place_order', args, state, /not valid for this call/],
      ['the same customer through another client', { ...bob, clientId: 'other-assistant' }, 'place_order', args, state, /not valid for this call/],
      ['other arguments', bob, 'place_order', { ...args, note: 'leave it at the door' }, state, /not valid for this call/],
    ];
    for (const [what, who, tool, a, s, expected] of cases) {
      const r = await call(who, tool, a, modern({ requestState: s, inputResponses: accept }));
      assert.equal(r.isError, true, `${what}: ${r.text}`);
      assert.match(r.text, expected, what);
    }
    // Another tool: the order's state presented to start_return.
    const ret = await returnable(bob);
    const returnsBefore = await returnsOf(bob);
    const crossTool = await call(bob, 'start_return', { ...ret, idempotency_key: 'mrtr-order-refusals' }, modern({ requestState: state, inputResponses: accept }));
    assert.equal(crossTool.isError, true);
    assert.match(crossTool.text, /not valid for this call/);
    // Expired: a state sealed with the same key eleven minutes ago.
    const who = { tenantId: bob.actor.tenantId, subject: bob.subject, clientId: bob.clientId };
    const old = sealRequestState(stateKey, who, { tool: 'place_order', args, over: payload.over }, new Date(Date.now() - (REQUEST_STATE_TTL_SECONDS + 60) * 1000));
    const expired = await call(bob, 'place_order', args, modern({ requestState: old.state, inputResponses: accept }));
    assert.equal(expired.isError, true);
    assert.match(expired.text, /confirmation expired/);
    // At the limit it still holds (one second before expiry, checked by the pure function).
    const fresh = sealRequestState(stateKey, who, { tool: 'place_order', args, over: payload.over }, new Date(Date.now() - (REQUEST_STATE_TTL_SECONDS - 1) * 1000));
    assert.equal(openRequestState(stateKey, fresh.state, who, { tool: 'place_order', args, over: payload.over }).ok, true);
    // A state minted under another key (another deployment) is forged here.
    const foreign = sealRequestState(randomBytes(32), who, { tool: 'place_order', args, over: payload.over });
    assert.equal((await call(bob, 'place_order', args, modern({ requestState: foreign.state, inputResponses: accept }))).isError, true);

    assert.equal(await ordersOf(bob), before.bob);
    assert.equal(await ordersOf(alice), before.alice);
    assert.equal(await returnsOf(bob), returnsBefore);
    // The genuine state still works afterwards: nothing above consumed it.
    const ok = await call(bob, 'place_order', args, modern({ requestState: state, inputResponses: accept }));
    assert.equal(ok.data.status, 'created', ok.text);
  });

  test('A5 a state consumed once: a second use is refused even when the idempotency record is gone', async () => {
    const args = { ...(await returnable(bob)), idempotency_key: 'mrtr-return-once' };
    const asked = await call(bob, 'start_return', args, modern());
    const retry = modern({ requestState: asked.data.requestState, inputResponses: accept });
    assert.equal((await call(bob, 'start_return', args, retry)).data.status, 'created');
    // Drop the idempotency record (as a retention sweep would): only request_state_uses stands
    // between the replayed state and a second return.
    await db.owner`delete from idempotency_keys where subject = ${bob.subject} and key = 'mrtr-return-once'`;
    const before = await returnsOf(bob);
    const again = await call(bob, 'start_return', args, retry);
    assert.equal(again.isError, true);
    assert.match(again.text, /This confirmation was already used/);
    assert.equal(await returnsOf(bob), before);
  });
});

describe('MRTR: start_return', () => {
  test('A5 accept: the form shows lines, refund amount and return method; exactly one return; decline changes nothing', async () => {
    const base = await returnable(alice);
    const before = await returnsOf(alice);
    const declinedArgs = { ...base, idempotency_key: 'mrtr-return-decline' };
    const d = await call(alice, 'start_return', declinedArgs, modern());
    const declined = await call(alice, 'start_return', declinedArgs, modern({ requestState: d.data.requestState, inputResponses: { confirm: { action: 'decline' } } }));
    assert.equal(declined.data.status, 'declined');
    assert.match(declined.data.summary, /^No return was started: the customer declined/);
    assert.equal(await returnsOf(alice), before);

    const args = { ...base, idempotency_key: 'mrtr-return-accept' };
    const asked = await call(alice, 'start_return', args, modern());
    assert.equal(asked.resultType, 'input_required');
    const message = asked.data.inputRequests.confirm.params.message as string;
    assert.match(message, new RegExp(`Start a return for order ${base.order_number}`));
    assert.match(message, /Line \d+: 1 × .+ \(.+\), unopened, \d+\.\d{2} EUR/);
    assert.match(message, /Refund: up to \d+\.\d{2} EUR/);
    assert.match(message, /Refund to: the original payment method/);
    assert.match(message, /Return method: send the items back by post/);
    const retry = modern({ requestState: asked.data.requestState, inputResponses: accept });
    const [a, b] = await Promise.all([call(alice, 'start_return', args, retry), call(alice, 'start_return', args, retry)]);
    assert.equal(a.data.status, 'created', a.text);
    assert.deepEqual(b.data, a.data);
    assert.equal(await returnsOf(alice), before + 1);
  });
});

describe('MRTR fallback', () => {
  test('a client without elicitation (2026-07-28) and a legacy client keep the two-step confirm', async () => {
    await fillCart(bob, 1);
    for (const [what, interaction] of [['no elicitation', modern({ formElicitation: false })], ['legacy', undefined]] as const) {
      const args = { idempotency_key: `mrtr-fallback-${what.replace(' ', '-')}` };
      const first = await call(bob, 'place_order', args, interaction);
      assert.equal(first.resultType, 'complete', what);
      assert.equal(first.data.status, 'confirmation_required', what);
      assert.match(first.data.confirmation_token, /^cmcp_confirm_/);
      assert.match(first.data.summary, /^Place an order for .+; total \d+\.\d{2} EUR/);
    }
  });
});

type Elicit = { params: { message: string; requestedSchema: Record<string, any> } };

/** A v2 client on 2026-07-28 that declares form elicitation and answers every confirmation with `answer`. */
async function elicitingClient(token: string, answer: (r: Elicit) => Record<string, unknown>, seen: Elicit[] = []): Promise<Client> {
  const client = new Client({ name: 'mrtr-test', version: '1.0.0' }, {
    versionNegotiation: { mode: { pin: '2026-07-28' } },
    capabilities: { elicitation: { form: {} } },
  });
  client.setRequestHandler('elicitation/create', async (request) => {
    const r = request as unknown as Elicit;
    seen.push(r);
    return answer(r) as never;
  });
  await client.connect(new StreamableHTTPClientTransport(new URL(customerUrl(s, 'acme')), { requestInit: { headers: { Authorization: `Bearer ${token}` } } }));
  return client;
}

async function callOver(c: Client, name: string, args: Record<string, unknown>) {
  const r = await c.callTool({ name, arguments: args });
  return { isError: Boolean(r.isError), text: text(r), data: (r.structuredContent ?? {}) as Record<string, any> };
}

describe('MRTR over HTTP: the v2 client on 2026-07-28', () => {
  test('A5 places an order and starts a return with in-band confirmation (the form shows lines, total, refund, return method); one of each', async () => {
    const t = await customerToken(s, 'acme', 'alice@acme.example');
    const who = alice;
    const seen: Elicit[] = [];
    const client = await elicitingClient(t.token, () => ({ action: 'accept', content: { confirm: true } }), seen);
    const found = await callOver(client, 'search_products', { query: 'mat' });
    await callOver(client, 'add_to_cart', { sku: found.data.products.find((p: { in_stock: boolean }) => p.in_stock).sku, quantity: 1 });
    const orders = await ordersOf(who);
    const placed = await callOver(client, 'place_order', { idempotency_key: 'mrtr-http-order-1' });
    assert.equal(placed.data.status, 'created', placed.text);
    assert.equal(seen.length, 1);
    assert.match(seen[0]!.params.message, /Total: \d+\.\d{2} EUR/);
    assert.equal(await ordersOf(who), orders + 1);

    const ret = await returnable(who);
    const returns = await returnsOf(who);
    const started = await callOver(client, 'start_return', { ...ret, idempotency_key: 'mrtr-http-return-1' });
    assert.equal(started.data.status, 'created', started.text);
    assert.match(started.data.return_number, /^RMA-\d+$/);
    assert.equal(seen.length, 2);
    assert.match(seen[1]!.params.message, /Refund: up to \d+\.\d{2} EUR[\s\S]*Return method: /);
    assert.equal(await returnsOf(who), returns + 1);
    // Audited once per round: the question, then the effect.
    const audited = (await auditRows(db.owner, t.id)).filter((r) => r.tool === 'place_order' || r.tool === 'start_return');
    assert.deepEqual(audited.map((r) => `${r.tool}:${r.outcome}`), ['place_order:input_required', 'place_order:ok', 'start_return:input_required', 'start_return:ok']);
  });

  test('declined in the client: nothing is ordered, and the answer says so', async () => {
    const t = await customerToken(s, 'acme', 'bob@acme.example');
    const client = await elicitingClient(t.token, () => ({ action: 'decline' }));
    await fillCart(bob, 1);
    const before = await ordersOf(bob);
    const r = await callOver(client, 'place_order', { idempotency_key: 'mrtr-http-declined' });
    assert.equal(r.isError, false);
    assert.equal(r.data.status, 'declined');
    assert.match(r.data.summary, /Nothing was ordered/);
    assert.equal(await ordersOf(bob), before);
  });

  test('a v2 client without elicitation, and a legacy client, get the two-step confirm', async () => {
    const t = await customerToken(s, 'acme', 'bob@acme.example');
    for (const revision of ['modern', 'legacy'] as const) {
      const client = await connect(customerUrl(s, 'acme'), t.token, revision);
      const r = await callOver(client, 'place_order', { idempotency_key: `mrtr-http-two-step-${revision}` });
      assert.equal(r.data.status, 'confirmation_required', `${revision}: ${r.text}`);
      assert.match(r.data.confirmation_token, /^cmcp_confirm_/);
    }
  });

  test('raw 2026-07-28: a tampered requestState is refused; the retry with the genuine one completes', async () => {
    const t = await customerToken(s, 'acme', 'bob@acme.example');
    await fillCart(bob, 1);
    const caps = { elicitation: {} }; // an empty object means form mode
    const args = { name: 'place_order', arguments: { idempotency_key: 'mrtr-http-raw' } };
    const send = async (params: Record<string, unknown>) => {
      const res = await fetch(customerUrl(s, 'acme'), {
        method: 'POST',
        headers: { 'Content-Type': 'application/json', Accept: 'application/json, text/event-stream', Authorization: `Bearer ${t.token}`,
          'MCP-Protocol-Version': '2026-07-28', 'Mcp-Method': 'tools/call', 'Mcp-Name': 'place_order' },
        body: JSON.stringify({ jsonrpc: '2.0', id: Math.floor(Math.random() * 1e9), method: 'tools/call', params: { ...args, ...params, _meta: {
          'io.modelcontextprotocol/protocolVersion': '2026-07-28', 'io.modelcontextprotocol/clientCapabilities': caps,
          'io.modelcontextprotocol/clientInfo': { name: 'raw', version: '1' } } } }),
      });
      return (await res.json() as any).result;
    };
    const asked = await send({});
    assert.equal(asked.resultType, 'input_required', JSON.stringify(asked));
    assert.equal(asked.inputRequests.confirm.params.mode, 'form');
    const before = await ordersOf(bob);
    const at = asked.requestState.length - 2;
    const tampered = await send({ requestState: asked.requestState.slice(0, at) + (asked.requestState[at] === 'A' ? 'B' : 'A') + asked.requestState.slice(at + 1), inputResponses: accept });
    assert.equal(tampered.isError, true);
    assert.match(tampered.content[0].text, /not valid for this call/);
    assert.equal(await ordersOf(bob), before);
    const done = await send({ requestState: asked.requestState, inputResponses: accept });
    assert.equal(done.resultType, 'complete');
    assert.equal(done.structuredContent.status, 'created');
    assert.equal(await ordersOf(bob), before + 1);
  });
});
