// Both MCP eras at the same URL (docs/MCP-REVISIONS.md): the v2 SDK client pinned to 2026-07-28 and
// the same client in its legacy 2025-11-25 mode get the same answers from every tool, resource and
// prompt; raw requests check what the 2026-07-28 transport requires of a server (M8 and the
// revision's own rules): `_meta` envelope, Mcp-Method / Mcp-Name against the body (-32020), an
// unsupported version (-32022 naming ours), resultType / serverInfo / ttlMs / cacheScope.
import assert from 'node:assert/strict';
import { before, describe, test } from 'node:test';
import type { Client } from '@modelcontextprotocol/client';
import { customerCapabilities } from '../../src/servers/customer/capabilities.js';
import { internalCapabilities } from '../../src/servers/internal/capabilities.js';
import { classifyRevision, wireErrorCode } from '../../src/servers/mcp/revision.js';
import { startTestService, type TestService } from '../support/service.js';
import { auditRows, connect, customerToken, customerUrl, internalUrl, MODERN_META, post, postModern, staffToken } from './helpers.js';

let s: TestService;
let alice: { token: string; id: string };
let seed: Record<string, string>;

async function one(query: string): Promise<string> {
  const rows = await s.database.owner.unsafe(query);
  assert.ok(rows[0], `no seed row for ${query}`);
  return String(Object.values(rows[0])[0]);
}

before(async () => {
  s = await startTestService();
  alice = await customerToken(s, 'acme', 'alice@acme.example');
  const acme = `(select id from tenants where slug = 'acme')`;
  const aliceId = `(select id from customers where tenant_id = ${acme} and email = 'alice@acme.example')`;
  seed = {
    order: await one(`select number from orders where tenant_id = ${acme} and customer_id = ${aliceId} order by placed_at desc, number limit 1`),
    anyOrder: await one(`select number from orders where tenant_id = ${acme} order by number limit 1`),
    sku: await one(`select sku from products where tenant_id = ${acme} order by sku limit 1`),
    ret: await one(`select number from returns where tenant_id = ${acme} and customer_id = ${aliceId} order by number limit 1`),
    anyReturn: await one(`select number from returns where tenant_id = ${acme} order by number limit 1`),
    claim: await one(`select number from damage_claims where tenant_id = ${acme} order by number limit 1`),
    warehouse: await one(`select code from warehouses where tenant_id = ${acme} order by code limit 1`),
  };
});

/**
 * Arguments for every tool. Reads get valid arguments; writes get arguments their schema refuses
 * (an end-to-end answer on both eras that changes nothing). A tool missing here fails the test.
 */
function argumentsFor(name: string): Record<string, unknown> {
  const table: Record<string, Record<string, unknown>> = {
    // customer
    list_orders: { limit: 3 }, get_order: { order_number: seed.order }, check_return_eligibility: { order_number: seed.order },
    get_return_status: { return_number: seed.ret }, search_products: { query: 'a', limit: 3 }, get_price: { sku: seed.sku },
    check_inventory: { sku: seed.sku }, recommend_products: { limit: 2 }, view_cart: {},
    add_to_cart: { sku: '' }, remove_from_cart: { sku: '' }, start_return: { order_number: seed.order }, place_order: {},
    // internal
    search_orders: { limit: 3 }, get_order_details: { order_number: seed.anyOrder }, late_shipments: { limit: 3 }, low_stock: { limit: 3 },
    lookup_claim: { claim_number: seed.claim }, lookup_payment: { order_number: seed.anyOrder }, lookup_return: { return_number: seed.anyReturn },
    list_returns: { limit: 3 }, list_my_actions: { limit: 3 }, get_action_status: { action_id: 'not-a-uuid' },
    sales_trends: { limit: 3 }, competitor_prices: { limit: 3 },
    create_reorder: { sku: seed.sku }, reroute_delivery: {}, decide_return: {}, open_damage_claim: {}, resolve_damage_claim: {},
    issue_refund: {}, change_price: {}, confirm_my_action: {},
  };
  const args = table[name];
  assert.ok(args, `no arguments for tool ${name}: add it to the table`);
  return args;
}

