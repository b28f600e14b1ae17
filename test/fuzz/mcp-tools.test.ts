// Property-based fuzzing of every MCP tool's arguments on both endpoints (issue 7 part 3; docs/ATTACK-CATALOGUE.md
// M7, A3; docs/DESIGN.md §7). The tool list and input schemas come from tools/list, so a new tool is
// fuzzed without touching this file. For every request: never a 5xx, never a stack trace, never
// SQL text in an error, an answer within a bound, and — when the request is rejected — the
// database exactly as before (fingerprint of every table but the audit log).
import { ALL_STAFF_SCOPES } from '../../src/authz/scopes.js';
import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { resourceFor } from '../../src/authz/resources.js';
import { issueTestToken } from '../support/tokens.js';
import { startTestService, type TestService, GENEROUS_BUDGETS } from '../support/service.js';
import {
  assertNoSqlText, assertNoStackTrace, checkProperty, databaseFingerprint, hostileNumber, hostileString, INCLUDE_KNOWN_BUGS,
  MASS_ASSIGNMENT_KEYS, nested, storable, validArbitrary, type Fingerprint, type JsonSchema, type KnownValues,
} from './support.js';

/** No request may take longer than this: no unbounded work (M7, A4). */
/** An answer later than this is a hang, not a slow machine. */
const ANSWER_BOUND_MS = 30_000;
/** src/servers/mcp/http-checks.ts: MAX_BODY_BYTES and MAX_JSON_DEPTH. */
const BODY_LIMIT = 64 * 1024;
const DEPTH_LIMIT = 32;
/** A fresh token every so many calls, so per-token rate limits (A4) never turn the fuzz into 429s. */
const CALLS_PER_TOKEN = 30;

interface Tool { name: string; inputSchema: JsonSchema }

interface Endpoint {
  kind: 'customer' | 'internal';
  url: string;
  token(): Promise<string>;
  tools: Tool[];
  known: KnownValues;
}

interface Answer { status: number; text: string; rejected: boolean; result?: { structuredContent?: unknown } }

/** Internal fields an output must never expose (A3). */
const INTERNAL_FIELDS = new Set(['tenant_id', 'customer_id', 'staff_id', 'password_hash', 'token_hash', 'client_secret_hash', 'subject_id', 'request_hash']);

function internalFieldsIn(value: unknown, path = ''): string[] {
  if (!value || typeof value !== 'object') return [];
  const found: string[] = [];
  for (const [k, v] of Object.entries(value)) {
    if (INTERNAL_FIELDS.has(k)) found.push(`${path}${k}`);
    found.push(...internalFieldsIn(v, `${path}${k}.`));
  }
  return found;
}

async function rawPost(url: string, token: string, body: string): Promise<{ status: number; text: string; headers: string }> {
  const res = await fetch(url, {
    method: 'POST',
    headers: {
      Authorization: `Bearer ${token}`, 'Content-Type': 'application/json', Accept: 'application/json, text/event-stream',
      'MCP-Protocol-Version': '2025-11-25',
    },
    body,
    signal: AbortSignal.timeout(ANSWER_BOUND_MS),
  });
  return { status: res.status, text: await res.text(), headers: JSON.stringify([...res.headers]) };
}

/** Sends one raw body and checks the invariants that hold for any request. */
async function send(ep: Endpoint, token: string, body: string, where: string): Promise<Answer> {
  const started = performance.now();
  const { status, text, headers } = await rawPost(ep.url, token, body);
  const elapsed = performance.now() - started;
  assert.ok(elapsed < ANSWER_BOUND_MS, `${where}: answered after ${Math.round(elapsed)} ms`);
  assert.ok(status < 500, `${where}: HTTP ${status} ${text.slice(0, 400)}`);
  assertNoStackTrace(text + headers, where);
  if (status >= 400) {
    assertNoSqlText(text, where);
    return { status, text, rejected: true };
  }
  if (status === 202) return { status, text, rejected: true }; // a notification or response: nothing to do
  const message = JSON.parse(text) as { jsonrpc?: string; error?: { code: number; message: string }; result?: { isError?: boolean; structuredContent?: unknown; content?: { text?: string }[] } };
  assert.equal(message.jsonrpc, '2.0', `${where}: not a JSON-RPC answer: ${text.slice(0, 200)}`);
  if (message.error) {
    assert.equal(typeof message.error.code, 'number');
    assert.notEqual(message.error.code, -32603, `${where}: internal error for a client's mistake: ${text.slice(0, 400)}`);
    assertNoSqlText(message.error.message, where);
    return { status, text, rejected: true };
  }
  if (message.result?.isError) {
    assertNoSqlText(text, where);
    return { status, text, rejected: true };
  }
  const leaked = internalFieldsIn(message.result?.structuredContent);
  assert.deepEqual(leaked, [], `${where}: output exposes internal fields`);
  return { status, text, rejected: false, result: message.result };
}

