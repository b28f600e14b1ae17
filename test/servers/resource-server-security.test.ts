// The resource-server rows of the attack catalogue, over real HTTP with real tokens:
// M1 (bad tokens), M3 (no session to hijack), M5 (DNS rebinding), M6 (step-up), M7 (batches,
// size, depth), M8 (protocol version), A2 (staff tools by name), and RFC 9728 metadata.
import assert from 'node:assert/strict';
import { before, describe, test } from 'node:test';
import { protectedResourceMetadataUrl } from '../../src/authz/resources.js';
import { withContext } from '../../src/db/context.js';
import { startTestService, type TestService } from '../support/service.js';
import { auditRows, connect, customerToken, customerUrl, internalUrl, post, staffToken, toolCall } from './helpers.js';

let s: TestService;
let url: string;
let good: { token: string; id: string; tenantId: string };

const initialize = { jsonrpc: '2.0', id: 1, method: 'initialize', params: { protocolVersion: '2025-11-25', capabilities: {}, clientInfo: { name: 't', version: '1' } } };
const bearer = (t: string) => ({ Authorization: `Bearer ${t}` });

before(async () => {
  s = await startTestService();
  url = customerUrl(s, 'acme');
  good = await customerToken(s, 'acme', 'alice@acme.example');
});

describe('M1 bearer tokens', () => {
  test('M1 missing token: 401 with resource_metadata and scope, and no error code (RFC 6750 §3.1)', async () => {
    const r = await post(url, initialize);
    assert.equal(r.status, 401);
    const h = r.headers.get('www-authenticate')!;
    assert.match(h, /^Bearer /);
    assert.match(h, new RegExp(`resource_metadata="${protectedResourceMetadataUrl(url)}"`));
    assert.match(h, /scope="orders returns catalog cart"/);
    assert.doesNotMatch(h, /error=/);
  });

  const invalid = async (token: string, why: string) => {
    const r = await post(url, initialize, bearer(token));
    assert.equal(r.status, 401, why);
    const h = r.headers.get('www-authenticate')!;
    assert.match(h, /error="invalid_token"/, why);
    assert.match(h, /resource_metadata="/, why);
  };

  test('M1 malformed, unknown, forged, expired, revoked, wrong-audience and other-tenant tokens: 401 invalid_token', async () => {
    await invalid('not a token at all', 'malformed');
    await invalid('cmcp_at_' + 'A'.repeat(43), 'unknown / forged');
    await invalid(good.token.slice(0, -2) + (good.token.endsWith('AA') ? 'BB' : 'AA'), 'tampered');
    const r = await post(url, initialize, { Authorization: 'Basic dXNlcjpwYXNz' });
    assert.equal(r.status, 401, 'another scheme');

    const expired = await customerToken(s, 'acme', 'alice@acme.example', 'orders', { ttlSeconds: 60 });
    await s.database.owner`update oauth_access_tokens set expires_at = now() - interval '1 second' where id = ${expired.id}`;
    await invalid(expired.token, 'expired');

    const revoked = await customerToken(s, 'acme', 'alice@acme.example');
    assert.equal((await post(url, initialize, bearer(revoked.token))).status, 200);
    await withContext(s.database.app, { kind: 'auth', tenantId: revoked.tenantId }, (tx) =>
      tx`update oauth_access_tokens set revoked_at = now() where id = ${revoked.id}`);
    await invalid(revoked.token, 'revoked: takes effect on the very next request');

    const internalAudience = await customerToken(s, 'acme', 'alice@acme.example', 'orders', { resource: internalUrl(s, 'acme') });
    await invalid(internalAudience.token, 'audience = the internal endpoint');
    const otherTenantAudience = await customerToken(s, 'acme', 'alice@acme.example', 'orders', { resource: customerUrl(s, 'globex') });
    await invalid(otherTenantAudience.token, 'audience = another tenant');

    // A valid globex token presented at acme: looked up in acme, where it does not exist.
    const globex = await customerToken(s, 'globex', 'carol@globex.example');
    await invalid(globex.token, 'other tenant');
    // A staff token (of this tenant, for the internal endpoint) at the customer endpoint, and vice versa.
    const staff = await staffToken(s, 'acme', 'supply@acme.example');
    await invalid(staff.token, 'staff token at the customer endpoint');
    const r2 = await post(internalUrl(s, 'acme'), initialize, bearer(good.token));
    assert.equal(r2.status, 401, 'customer token at the internal endpoint');
  });

  test('M1 a token in the query string is never accepted', async () => {
    const r = await post(`${url}?access_token=${good.token}`, initialize);
    assert.ok(r.status === 400 || r.status === 401);
    assert.match(r.headers.get('www-authenticate')!, /error="invalid_request"/);
    const both = await post(`${url}?access_token=${good.token}`, initialize, bearer(good.token));
    assert.ok(both.status === 400 || both.status === 401, 'refused even with a header too');
  });

  test('RFC 9728 protected resource metadata for both endpoints', async () => {
    const c = await (await fetch(protectedResourceMetadataUrl(url))).json();
    assert.equal(c.resource, url);
    assert.deepEqual(c.authorization_servers, [`${s.publicUrl}/t/acme`]);
    assert.deepEqual(c.bearer_methods_supported, ['header']);
    assert.ok(c.scopes_supported.includes('orders'));
    const iurl = internalUrl(s, 'acme');
    const i = await (await fetch(protectedResourceMetadataUrl(iurl))).json();
    assert.equal(i.resource, iurl);
    assert.ok(i.scopes_supported.includes('ops:read'));
    assert.equal((await fetch(protectedResourceMetadataUrl(customerUrl(s, 'nope-tenant')))).status, 404);
  });
});

describe('M3 M5 M7 M8 transport', () => {
  test('M3 no session: none is issued, a foreign session id is not honoured, GET/DELETE are 405', async () => {
    const r = await post(url, initialize, bearer(good.token));
    assert.equal(r.status, 200);
    assert.equal(r.headers.get('mcp-session-id'), null);
    // "Alice's session id" with Bob's token: there is no session state, so Bob acts as Bob only.
    const bob = await customerToken(s, 'acme', 'bob@acme.example');
    const [aliceOrder] = await s.database.owner<{ number: string }[]>`select o.number from orders o join customers c on c.id = o.customer_id where c.email = 'alice@acme.example' limit 1`;
    const hijack = await post(url, toolCall('get_order', { order_number: aliceOrder!.number }),
      { ...bearer(bob.token), 'Mcp-Session-Id': 'alice-session-0001', 'Last-Event-ID': 'alice-stream-1' });
    const body = await hijack.json();
    assert.equal(body.result.isError, true);
    assert.equal(body.result.content[0].text, `order ${aliceOrder!.number} not found`);
    // A session id without a token is nothing.
    assert.equal((await post(url, initialize, { 'Mcp-Session-Id': 'alice-session-0001' })).status, 401);
    for (const method of ['GET', 'DELETE']) {
      const g = await fetch(url, { method, headers: { ...bearer(good.token), Accept: 'text/event-stream', 'Last-Event-ID': '1' } });
      assert.equal(g.status, 405, method);
      assert.equal(g.headers.get('allow'), 'POST');
    }
  });

  test('M5 a foreign Origin or Host is refused with 403; our own origin and no origin are fine', async () => {
    assert.equal((await post(url, initialize, { ...bearer(good.token), Origin: 'https://evil.example' })).status, 403);
    assert.equal((await post(url, initialize, { ...bearer(good.token), Origin: 'null' })).status, 403);
    assert.equal((await post(url, initialize, { ...bearer(good.token), Origin: new URL(s.publicUrl).origin })).status, 200);
    // A rebinding attacker's name in Host (fetch does not let us set Host, so use node:http).
    const { request } = await import('node:http');
    const u = new URL(url);
    const status = await new Promise<number>((resolve, reject) => {
      const req = request({ host: u.hostname, port: u.port, path: u.pathname, method: 'POST',
        headers: { Host: `evil.example:${u.port}`, 'Content-Type': 'application/json', Accept: 'application/json, text/event-stream', ...bearer(good.token) } },
      (res) => { res.resume(); resolve(res.statusCode!); });
      req.on('error', reject);
      req.end(JSON.stringify(initialize));
    });
    assert.equal(status, 403);
  });

  test('M7 batches, oversized bodies, deep nesting and non-JSON-RPC are refused before any work', async () => {
    const batch = await post(url, [initialize, { ...initialize, id: 2 }], bearer(good.token));
    assert.equal(batch.status, 400);
    assert.equal((await batch.json()).error.code, -32600);
    const huge = await post(url, toolCall('search_products', { query: 'x'.repeat(200_000) }), bearer(good.token));
    assert.equal(huge.status, 413);
    const deep = `${'['.repeat(5000)}"x"${']'.repeat(5000)}`;
    const nested = await post(url, `{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"search_products","arguments":{"query":${deep}}}}`, bearer(good.token));
    assert.equal(nested.status, 400);
    assert.equal((await post(url, '{"jsonrpc":', bearer(good.token))).status, 400);
    assert.equal((await post(url, { hello: 'world' }, bearer(good.token))).status, 400);
    const wrongType = await fetch(url, { method: 'POST', headers: { ...bearer(good.token), 'Content-Type': 'text/plain', Accept: 'application/json, text/event-stream' }, body: JSON.stringify(initialize) });
    assert.equal(wrongType.status, 415);
    // A long string inside the limit is a schema error, not a crash.
    const long = await post(url, toolCall('search_products', { query: 'y'.repeat(50_000) }), bearer(good.token));
    const body = await long.json();
    assert.equal(body.result.isError, true);
    assert.match(body.result.content[0].text, /query/);
    const rss = process.memoryUsage().rss;
    assert.ok(rss > 0);
  });

  test('M8 an unsupported MCP-Protocol-Version is a 400; supported ones and none are fine', async () => {
    for (const v of ['2024-11-05', '1999-01-01', 'garbage']) {
      const r = await post(url, { jsonrpc: '2.0', id: 1, method: 'tools/list' }, { ...bearer(good.token), 'MCP-Protocol-Version': v });
      assert.equal(r.status, 400, v);
    }
    for (const v of ['2025-03-26', '2025-06-18', '2025-11-25']) {
      const r = await post(url, { jsonrpc: '2.0', id: 1, method: 'tools/list' }, { ...bearer(good.token), 'MCP-Protocol-Version': v });
      assert.equal(r.status, 200, v);
    }
    assert.equal((await post(url, { jsonrpc: '2.0', id: 1, method: 'tools/list' }, bearer(good.token))).status, 200);
    // initialize asking for an old revision is answered with ours (version negotiation).
    const init = await (await post(url, { ...initialize, params: { ...initialize.params, protocolVersion: '2024-11-05' } }, bearer(good.token))).json();
    assert.equal(init.result.protocolVersion, '2025-11-25');
  });
});

describe('M6 A2 scopes and foreign tools', () => {
  test('M6 a tool needing a scope the token lacks: 403 insufficient_scope naming it', async () => {
    const ordersOnly = await customerToken(s, 'acme', 'alice@acme.example', 'orders');
    const r = await post(url, toolCall('start_return', { order_number: 'ORD-1001', lines: [{ line_no: 1, quantity: 1 }], reason: 'x', idempotency_key: 'abcdefgh' }), bearer(ordersOnly.token));
    assert.equal(r.status, 403);
    const h = r.headers.get('www-authenticate')!;
    assert.match(h, /error="insufficient_scope"/);
    assert.match(h, /scope="returns"/);
    assert.match(h, /resource_metadata="/);
    const ok = await post(url, toolCall('list_orders', {}), bearer(ordersOnly.token));
    assert.equal(ok.status, 200);
    // Staff: payments need payments:read.
    const warehouse = await staffToken(s, 'acme', 'warehouse@acme.example', 'ops:read');
    const p = await post(internalUrl(s, 'acme'), toolCall('lookup_payment', { order_number: 'ORD-1001' }), bearer(warehouse.token));
    assert.equal(p.status, 403);
    assert.match(p.headers.get('www-authenticate')!, /scope="payments:read"/);
    const res = await post(internalUrl(s, 'acme'), { jsonrpc: '2.0', id: 1, method: 'resources/read', params: { uri: 'ops://payments' } }, bearer(warehouse.token));
    assert.equal(res.status, 403);
    const rows = await auditRows(s.database.owner, ordersOnly.id);
    assert.ok(rows.some((x) => x.tool === 'start_return' && x.outcome === 'denied'), 'the refusal is audited');
  });

  test('A2 a customer token calling staff tools by name: error, audited', async () => {
    const a = await customerToken(s, 'acme', 'alice@acme.example');
    const client = await connect(url, a.token);
    for (const name of ['low_stock', 'lookup_payment', 'search_orders', 'late_shipments']) {
      await assert.rejects(client.callTool({ name, arguments: {} }), /Unknown tool/);
    }
    const rows = await auditRows(s.database.owner, a.id);
    const denied = rows.filter((r) => r.outcome === 'denied');
    assert.equal(denied.length, 4);
    assert.deepEqual(denied.map((r) => r.tool).sort(), ['late_shipments', 'lookup_payment', 'low_stock', 'search_orders']);
    // And the staff endpoint, with that token, is a 401 before any tool is considered.
    assert.equal((await post(internalUrl(s, 'acme'), toolCall('low_stock', {}), bearer(a.token))).status, 401);
  });
});
