// The hot path's cheaper checks (issue 15, docs/HOT-PATH.md "node CPU") must decide exactly as the
// SDK checks they stand in for: the tools/call params fast accept never accepts what the SDK's
// CallToolRequestSchema refuses, and the remembered era classification gives, on its first and on
// every later request with the same envelope, the verdict the SDK's classifyInboundRequest gives.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { CallToolRequestSchema } from '@modelcontextprotocol/core';
import { classifyInboundRequest } from '@modelcontextprotocol/server';
import { plainCallToolParams } from '../../src/servers/mcp/dispatch.js';
import { classifyRevision } from '../../src/servers/mcp/revision.js';

const ENVELOPE = {
  'io.modelcontextprotocol/protocolVersion': '2026-07-28',
  'io.modelcontextprotocol/clientCapabilities': {},
  'io.modelcontextprotocol/clientInfo': { name: 'fast-checks', version: '1.0.0' },
};

const PARAMS: unknown[] = [
  undefined, null, [], 'get_order', {}, { name: 1 }, { name: 'get_order' }, { name: 'get_order', arguments: {} },
  { name: 'get_order', arguments: { order_number: 'ORD-1' } }, { name: 'get_order', arguments: [] }, { name: 'get_order', arguments: null },
  { name: 'get_order', arguments: 'x' }, { name: 'get_order', _meta: {} }, { name: 'get_order', _meta: null }, { name: 'get_order', _meta: [] },
  { name: 'get_order', _meta: { progressToken: 'p' } }, { name: 'get_order', _meta: { progressToken: 7 } }, { name: 'get_order', _meta: { progressToken: 1.5 } },
  { name: 'get_order', _meta: { progressToken: 2 ** 60 } }, { name: 'get_order', _meta: { progressToken: null } }, { name: 'get_order', _meta: { progressToken: {} } },
  { name: 'get_order', _meta: { 'io.modelcontextprotocol/related-task': { taskId: 't' } } }, { name: 'get_order', _meta: { 'io.modelcontextprotocol/related-task': 5 } },
  { name: 'get_order', task: {} }, { name: 'get_order', task: { ttl: 'x' } }, { name: 'get_order', task: 1 }, { name: 'get_order', extra: true },
  { name: 'get_order', arguments: { a: 1 }, _meta: ENVELOPE },
];

test('the tools/call params fast accept accepts nothing CallToolRequestSchema refuses (and the plain calls)', () => {
  let accepted = 0;
  for (const params of PARAMS) {
    if (!plainCallToolParams(params as Record<string, unknown> | undefined)) continue;
    accepted++;
    assert.ok(CallToolRequestSchema.safeParse({ method: 'tools/call', params }).success, `fast-accepted, schema refuses: ${JSON.stringify(params)}`);
  }
  assert.ok(plainCallToolParams({ name: 'get_order', arguments: { order_number: 'ORD-1' }, _meta: ENVELOPE }), 'a plain modern call is fast-accepted');
  assert.ok(plainCallToolParams({ name: 'get_order', arguments: {} }), 'a plain legacy call is fast-accepted');
  assert.ok(accepted >= 6, `${accepted} fast-accepted`);
});

type Headers = { protocolVersionHeader?: string; mcpMethodHeader?: string; mcpNameHeader?: string };
const modernHeaders = (method: string, name?: string): Headers => ({ protocolVersionHeader: '2026-07-28', mcpMethodHeader: method, mcpNameHeader: name });