type Pair = { modern: Client; legacy: Client };
/** A pair of clients on a token of its own (a token's budget is per minute). */
async function freshPair(kind: 'customer' | 'internal'): Promise<Pair> {
  return kind === 'customer'
    ? pair(customerUrl(s, 'acme'), (await customerToken(s, 'acme', 'alice@acme.example')).token)
    : pair(internalUrl(s, 'acme'), (await staffToken(s, 'acme', 'supply@acme.example', internalCapabilities.scopesSupported.join(' '))).token);
}
async function pair(url: string, token: string): Promise<Pair> {
  return { modern: await connect(url, token, 'modern'), legacy: await connect(url, token, 'legacy') };
}

function strip(result: Record<string, unknown>): Record<string, unknown> {
  const { _meta: _m, resultType: _r, ttlMs: _t, cacheScope: _c, ...rest } = result;
  return rest;
}

describe('both revisions end to end: every tool, resource and prompt answers the same', () => {
  for (const [kind, set] of [['customer', customerCapabilities], ['internal', internalCapabilities]] as const) {
    test(`${kind}: every tool on 2026-07-28 and on 2025-11-25`, async () => {
      const c = await freshPair(kind);
      const modernTools = (await c.modern.listTools()).tools;
      assert.deepEqual(modernTools, (await c.legacy.listTools()).tools);
      assert.deepEqual(modernTools.map((t) => t.name), set.toolList.tools.map((t) => t.name));
      for (const tool of set.toolList.tools) {
        const args = argumentsFor(tool.name);
        const m = await c.modern.callTool({ name: tool.name, arguments: args });
        const l = await c.legacy.callTool({ name: tool.name, arguments: args });
        assert.deepEqual(strip(m as Record<string, unknown>), strip(l as Record<string, unknown>), tool.name);
        const writes = set.toolsByName.get(tool.name)!.writes;
        if (writes) assert.equal(m.isError, true, `${tool.name} was given arguments its schema refuses`);
        else assert.ok(!m.isError || tool.name === 'get_action_status', `${tool.name}: ${JSON.stringify(m.content)}`);
      }
    });

    test(`${kind}: every resource and prompt on both revisions`, async () => {
      const c = await freshPair(kind);
      const listed = (await c.modern.listResources()).resources;
      assert.deepEqual(listed, (await c.legacy.listResources()).resources);
      assert.deepEqual((await c.modern.listResourceTemplates()).resourceTemplates, (await c.legacy.listResourceTemplates()).resourceTemplates);
      const uris = new Set(listed.map((r) => r.uri));
      for (const r of set.staticResourceList) assert.ok(uris.has(r.uri), r.uri);
      if (kind === 'customer') uris.add(`product://${seed.sku}`);
      else uris.add(`ops://prices/${seed.sku}`);
      for (const uri of uris) {
        const m = await c.modern.readResource({ uri });
        assert.deepEqual(m.contents, (await c.legacy.readResource({ uri })).contents, uri);
        assert.ok(m.contents[0] && 'text' in m.contents[0] && m.contents[0].text, uri);
      }
      for (const p of set.promptList.prompts) {
        const args: Record<string, string> = Object.fromEntries(p.arguments!.filter((a) => a.required).map((a) => [a.name, a.name === 'order_number' ? seed.order! : '3']));
        const m = await c.modern.getPrompt({ name: p.name, arguments: args });
        assert.deepEqual(m.messages, (await c.legacy.getPrompt({ name: p.name, arguments: args })).messages, p.name);
      }
    });
  }

  test('one audit entry per call on 2026-07-28, as on 2025-11-25', async () => {
    const token = await customerToken(s, 'acme', 'alice@acme.example');
    const c = await pair(customerUrl(s, 'acme'), token.token);
    await c.modern.callTool({ name: 'get_price', arguments: { sku: seed.sku } });
    await c.legacy.callTool({ name: 'get_price', arguments: { sku: seed.sku } });
    await c.modern.listTools();
    const rows = await auditRows(s.database.owner, token.id);
    assert.deepEqual(rows.map((r) => [r.tool, r.outcome]), [['get_price', 'ok'], ['get_price', 'ok']]);
  });
});