function toolCall(name: string, args: unknown): string {
  // Known bug (support.ts): non-object arguments (null included) answer -32603; wrapped until fixed.
  const shaped = INCLUDE_KNOWN_BUGS || args === undefined || (args !== null && typeof args === 'object' && !Array.isArray(args)) ? args : { value: args };
  return JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name: storable(name), arguments: storable(shaped) } });
}

/** One request, with the database fingerprinted around it when it is rejected. */
async function callChecked(ep: Endpoint, fp: Fingerprint, body: string, where: string): Promise<Answer> {
  const token = await ep.token(); // minting one is a write: before the fingerprint
  const before = await fp.take();
  const answer = await send(ep, token, body, where);
  if (answer.rejected) await fp.assertSame(before, where);
  return answer;
}

async function listTools(url: string, token: string): Promise<Tool[]> {
  const { status, text } = await rawPost(url, token, JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/list', params: {} }));
  assert.equal(status, 200, text);
  const tools = (JSON.parse(text) as { result: { tools: Tool[] } }).result.tools;
  assert.ok(tools.length > 0);
  return tools;
}

function tokenRotation(s: TestService, kind: 'customer' | 'staff', email: string, scope: string, resource: string): () => Promise<string> {
  let current: string | undefined;
  let used = 0;
  return async () => {
    if (!current || used++ >= CALLS_PER_TOKEN) {
      used = 1;
      current = (await issueTestToken(s.database.app, { tenantSlug: 'acme', resource, subject: { kind, email }, scope })).token;
    }
    return current;
  };
}

async function setUp(): Promise<{ service: TestService; fp: Fingerprint; customer: Endpoint; internal: Endpoint }> {
  // The webhook worker writes in the background (dispatching outbox rows): off, so any change the
  // fingerprint sees comes from the fuzzed request itself.
  const service = await startTestService({ ...GENEROUS_BUDGETS, WEBHOOK_WORKER: 'false' });
  const fp = await databaseFingerprint(service.database);
  const owner = service.database.owner;
  const urls = { publicUrl: service.publicUrl, internalUrl: service.internalUrl };
  const customerResource = resourceFor(urls, 'acme', 'customer');
  const internalResource = resourceFor(urls, 'acme', 'internal');
  const customerTokens = tokenRotation(service, 'customer', 'alice@acme.example', 'orders returns catalog cart', customerResource);
  // Every staff scope, so the write tools' schemas are reached (not just their scope check).
  const staffTokens = tokenRotation(service, 'staff', 'admin@acme.example', ALL_STAFF_SCOPES.join(' '), internalResource);

  // Real identifiers, so that valid-looking arguments reach the handlers' deeper paths: the
  // caller's own, another customer's (BOLA: must look missing) and another tenant's.
  const col = async (q: Promise<{ v: string }[]>) => (await q).map((r) => r.v);
  const acme = (await owner<{ id: string }[]>`select id from tenants where slug = 'acme'`)[0]!.id;
  const alice = (await owner<{ id: string }[]>`select id from customers where tenant_id = ${acme} and email = 'alice@acme.example'`)[0]!.id;
  const orderNumbers = [
    ...(await col(owner`select number as v from orders where tenant_id = ${acme} and customer_id = ${alice} order by number limit 12`)),
    ...(await col(owner`select number as v from orders where tenant_id = ${acme} and customer_id <> ${alice} order by number limit 4`)),
    ...(await col(owner`select number as v from orders where tenant_id <> ${acme} order by number limit 4`)),
  ];
  const known: KnownValues = {
    order_number: orderNumbers,
    return_number: await col(owner`select number as v from returns order by tenant_id = ${acme} desc, number limit 12`),
    claim_number: await col(owner`select number as v from damage_claims order by tenant_id = ${acme} desc, number limit 8`),
    sku: await col(owner`select sku as v from products order by tenant_id = ${acme} desc, sku limit 16`),
    warehouse_code: await col(owner`select code as v from warehouses order by tenant_id = ${acme} desc limit 6`).catch(() => []),
    carrier: await col(owner`select name as v from carriers limit 6`).catch(() => []),
  };
  const customerUrl = `${service.publicUrl}/t/acme/mcp`;
  const internalUrl = `${service.internalUrl}/t/acme/internal/mcp`;
  return {
    service, fp,
    customer: { kind: 'customer', url: customerUrl, token: customerTokens, tools: await listTools(customerUrl, await customerTokens()), known },
    internal: { kind: 'internal', url: internalUrl, token: staffTokens, tools: await listTools(internalUrl, await staffTokens()), known },
  };
}

// ---------- mutations of valid arguments ----------

type Mutation =
  | { kind: 'none' }
  | { kind: 'drop_required' }
  | { kind: 'wrong_type'; value: unknown }
  | { kind: 'hostile_string'; value: string }
  | { kind: 'hostile_number'; value: number }
  | { kind: 'mass_assignment'; key: string; value: unknown }
  | { kind: 'unknown_key'; key: string; value: unknown }
  | { kind: 'deep_value'; depth: number }
  | { kind: 'not_an_object'; value: unknown };

const mutation: fc.Arbitrary<Mutation> = fc.oneof(
  fc.constant({ kind: 'none' as const }),
  fc.constant({ kind: 'drop_required' as const }),
  fc.oneof(fc.constant(null), fc.boolean(), fc.integer(), fc.double(), fc.string(), fc.array(fc.integer(), { maxLength: 3 }), fc.object({ maxDepth: 1 }))
    .map((value) => ({ kind: 'wrong_type' as const, value })),
  hostileString.map((value) => ({ kind: 'hostile_string' as const, value })),
  hostileNumber.map((value) => ({ kind: 'hostile_number' as const, value })),
  fc.record({ key: fc.constantFrom(...MASS_ASSIGNMENT_KEYS), value: fc.oneof(fc.uuid(), fc.constantFrom('approved', 'refunded', 0, -1, 1e9, true, null)) })
    .map((m) => ({ kind: 'mass_assignment' as const, ...m })),
  fc.record({ key: fc.string({ minLength: 1, maxLength: 20 }), value: fc.jsonValue({ maxDepth: 2 }) }).map((m) => ({ kind: 'unknown_key' as const, ...m })),
  fc.integer({ min: 2, max: 40 }).map((depth) => ({ kind: 'deep_value' as const, depth })),
  fc.oneof(fc.constant(null), fc.string(), fc.integer(), fc.array(fc.jsonValue({ maxDepth: 1 }), { maxLength: 3 }))
    .map((value) => ({ kind: 'not_an_object' as const, value })),
);

/** JSON type of a schema'd property, to pick a value of another type. */
function sameJsonType(schema: JsonSchema, value: unknown): boolean {
  switch (schema.type) {
    case 'string': return typeof value === 'string';
    case 'integer': return typeof value === 'number' && Number.isInteger(value);
    case 'number': return typeof value === 'number';
    case 'boolean': return typeof value === 'boolean';
    case 'array': return Array.isArray(value);
    case 'object': return !!value && typeof value === 'object' && !Array.isArray(value);
    default: return true;
  }
}

/** Applies a mutation; says whether the result must be rejected by the schema. */
function mutate(tool: Tool, args: Record<string, unknown>, m: Mutation, pick: number): { args: unknown; mustReject: boolean } {
  const props = Object.entries(tool.inputSchema.properties ?? {});
  const [name, schema] = props.length ? props[pick % props.length]! : ['x', {} as JsonSchema];
  const required = tool.inputSchema.required ?? [];
  switch (m.kind) {
    case 'none': return { args, mustReject: false };
    case 'drop_required': {
      if (!required.length) return { args, mustReject: false };
      const { [required[pick % required.length]!]: _gone, ...rest } = args;
      return { args: rest, mustReject: true };
    }
    case 'wrong_type':
      if (!props.length) return { args: { ...args, [name]: m.value }, mustReject: true };
      return { args: { ...args, [name]: m.value }, mustReject: !sameJsonType(schema, m.value) };
    case 'hostile_string': return { args: { ...args, [name]: m.value }, mustReject: schema.type !== undefined && schema.type !== 'string' };
    case 'hostile_number': return { args: { ...args, [name]: m.value }, mustReject: schema.type !== undefined && schema.type !== 'number' && schema.type !== 'integer' };
    // A3: every tool schema is strict, so an extra argument is refused, never silently used.
    case 'mass_assignment': return { args: { ...args, [m.key]: m.value }, mustReject: !(m.key in (tool.inputSchema.properties ?? {})) };
    case 'unknown_key': return { args: { ...args, [m.key]: m.value }, mustReject: !(m.key in (tool.inputSchema.properties ?? {})) };
    case 'deep_value': return { args: { ...args, [name]: nested(m.depth) }, mustReject: true };
    case 'not_an_object': return { args: m.value, mustReject: m.value !== null };
  }
}

/** Every string-typed field of a schema, with arguments that reach it (array fields get one item). */
function stringFields(schema: JsonSchema, valid: Record<string, unknown>): { path: (string | number)[]; value: Record<string, unknown> }[] {
  const out: { path: (string | number)[]; value: Record<string, unknown> }[] = [];
  const walk = (s: JsonSchema, path: (string | number)[], sample: unknown) => {
    if (s.type === 'string' || (s.enum && s.enum.every((e) => typeof e === 'string'))) out.push({ path, value: valid });
    else if (s.type === 'object') for (const [k, v] of Object.entries(s.properties ?? {})) walk(v, [...path, k], (sample as Record<string, unknown> | undefined)?.[k]);
    else if (s.type === 'array' && s.items) walk(s.items, [...path, 0], Array.isArray(sample) ? sample[0] : undefined);
  };
  walk(schema, [], valid);
  return out;
}

/** `value` with the field at `path` set to `leaf`, creating the objects and one-item arrays on the way. */
function setAt(value: Record<string, unknown>, path: (string | number)[], leaf: unknown): Record<string, unknown> {
  let node: Record<string | number, unknown> = value;
  path.forEach((key, i) => {
    if (i === path.length - 1) { node[key] = leaf; return; }
    const nextIsIndex = typeof path[i + 1] === 'number';
    const current = node[key];
    if (nextIsIndex ? !Array.isArray(current) : !current || typeof current !== 'object' || Array.isArray(current)) node[key] = nextIsIndex ? [{}] : {};
    node = node[key] as Record<string | number, unknown>;
  });
  return value;
}

function fuzzEndpoint(get: () => Promise<{ fp: Fingerprint; ep: Endpoint }>) {
  return async (t: import('node:test').TestContext) => {
    const { fp, ep } = await get();
    const tools = ep.tools;

    await t.test('arbitrary JSON as arguments of every tool: no 5xx, no leak, database unchanged on rejection (M7)', async () => {
      const name = fc.oneof({ weight: 8, arbitrary: fc.constantFrom(...tools.map((x) => x.name)) }, { weight: 1, arbitrary: hostileString });
      const args = fc.oneof(fc.jsonValue({ maxDepth: 4 }), fc.dictionary(hostileString, fc.jsonValue({ maxDepth: 2 }), { maxKeys: 6 }));
      await checkProperty(`${ep.kind}: arbitrary arguments`, fc.asyncProperty(name, args, async (n, a) => {
        await callChecked(ep, fp, toolCall(n, a), `${ep.kind} ${n.slice(0, 40)}`);
      }), 150);
    });

    await t.test('valid arguments and their mutations (wrong types, hostile strings/numbers, extra keys, nesting): invariants hold; invalid ones are refused (A3)', async () => {
      const perTool = fc.constantFrom(...tools).chain((tool) =>
        fc.tuple(fc.constant(tool), validArbitrary(tool.inputSchema, ep.known) as fc.Arbitrary<Record<string, unknown>>, mutation, fc.nat()));
      await checkProperty(`${ep.kind}: mutated arguments`, fc.asyncProperty(perTool, async ([tool, valid, m, pick]) => {
        const { args, mustReject } = mutate(tool, valid, m, pick);
        const where = `${ep.kind} ${tool.name} ${m.kind}`;
        const answer = await callChecked(ep, fp, toolCall(tool.name, args), where);
        if (mustReject) assert.ok(answer.rejected, `${where}: accepted invalid arguments ${JSON.stringify(args).slice(0, 300)} → ${answer.text.slice(0, 300)}`);
        if (m.kind === 'mass_assignment' && mustReject) assert.match(answer.text, new RegExp(`unknown argument|Unrecognized key|${m.key}`, 'i'), `${where}: refusal names the argument`);
      }), 220);
    });

    await t.test('E1 every string argument of every tool (nested ones too): a NUL or an unpaired surrogate is a tool error naming the field, never a 500, database unchanged', async () => {
      let checked = 0;
      for (const tool of tools) {
        const valid = fc.sample(validArbitrary(tool.inputSchema, ep.known), { seed: 7, numRuns: 1 })[0] as Record<string, unknown>;
        for (const { path, value } of stringFields(tool.inputSchema, valid)) {
          for (const [label, raw] of [['NUL', '"a\\u0000b"'], ['lone high surrogate', '"a\\ud800b"'], ['lone low surrogate', '"\\udc00"']] as const) {
            const args = setAt(structuredClone(value), path, '__E1__');
            // Raw JSON: the escapes reach the server as written (JSON.stringify would keep them too, but this is the wire form).
            const body = JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name: tool.name, arguments: args } }).replace('"__E1__"', raw);
            const where = `${ep.kind} ${tool.name} ${path.join('.')} ${label}`;
            const answer = await callChecked(ep, fp, body, where);
            assert.ok(answer.rejected, `${where}: accepted → ${answer.text.slice(0, 300)}`);
            const message = JSON.parse(answer.text) as { error?: { code: number; message: string }; result?: { isError?: boolean; content?: { text?: string }[] } };
            const text = message.error ? (assert.equal(message.error.code, -32602, where), message.error.message) : message.result!.content![0]!.text!;
            assert.ok(message.error || message.result?.isError, where);
            assert.ok(text.includes(path.join('.')), `${where}: the refusal names the field: ${text}`);
            checked++;
          }
        }
      }
      assert.ok(checked >= tools.length, `${ep.kind}: ${checked} string fields × defects checked`);
    });

    await t.test('every tool × every mass-assignment key (A3): refused by the schema, database unchanged', async () => {
      for (const tool of tools) {
        const valid = fc.sample(validArbitrary(tool.inputSchema, ep.known), { seed: 1, numRuns: 1 })[0] as Record<string, unknown>;
        for (const key of ['tenant_id', 'customer_id', 'status', 'amount'] as const) {
          if (key in (tool.inputSchema.properties ?? {})) continue; // a real filter (list_orders' status) is not mass assignment
          const where = `${ep.kind} ${tool.name} +${key}`;
          const answer = await callChecked(ep, fp, toolCall(tool.name, { ...valid, [key]: key === 'amount' ? 1 : '00000000-0000-0000-0000-000000000000' }), where);
          assert.ok(answer.rejected, `${where}: extra argument accepted: ${answer.text.slice(0, 300)}`);
        }
      }
    });

    await t.test('M7 at the body: huge strings up to the limit, deep nesting, batches, broken JSON, oversized bodies', async () => {
      const stringTools = tools.filter((x) => Object.values(x.inputSchema.properties ?? {}).some((p) => p.type === 'string'));
      const shape = fc.oneof(
        fc.record({ kind: fc.constant('huge_string' as const), size: fc.integer({ min: 1_000, max: BODY_LIMIT - 400 }), ch: fc.constantFrom('a', 'é', '\u0000', '"', '\\', '😀', '\ud800') }),
        fc.record({ kind: fc.constant('deep' as const), depth: fc.integer({ min: DEPTH_LIMIT - 3, max: 2_000 }) }),
        fc.record({ kind: fc.constant('batch' as const), n: fc.integer({ min: 1, max: 50 }) }),
        fc.record({ kind: fc.constant('broken' as const), text: fc.oneof(fc.string({ unit: 'binary', maxLength: 200 }), fc.constantFrom('{', '{"jsonrpc":"2.0"', '[]', 'null', '1', '""', '{"jsonrpc":"2.0","id":{},"method":"tools/call"}', '\u0000')) }),
        fc.record({ kind: fc.constant('oversized' as const), size: fc.integer({ min: BODY_LIMIT + 1, max: BODY_LIMIT * 2 }) }),
        fc.record({ kind: fc.constant('many_keys' as const), n: fc.integer({ min: 100, max: 3_000 }) }),
      );
      await checkProperty(`${ep.kind}: body-level abuse`, fc.asyncProperty(fc.constantFrom(...stringTools), shape, async (tool, s) => {
        const stringProp = Object.entries(tool.inputSchema.properties ?? {}).find(([, p]) => p.type === 'string')![0];
        let body: string;
        switch (s.kind) {
          case 'huge_string': {
            const n = Math.floor(s.size / Buffer.byteLength(JSON.stringify(s.ch)));
            body = toolCall(tool.name, { [stringProp]: s.ch.repeat(Math.max(1, n)) });
            if (Buffer.byteLength(body) > BODY_LIMIT) body = toolCall(tool.name, { [stringProp]: 'a'.repeat(s.size) }).slice(0, BODY_LIMIT);
            break;
          }
          case 'deep': body = toolCall(tool.name, { [stringProp]: nested(s.depth) }); break;
          case 'batch': body = JSON.stringify(Array.from({ length: s.n }, (_, i) => JSON.parse(toolCall(tool.name, {})) as object).map((m, i) => ({ ...m, id: i + 1 }))); break;
          case 'broken': body = s.text; break;
          case 'oversized': body = toolCall(tool.name, { [stringProp]: 'a'.repeat(s.size) }); break;
          case 'many_keys': body = toolCall(tool.name, Object.fromEntries(Array.from({ length: s.n }, (_, i) => [`k${i}`, i]))); break;
        }
        const where = `${ep.kind} ${tool.name} ${s.kind}`;
        const answer = await callChecked(ep, fp, body, where);
        if (s.kind !== 'huge_string') assert.ok(answer.rejected, `${where}: accepted`);
        if (s.kind === 'oversized' && Buffer.byteLength(body) > BODY_LIMIT) assert.equal(answer.status, 413, where);
        if (s.kind === 'batch') assert.equal(answer.status, 400, `${where}: batches are refused`);
        if (s.kind === 'deep' && s.depth + 4 > DEPTH_LIMIT) assert.ok(answer.status === 400 || answer.rejected, where);
      }), 60);
    });
  };
}