const CASES: { headers: Headers; body: unknown }[] = [];
const call = (params: unknown, extra: Record<string, unknown> = {}) => ({ jsonrpc: '2.0', id: 1, method: 'tools/call', params, ...extra });
for (const meta of [
  ENVELOPE, { ...ENVELOPE, progressToken: 'p' }, { ...ENVELOPE, progressToken: 1.5 }, { ...ENVELOPE, 'io.modelcontextprotocol/protocolVersion': '2025-11-25' },
  { ...ENVELOPE, 'io.modelcontextprotocol/protocolVersion': '2027-01-01' }, { ...ENVELOPE, 'io.modelcontextprotocol/protocolVersion': 5 },
  { ...ENVELOPE, 'io.modelcontextprotocol/clientCapabilities': undefined }, { ...ENVELOPE, 'io.modelcontextprotocol/clientCapabilities': 'none' },
  { ...ENVELOPE, 'io.modelcontextprotocol/clientCapabilities': { elicitation: { form: {} }, extensions: { 'io.modelcontextprotocol/tasks': {} } } },
  { ...ENVELOPE, 'io.modelcontextprotocol/clientCapabilities': { elicitation: 'yes' } },
  { ...ENVELOPE, 'io.modelcontextprotocol/clientInfo': { name: 'x' } }, { ...ENVELOPE, 'io.modelcontextprotocol/clientInfo': undefined },
  { ...ENVELOPE, 'io.modelcontextprotocol/logLevel': 'loud' }, { ...ENVELOPE, 'io.modelcontextprotocol/related-task': { taskId: 't' } },
  { 'io.modelcontextprotocol/clientCapabilities': {} }, {},
]) {
  const m = JSON.parse(JSON.stringify(meta)) as Record<string, unknown>;
  CASES.push({ headers: modernHeaders('tools/call', 'get_order'), body: call({ name: 'get_order', arguments: {}, _meta: m }) });
  CASES.push({ headers: modernHeaders('tools/list'), body: call({ name: 'get_order', arguments: {}, _meta: m }) });
  CASES.push({ headers: { protocolVersionHeader: '2025-11-25' }, body: call({ name: 'get_order', arguments: {}, _meta: m }) });
  CASES.push({ headers: {}, body: call({ name: 'get_order', _meta: m }) });
  CASES.push({ headers: modernHeaders('tools/call', 'get_order'), body: call({ name: 'get_order', _meta: m }, { extra: 1 }) });
  CASES.push({ headers: modernHeaders('tools/call', 'get_order'), body: call({ name: 'get_order', _meta: m }, { result: {} }) });
  CASES.push({ headers: modernHeaders('initialize'), body: { jsonrpc: '2.0', id: 'i', method: 'initialize', params: { protocolVersion: '2025-11-25', _meta: m } } });
  CASES.push({ headers: modernHeaders('server/discover'), body: { jsonrpc: '2.0', id: 2.5, method: 'server/discover', params: { _meta: m } } });
  CASES.push({ headers: modernHeaders('server/discover'), body: { jsonrpc: '2.0', method: 'server/discover', params: { _meta: m } } });
}
CASES.push({ headers: { protocolVersionHeader: '2025-11-25' }, body: call({ name: 'get_order', arguments: {} }) });
CASES.push({ headers: { protocolVersionHeader: '2026-07-28' }, body: call({ name: 'get_order', arguments: {} }) });
CASES.push({ headers: {}, body: call(undefined) });

/** The SDK's verdict, reduced to what classifyRevision answers: a refusal's code, or the era. */
function sdkVerdict(c: { headers: Headers; body: unknown }): string {
  const o = classifyInboundRequest({ httpMethod: 'POST', ...c.headers, body: c.body });
  return o.kind === 'reject' ? `refused ${o.code}` : o.kind;
}

test('the remembered era classification answers as the SDK does, on the first request and on every later one', () => {
  for (const c of CASES) {
    const expected = sdkVerdict(c);
    let previous: ReturnType<typeof classifyRevision> | undefined;
    for (let round = 0; round < 3; round++) {
      const body = JSON.parse(JSON.stringify(c.body)) as unknown; // every request parses its own body
      const v = classifyRevision({ protocolVersionHeader: c.headers.protocolVersionHeader, mcpMethodHeader: c.headers.mcpMethodHeader, mcpNameHeader: c.headers.mcpNameHeader, body });
      const ours = v.ok ? v.protocol.era : `refused ${v.refusal.code}`;
      // Ours refuses more than the SDK (a revision we do not implement: -32022; our header checks: -32020;
      // malformed declarations: -32602), never less, and agrees on the era of everything it accepts.
      if (v.ok) assert.equal(ours, expected, `round ${round}: ${JSON.stringify(c)}`);
      else if (expected.startsWith('refused')) assert.equal(ours, expected, `round ${round}: ${JSON.stringify(c)}`);
      if (round > 0) assert.deepEqual(v, previous, `round ${round} differs from the first: ${JSON.stringify(c)}`);
      previous = v;
    }
  }
});

test('a remembered classification hands each request its own message and its own declarations', () => {
  const first = JSON.parse(JSON.stringify(call({ name: 'get_order', arguments: {}, _meta: { ...ENVELOPE, 'io.modelcontextprotocol/clientCapabilities': { elicitation: {} } } }))) as unknown;
  const second = JSON.parse(JSON.stringify(first)) as unknown;
  const headers = { protocolVersionHeader: '2026-07-28', mcpMethodHeader: 'tools/call', mcpNameHeader: 'get_order' };
  const a = classifyRevision({ ...headers, body: first });
  const b = classifyRevision({ ...headers, body: second });
  assert.ok(a.ok && b.ok);
  assert.deepEqual(a.protocol, b.protocol);
  assert.notEqual(a.protocol.clientCapabilities, b.protocol.clientCapabilities, 'no object shared between two requests');
  assert.equal(a.protocol.elicitation.form, true);
});