describe('2026-07-28 on the wire (raw HTTP)', () => {
  test('server/discover: supported versions, capabilities, resultType and serverInfo', async () => {
    const r = await postModern(customerUrl(s, 'acme'), alice.token, 'server/discover');
    assert.equal(r.status, 200);
    const { result } = await r.json();
    assert.deepEqual(result.supportedVersions, ['2026-07-28']);
    assert.deepEqual(Object.keys(result.capabilities).sort(), ['prompts', 'resources', 'tools']);
    assert.equal(result.resultType, 'complete');
    assert.equal(result._meta['io.modelcontextprotocol/serverInfo'].name, customerCapabilities.serverInfo.name);
  });

  test('ttlMs and cacheScope: static lists public, the caller\'s resources private; lists in a stable order', async () => {
    const url = customerUrl(s, 'acme');
    for (const method of ['tools/list', 'prompts/list', 'resources/templates/list']) {
      const { result } = await (await postModern(url, alice.token, method)).json();
      assert.equal(result.cacheScope, 'public', method);
      assert.ok(result.ttlMs > 0, method);
      assert.equal(result.resultType, 'complete');
    }
    const first = await (await postModern(url, alice.token, 'tools/list')).text();
    assert.equal(await (await postModern(url, alice.token, 'tools/list')).text(), first);
    const list = (await (await postModern(url, alice.token, 'resources/list')).json()).result;
    assert.equal(list.cacheScope, 'private');
    assert.equal(list.ttlMs, 0);
    const read = (await (await postModern(url, alice.token, 'resources/read', { uri: `order://${seed.order}` })).json()).result;
    assert.equal(read.cacheScope, 'private');
    const call = (await (await postModern(url, alice.token, 'tools/call', { name: 'get_price', arguments: { sku: seed.sku } })).json()).result;
    assert.equal(call.resultType, 'complete');
    assert.equal(call.ttlMs, undefined, 'a tool result is not cacheable');
    // Legacy results stay as they were: no 2026-07-28 fields.
    const legacy = (await (await post(url, { jsonrpc: '2.0', id: 1, method: 'tools/list' }, { Authorization: `Bearer ${alice.token}`, 'MCP-Protocol-Version': '2025-11-25' })).json()).result;
    assert.equal(legacy.resultType, undefined);
    assert.equal(legacy.cacheScope, undefined);
  });

  test('M8 a missing _meta envelope or a missing required key: 400, -32602', async () => {
    const url = customerUrl(s, 'acme');
    const headers = { Authorization: `Bearer ${alice.token}`, 'MCP-Protocol-Version': '2026-07-28', 'Mcp-Method': 'tools/list' };
    const none = await post(url, { jsonrpc: '2.0', id: 1, method: 'tools/list', params: {} }, headers);
    assert.equal(none.status, 400);
    assert.equal((await none.json()).error.code, -32602);
    const { 'io.modelcontextprotocol/clientCapabilities': _caps, ...withoutCaps } = MODERN_META;
    const partial = await post(url, { jsonrpc: '2.0', id: 1, method: 'tools/list', params: { _meta: withoutCaps } }, headers);
    assert.equal(partial.status, 400);
    assert.equal((await partial.json()).error.code, -32602);
  });

  test('M8 Mcp-Method / Mcp-Name / MCP-Protocol-Version against the body: 400, -32020', async () => {
    const url = customerUrl(s, 'acme');
    const call = { name: 'get_price', arguments: { sku: seed.sku } };
    const cases: [string, Record<string, string>][] = [
      ['Mcp-Method names another method', { 'Mcp-Method': 'tools/list' }],
      ['Mcp-Name names another tool', { 'Mcp-Name': 'place_order' }],
      ['MCP-Protocol-Version differs from _meta', { 'MCP-Protocol-Version': '2025-11-25' }],
      ['Mcp-Name is not a header-safe value', { 'Mcp-Name': '=?base64?not base64?=' }],
    ];
    for (const [what, headers] of cases) {
      const r = await postModern(url, alice.token, 'tools/call', call, headers);
      assert.equal(r.status, 400, what);
      assert.equal((await r.json()).error.code, -32020, what);
    }
    for (const missing of ['Mcp-Method', 'Mcp-Name']) {
      const r = await post(url, { jsonrpc: '2.0', id: 1, method: 'tools/call', params: { ...call, _meta: MODERN_META } }, {
        Authorization: `Bearer ${alice.token}`, 'MCP-Protocol-Version': '2026-07-28',
        ...(missing !== 'Mcp-Method' && { 'Mcp-Method': 'tools/call' }), ...(missing !== 'Mcp-Name' && { 'Mcp-Name': 'get_price' }),
      });
      assert.equal(r.status, 400, `${missing} missing`);
      assert.equal((await r.json()).error.code, -32020, `${missing} missing`);
    }
    // Controls: matching headers, and the same name Base64-encoded (Streamable HTTP §"Value Encoding").
    assert.equal((await postModern(url, alice.token, 'tools/call', call)).status, 200);
    const encoded = `=?base64?${Buffer.from('get_price').toString('base64')}?=`;
    assert.equal((await postModern(url, alice.token, 'tools/call', call, { 'Mcp-Name': encoded })).status, 200);
    const uri = `product://${seed.sku}`;
    assert.equal((await postModern(url, alice.token, 'resources/read', { uri }, { 'Mcp-Name': 'product://other' })).status, 400);
    assert.equal((await postModern(url, alice.token, 'resources/read', { uri })).status, 200);
  });

  test('M8 an unsupported version: 400, -32022 naming the supported ones (header or envelope)', async () => {
    const url = customerUrl(s, 'acme');
    const meta = { ...MODERN_META, 'io.modelcontextprotocol/protocolVersion': '2099-01-01' };
    const byHeader = await post(url, { jsonrpc: '2.0', id: 7, method: 'tools/list', params: { _meta: meta } }, {
      Authorization: `Bearer ${alice.token}`, 'MCP-Protocol-Version': '2099-01-01', 'Mcp-Method': 'tools/list',
    });
    assert.equal(byHeader.status, 400);
    const b1 = await byHeader.json();
    assert.equal(b1.id, 7, 'the error answers the request id');
    const e1 = b1.error;
    assert.equal(e1.code, -32022);
    assert.deepEqual(e1.data.supported, ['2026-07-28'], 'the per-request revisions, as server/discover lists them');
    assert.match(e1.message, /2025-11-25/, 'the message names the legacy ones too');
    const byEnvelope = await post(url, { jsonrpc: '2.0', id: 8, method: 'tools/list', params: { _meta: meta } }, {
      Authorization: `Bearer ${alice.token}`, 'Mcp-Method': 'tools/list',
    });
    assert.equal(byEnvelope.status, 400);
    const e2 = await byEnvelope.json();
    assert.equal(e2.id, 8);
    assert.equal(e2.error.code, -32022);
    assert.equal(e2.error.data.requested, '2099-01-01');
  });

  test('methods of the other era and unknown ones: 404, -32601; the tasks methods are served (an unknown task: -32602)', async () => {
    const url = customerUrl(s, 'acme');
    for (const method of ['ping', 'logging/setLevel', 'no/such']) {
      const r = await postModern(url, alice.token, method, {});
      assert.equal(r.status, 404, method);
      assert.equal((await r.json()).error.code, -32601, method);
    }
    const task = await postModern(url, alice.token, 'tasks/get', { taskId: 'x' }, { 'Mcp-Name': 'x' });
    assert.equal(task.status, 200);
    assert.deepEqual((await task.json()).error, { code: -32602, message: 'Failed to retrieve task: Task not found' });
    // Legacy: server/discover does not exist there.
    const legacy = await post(url, { jsonrpc: '2.0', id: 1, method: 'server/discover' }, { Authorization: `Bearer ${alice.token}`, 'MCP-Protocol-Version': '2025-11-25' });
    assert.equal((await legacy.json()).error.code, -32601);
  });

  test('M6 a step-up challenge names every scope the operation needs (2026-07-28 as 2025-11-25)', async () => {
    const narrow = await customerToken(s, 'acme', 'alice@acme.example', 'orders');
    const r = await postModern(customerUrl(s, 'acme'), narrow.token, 'tools/call', { name: 'get_price', arguments: { sku: seed.sku } });
    assert.equal(r.status, 403);
    assert.match(r.headers.get('www-authenticate') ?? '', /error="insufficient_scope".*scope="catalog"/);
  });

  test('resource not found: -32602 on 2026-07-28, -32002 on 2025-11-25', async () => {
    const url = customerUrl(s, 'acme');
    const m = await (await postModern(url, alice.token, 'resources/read', { uri: 'order://NO-SUCH' })).json();
    assert.equal(m.error.code, -32602);
    const l = await (await post(url, { jsonrpc: '2.0', id: 1, method: 'resources/read', params: { uri: 'order://NO-SUCH' } }, { Authorization: `Bearer ${alice.token}` })).json();
    assert.equal(l.error.code, -32002);
  });
});