let context: Promise<Awaited<ReturnType<typeof setUp>>> | undefined;
const shared = () => (context ??= setUp());

test('customer endpoint: fuzzing every tool\'s arguments (M7, A3)', fuzzEndpoint(async () => {
  const { fp, customer } = await shared();
  return { fp, ep: customer };
}));

test('internal endpoint: fuzzing every tool\'s arguments (M7, A3)', fuzzEndpoint(async () => {
  const { fp, internal } = await shared();
  return { fp, ep: internal };
}));

// Regression tests for the product bugs the fuzzers found; `todo` until fixed (then drop the option
// and the matching exclusion in support.ts).
test('E1 a NUL character or unpaired surrogate in tool arguments or names is a client error, audited, never a 500', async () => {
  const { service, customer } = await shared();
  const cases = [
    { name: 'get_order', arguments: { order_number: 'ORD-1\u0000' } },
    { name: 'view_cart', arguments: { note: '\u0000' } },
    { name: 'search_products', arguments: { query: 'tent\ud800' } },
    { name: 'no\u0000such_tool', arguments: {} },
  ];
  for (const c of cases) {
    const { status, text } = await rawPost(customer.url, await customer.token(), JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/call', params: c }));
    assert.ok(status < 500, `${JSON.stringify(c)} → HTTP ${status} ${text}`);
  }
  const [row] = await service.database.owner<{ n: number }[]>`select count(*)::int as n from audit_events where tool like 'no%such_tool'`;
  assert.ok(row!.n >= 1, 'the refused call is audited');
});

test('known bug: tools/call with non-object arguments is -32602 Invalid params, not -32603 with the validator\'s issue list', {
}, async () => {
  const { customer } = await shared();
  for (const args of [[], 'x', 1, true, null]) {
    const { status, text } = await rawPost(customer.url, await customer.token(), JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name: 'get_order', arguments: args } }));
    assert.ok(status < 500, text);
    const error = (JSON.parse(text) as { error?: { code: number; message: string } }).error;
    assert.equal(error?.code, -32602, text);
    assert.doesNotMatch(error!.message, /"code":\s*"invalid_type"/, 'no validator internals in the message');
  }
});

test('known bug: search_orders with a well-formed but impossible date is refused, not a 500', {
}, async () => {
  const { internal } = await shared();
  for (const placed_after of ['2026-13-45', '7569-38-38', '0000-00-00']) {
    const { status, text } = await rawPost(internal.url, await internal.token(), toolCall('search_orders', { placed_after }));
    assert.ok(status < 500, `${placed_after} → HTTP ${status} ${text}`);
  }
});