test('2026-07-28 codes: no application error in the specification\'s range (-32020 … -32099) nor -32002', () => {
  assert.equal(wireErrorCode(-32029, 'modern'), -31029);
  assert.equal(wireErrorCode(-32002, 'modern'), -31002);
  for (const kept of [-32020, -32021, -32022, -32602, -32601, -32003]) assert.equal(wireErrorCode(kept, 'modern'), kept);
  assert.equal(wireErrorCode(-32029, 'legacy'), -32029, 'legacy requests keep their codes');
  assert.equal(wireErrorCode(-32002, 'legacy'), -32002);
});

describe('what a tool is told about its client (the call context for MRTR and tasks)', () => {
  const body = (caps: unknown, extra: Record<string, unknown> = {}) => ({
    jsonrpc: '2.0', id: 1, method: 'tools/call',
    params: { name: 't', arguments: {}, ...extra, _meta: { ...MODERN_META, 'io.modelcontextprotocol/clientCapabilities': caps } },
  });
  const headers = { protocolVersionHeader: '2026-07-28', mcpMethodHeader: 'tools/call', mcpNameHeader: 't' };

  test('declared elicitation (form), the tasks extension, and an MRTR retry\'s inputResponses / requestState', () => {
    const v = classifyRevision({ ...headers, body: body({ elicitation: {}, extensions: { 'io.modelcontextprotocol/tasks': {} } }, {
      inputResponses: { confirm: { action: 'accept', content: { ok: true } } }, requestState: 'opaque',
    }) });
    assert.ok(v.ok);
    assert.equal(v.protocol.era, 'modern');
    assert.deepEqual(v.protocol.elicitation, { form: true, url: false });
    assert.equal(v.protocol.tasks, true);
    assert.deepEqual(v.protocol.inputResponses, { confirm: { action: 'accept', content: { ok: true } } });
    assert.equal(v.protocol.requestState, 'opaque');
    assert.equal(v.protocol.clientInfo?.name, 'raw-test');
  });

  test('nothing declared: no elicitation, no tasks; URL-only elicitation is not form; legacy declares nothing', () => {
    const none = classifyRevision({ ...headers, body: body({}) });
    assert.ok(none.ok);
    assert.deepEqual([none.protocol.elicitation, none.protocol.tasks], [{ form: false, url: false }, false]);
    const url = classifyRevision({ ...headers, body: body({ elicitation: { url: {} } }) });
    assert.ok(url.ok);
    assert.deepEqual(url.protocol.elicitation, { form: false, url: true });
    const legacy = classifyRevision({ protocolVersionHeader: '2025-11-25', mcpMethodHeader: undefined, mcpNameHeader: undefined,
      body: { jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name: 't', arguments: {} } } });
    assert.ok(legacy.ok);
    assert.deepEqual([legacy.protocol.era, legacy.protocol.revision, legacy.protocol.elicitation.form, legacy.protocol.tasks], ['legacy', '2025-11-25', false, false]);
  });

  test('a malformed requestState or inputResponses is refused (400, -32602)', () => {
    const bad = classifyRevision({ ...headers, body: body({}, { requestState: 42 }) });
    assert.ok(!bad.ok);
    assert.deepEqual([bad.refusal.status, bad.refusal.code], [400, -32602]);
    const badInputs = classifyRevision({ ...headers, body: body({}, { inputResponses: 'yes' }) });
    assert.ok(!badInputs.ok);
  });
});
