// The internal write tools through MCP (issue 5): real PostgreSQL, real HTTP, the SDK client and
// staff tokens. Phase 1 (everything waits, nothing changes, a second staff member's approval runs it
// once), phase 2 guardrail boundaries, A5 (parallel identical calls: one effect), F4 (retry with the
// same idempotency key: the original result), M6 (403 insufficient_scope naming the write scope),
// P1 (the injected return reason cannot cause an effect without approval), P2 (one static tool list),
// and in-band confirmation of one's own action (A6 limits).
import assert from 'node:assert/strict';
import { before, describe, test } from 'node:test';
import type { Client } from '@modelcontextprotocol/client';
import { approveAction, type Decision } from '../../src/actions/engine.js';
import { WRITE_TOOLS, type WriteTool } from '../../src/actions/guardrails.js';
import { STAFF_ROLE_SCOPES, type StaffRole } from '../../src/authz/scopes.js';
import { protectedResourceMetadataUrl } from '../../src/authz/resources.js';
import { INJECTION_CANARY, TENANT_CANARIES } from '../../src/seed/fixtures.js';
import { validArguments } from '../actions/fixtures.js';
import { asStaff, auditEvents, refundableOrder, setSettings, staffOf, type StaffMember } from '../actions/helpers.js';
import { first } from '../support/database.js';
import { startTestService, type TestService } from '../support/service.js';
import { issueTestToken } from '../support/tokens.js';
import { auditRows, connect, internalUrl, post, staffToken, text, toolCall } from './helpers.js';

let s: TestService;
let acme: { admin: StaffMember; supply: StaffMember; returns: StaffMember; warehouse: StaffMember };
let globex: { admin: StaffMember; supply: StaffMember };

type Structured = Record<string, any>;
interface Called { isError: boolean; text: string; data: Structured }

async function call(c: Client, name: string, args: Record<string, unknown>): Promise<Called> {
  const r = await c.callTool({ name, arguments: args });
  return { isError: Boolean(r.isError), text: text(r), data: (r.structuredContent ?? {}) as Structured };
}

/** A token carrying every scope of the staff member's role (what the authorization server would grant). */
function roleScope(m: StaffMember): string {
  return STAFF_ROLE_SCOPES[m.role as StaffRole].join(' ');
}
function slugOf(m: StaffMember): string {
  return m.email.split('@')[1]!.split('.')[0]!;
}
async function client(m: StaffMember, scope = roleScope(m), clientId?: string): Promise<{ client: Client; tokenId: string; token: string }> {
  const slug = slugOf(m);
  const t = clientId
    ? await issueTestToken(s.database.app, { tenantSlug: slug, resource: internalUrl(s, slug), subject: { kind: 'staff', email: m.email }, scope, clientId })
    : await staffToken(s, slug, m.email, scope);
  return { client: await connect(internalUrl(s, slug), t.token), tokenId: t.id, token: t.token };
}

function decision(m: StaffMember, actionId: string, reason: string | null = null): Decision {
  return { tenantId: m.tenantId, actionId, staffId: m.staffId, reason, clientId: 'console' };
}
const approve = (m: StaffMember, id: string, reason?: string) => asStaff(s.database.app, m, (tx) => approveAction(tx, decision(m, id, reason)));

/** A digest of every table a write tool can change: equal digests, no effect. */
async function fingerprint(tenantId: string): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const table of ['purchase_orders', 'shipments', 'returns', 'damage_claims', 'refunds', 'payments', 'product_prices']) {
    const [row] = await s.database.owner<{ digest: string | null; n: string }[]>`
      select md5(coalesce(string_agg(t::text, '|' order by t::text), '')) as digest, count(*) as n
      from ${s.database.owner(table)} t where tenant_id = ${tenantId}`;
    out[table] = `${row!.n}:${row!.digest}`;
  }
  return out;
}

async function count(sqlText: string, ...params: string[]): Promise<number> {
  const rows = await s.database.owner.unsafe<{ n: string }[]>(sqlText, params);
  return Number(rows[0]!.n);
}

before(async () => {
  s = await startTestService();
  const db = s.database;
  acme = {
    admin: await staffOf(db, 'acme', 'admin@acme.example'),
    supply: await staffOf(db, 'acme', 'supply@acme.example'),
    returns: await staffOf(db, 'acme', 'returns@acme.example'),
    warehouse: await staffOf(db, 'acme', 'warehouse@acme.example'),
  };
  globex = { admin: await staffOf(db, 'globex', 'admin@globex.example'), supply: await staffOf(db, 'globex', 'supply@globex.example') };
});

describe('phase 1: every write waits', () => {
  test('every write tool returns pending and changes nothing; a second staff member approves; each runs once; get_action_status shows it', async () => {
    const tenantId = globex.admin.tenantId;
    await setSettings(s.database, tenantId, { phase: 1, guardrails: {}, selfApprovalLimitCents: 0 });
    const args = await validArguments(s.database, tenantId);
    const { client: admin, tokenId } = await client(globex.admin);
    const before = await fingerprint(tenantId);

    const pending = new Map<WriteTool, string>();
    for (const tool of WRITE_TOOLS) {
      const r = await call(admin, tool, { ...args[tool], justification: `phase 1 check of ${tool}` });
      assert.equal(r.isError, false, `${tool}: ${r.text}`);
      assert.equal(r.data.status, 'pending', tool);
      assert.match(r.data.action_id, /^[0-9a-f-]{36}$/);
      assert.ok(Date.parse(r.data.expires_at) > Date.now(), 'expires in the future');
      assert.match(r.text, new RegExp(`waiting for approval \\(action ${r.data.action_id}\\)`), 'a clear text for text-only clients');
      assert.equal(r.data.result, undefined);
      pending.set(tool, r.data.action_id);
    }
    assert.deepEqual(await fingerprint(tenantId), before, 'phase 1: no effect of any kind');

    // The status tool (through MCP) reports each as pending, with who and which client asked.
    for (const [tool, id] of pending) {
      const st = await call(admin, 'get_action_status', { action_id: id });
      assert.equal(st.data.status, 'pending', tool);
      assert.equal(st.data.tool, tool);
      assert.equal(st.data.requested_by.email, 'admin@globex.example');
      assert.equal(st.data.client_id, 'test-client');
      assert.match(st.data.justification.untrusted_customer_text, new RegExp(`phase 1 check of ${tool}`));
    }
    const mine = await call(admin, 'list_my_actions', { status: 'pending', limit: 50 });
    for (const id of pending.values()) assert.ok(mine.data.actions.some((a: Structured) => a.action_id === id));

    // A second staff member with approver rights approves each (the console does the same).
    for (const [tool, id] of pending) {
      const done = await approve(globex.supply, id, `approved ${tool}`);
      assert.equal(done.status, 'executed', `${tool}: ${JSON.stringify(done)}`);
    }
    const after = await fingerprint(tenantId);
    assert.notDeepEqual(after, before);
    for (const [tool, id] of pending) {
      const st = await call(admin, 'get_action_status', { action_id: id });
      assert.equal(st.data.status, 'executed', tool);
      assert.equal(st.data.decided_by.name, 'Hugo Supply');
      assert.equal(st.data.decision_reason, `approved ${tool}`);
      assert.ok(st.data.result && Object.keys(st.data.result).length > 0, `${tool} has a result`);
      // Approving again never runs it again.
      assert.equal((await approve(globex.supply, id)).status, 'refused');
    }
    assert.deepEqual(await fingerprint(tenantId), after, 'a second approval changes nothing');
    // Exactly one effect, tied to its action.
    assert.equal(await count('select count(*) as n from purchase_orders where action_id = $1', pending.get('create_reorder')!), 1);
    assert.equal(await count('select count(*) as n from refunds where action_id = $1', pending.get('issue_refund')!), 1);
    const ret = first(await s.database.owner<{ status: string }[]>`
      select status::text as status from returns where tenant_id = ${tenantId} and number = ${args.decide_return.return_number as string}`);
    assert.equal(ret.status, 'approved');
    // The audit tells the whole story: the MCP call, the request, the approval, the execution, the refused second approval.
    assert.deepEqual(await auditEvents(s.database, tenantId, pending.get('create_reorder')!),
      ['action.requested', 'action.approved', 'action.executed', 'action.decision_refused']);
    const calls = await auditRows(s.database.owner, tokenId);
    for (const tool of WRITE_TOOLS) assert.ok(calls.some((r) => r.event === 'tool.call' && r.tool === tool && r.outcome === 'ok'), tool);
  });
});

describe('phase 2: guardrails', () => {
  test('create_reorder via MCP just under, at and just over max_quantity 100 and max_value_cents 500000', async () => {
    const tenantId = acme.supply.tenantId;
    await setSettings(s.database, tenantId, {
      phase: 2, guardrails: { create_reorder: { max_quantity: 100, max_value_cents: 500_000 }, issue_refund: { max_amount_cents: 5_000 } },
    });
    const { client: supply } = await client(acme.supply);
    const products = await s.database.owner<{ sku: string; code: string }[]>`
      select p.sku, w.code from stock_levels sl join products p on p.tenant_id = sl.tenant_id and p.id = sl.product_id
      join warehouses w on w.tenant_id = sl.tenant_id and w.id = sl.warehouse_id
      where sl.tenant_id = ${tenantId} and p.active and not exists (select 1 from purchase_orders po where po.tenant_id = sl.tenant_id
        and po.product_id = sl.product_id)
      order by p.sku, w.code limit 5`;
    // A cost on file below every unit cost passed here, so the passed cost is the larger and decides (A8).
    await s.database.owner`update products set unit_cost_cents = 1 where tenant_id = ${tenantId} and sku in ${s.database.owner(products.map((p) => p.sku))}`;
    const cases: [number, number, 'executed' | 'pending', string][] = [
      [99, 5_000, 'executed', 'quantity just under'],
      [100, 5_000, 'executed', 'quantity and value at the limits (100 × 5,000 = 500,000)'],
      [101, 1, 'pending', 'quantity just over'],
      [50, 9_999, 'executed', 'value just under (499,950)'],
      [100, 5_001, 'pending', 'value just over (500,100)'],
    ];
    for (const [i, [quantity, unit, expected, label]] of cases.entries()) {
      const p = products[i]!;
      const r = await call(supply, 'create_reorder', { sku: p.sku, warehouse_code: p.code, supplier: 'Nordic Gear AB', quantity, unit_cost_cents: unit });
      assert.equal(r.isError, false, `${label}: ${r.text}`);
      assert.equal(r.data.status, expected, label);
      const pos = await count('select count(*) as n from purchase_orders where action_id = $1', r.data.action_id);
      assert.equal(pos, expected === 'executed' ? 1 : 0, label);
      if (expected === 'executed') {
        assert.equal(r.data.result.quantity, quantity);
        assert.equal(r.data.result.total.amount_cents, quantity * unit);
        assert.match(r.data.result.purchase_order_number, /^PO-/);
        assert.match(r.data.message, /^done \(action /);
      } else {
        assert.match(r.data.reason, /above the limit/);
      }
    }
  });

  test('issue_refund via MCP at 4999, 5000 and 5001 cents (max_amount_cents 5000)', async () => {
    const tenantId = acme.returns.tenantId;
    await setSettings(s.database, tenantId, {
      phase: 2, guardrails: { create_reorder: { max_quantity: 100, max_value_cents: 500_000 }, issue_refund: { max_amount_cents: 5_000 } },
    });
    const { client: returns } = await client(acme.returns);
    const order = await refundableOrder(s.database, tenantId, 20_000);
    for (const [amount, expected] of [[4_999, 'executed'], [5_000, 'executed'], [5_001, 'pending']] as const) {
      const r = await call(returns, 'issue_refund', { order_number: order.number, amount_cents: amount, reason: `boundary ${amount}` });
      assert.equal(r.data.status, expected, `refund of ${amount}: ${r.text}`);
      if (expected === 'executed') assert.equal(r.data.result.amount.amount_cents, amount);
    }
    const payment = first(await s.database.owner<{ refunded_cents: string }[]>`
      select p.refunded_cents from payments p join orders o on o.tenant_id = p.tenant_id and o.id = p.order_id
      where o.tenant_id = ${tenantId} and o.number = ${order.number}`);
    assert.equal(Number(payment.refunded_cents), 9_999, 'only the two under/at the limit ran');
    // A refusal is a tool error in the engine's words, and leaves no action behind.
    const tooMuch = await call(returns, 'issue_refund', { order_number: order.number, amount_cents: 100_000_000, reason: 'too much' });
    assert.equal(tooMuch.isError, true);
    assert.match(tooMuch.text, /at most .* can still be refunded on order/);
    assert.equal(await count(`select count(*) as n from pending_actions where tenant_id = $1 and arguments->>'reason' = 'too much'`, tenantId), 0);
    const bad = await call(returns, 'issue_refund', { order_number: order.number, amount_cents: 100, reason: 'x', tenant_id: 'other' });
    assert.equal(bad.isError, true, 'strict input: unknown arguments are refused');
  });
});

describe('A5 F4 exactly once through MCP', () => {
  test('A5 five parallel identical MCP calls have one effect and name one action', async () => {
    const tenantId = acme.returns.tenantId;
    await setSettings(s.database, tenantId, { phase: 2, guardrails: { issue_refund: { max_amount_cents: 5_000 } } });
    const order = await refundableOrder(s.database, tenantId, 30_000);
    const args = { order_number: order.number, amount_cents: 2_500, reason: 'A5 parallel via MCP' };
    // Five separate clients, as five retrying assistants would be.
    const clients = await Promise.all(Array.from({ length: 5 }, () => client(acme.returns)));
    const results = await Promise.all(clients.map((c) => call(c.client, 'issue_refund', args)));
    assert.ok(results.every((r) => !r.isError && r.data.status === 'executed'), JSON.stringify(results.map((r) => r.text)));
    assert.equal(new Set(results.map((r) => r.data.action_id)).size, 1);
    assert.equal(results.filter((r) => r.data.duplicate_of_earlier_request).length, 4);
    assert.equal(await count(`select count(*) as n from refunds r join orders o on o.tenant_id = r.tenant_id and o.id = r.order_id
                              where o.tenant_id = $1 and o.number = $2`, tenantId, order.number), 1);

    // Waiting requests collapse too: one pending action.
    const price = (await validArguments(s.database, tenantId)).change_price;
    const changed = { ...price, new_price_cents: (price.new_price_cents as number) + 13 };
    const { client: admin } = await client(acme.admin);
    const waiting = await Promise.all([1, 2, 3].map(() => call(admin, 'change_price', changed)));
    assert.ok(waiting.every((r) => r.data.status === 'pending'));
    assert.equal(new Set(waiting.map((r) => r.data.action_id)).size, 1);
  });

  test('F4 the reply is lost after commit; the retry with the same idempotency_key returns the original result, no duplicate', async () => {
    const tenantId = acme.returns.tenantId;
    await setSettings(s.database, tenantId, { phase: 2, guardrails: { issue_refund: { max_amount_cents: 5_000 } } });
    const order = await refundableOrder(s.database, tenantId, 50_000);
    const args = { order_number: order.number, amount_cents: 1_500, reason: 'F4 retry via MCP' };
    const key = 'f4-mcp-retry-key-0001';
    const first1 = await client(acme.returns);
    const original = await call(first1.client, 'issue_refund', { ...args, idempotency_key: key }); // committed; the client "drops"
    assert.equal(original.data.status, 'executed');
    // Past the duplicate window only the key can recognise the retry.
    await s.database.owner`update pending_actions set executed_at = executed_at - interval '1 day', created_at = created_at - interval '1 day'
                           where id = ${original.data.action_id}`;
    const second = await client(acme.returns); // a reconnecting client, a new token
    const retried = await call(second.client, 'issue_refund', { ...args, idempotency_key: key });
    assert.deepEqual(retried.data, original.data);
    const parallel = await Promise.all([1, 2, 3].map(() => call(second.client, 'issue_refund', { ...args, idempotency_key: key })));
    for (const p of parallel) assert.deepEqual(p.data, original.data);
    assert.equal(await count('select count(*) as n from refunds where action_id = $1', original.data.action_id), 1);
    // The same key with other arguments is an error (A5).
    const other = await call(second.client, 'issue_refund', { ...args, amount_cents: 1_501, idempotency_key: key });
    assert.equal(other.isError, true);
    assert.match(other.text, /already used for a different request/);
  });
});

describe('M6 scopes of the write tools', () => {
  test('M6 a token lacking payments:refund gets 403 insufficient_scope naming it; the refusal is audited', async () => {
    const t = await staffToken(s, 'acme', 'returns@acme.example', 'ops:read payments:read');
    const r = await post(internalUrl(s, 'acme'), toolCall('issue_refund', { order_number: 'X-1', amount_cents: 100, reason: 'no scope' }),
      { Authorization: `Bearer ${t.token}` });
    assert.equal(r.status, 403);
    const h = r.headers.get('www-authenticate')!;
    assert.match(h, /error="insufficient_scope"/);
    assert.match(h, /scope="payments:refund"/);
    const rows = await auditRows(s.database.owner, t.id);
    assert.ok(rows.some((x) => x.tool === 'issue_refund' && x.outcome === 'denied'));
    assert.equal(await count(`select count(*) as n from pending_actions where arguments->>'reason' = 'no scope'`), 0);
    // Every write tool names its own scope.
    for (const [tool, scope] of [['create_reorder', 'stock:reorder'], ['reroute_delivery', 'deliveries:manage'], ['decide_return', 'returns:decide'],
      ['open_damage_claim', 'claims:manage'], ['resolve_damage_claim', 'claims:manage'], ['change_price', 'prices:write'], ['confirm_my_action', 'approvals']]) {
      const x = await post(internalUrl(s, 'acme'), toolCall(tool!, {}), { Authorization: `Bearer ${t.token}` });
      assert.equal(x.status, 403, tool);
      assert.match(x.headers.get('www-authenticate')!, new RegExp(`scope="${scope}"`), tool);
    }
  });

  test('a scope the role does not allow is refused by the engine too (defence in depth)', async () => {
    // Minted directly with a scope a warehouse lead could never be granted.
    const { client: c } = await client(acme.warehouse, 'ops:read payments:refund');
    const order = await refundableOrder(s.database, acme.warehouse.tenantId, 10_000);
    const r = await call(c, 'issue_refund', { order_number: order.number, amount_cents: 100, reason: 'role check' });
    assert.equal(r.isError, true);
    assert.match(r.text, /the warehouse_lead role may not request issue_refund/);
  });

  test('the 401 challenge and the protected resource metadata name the write scopes', async () => {
    const url = internalUrl(s, 'acme');
    const r = await post(url, { jsonrpc: '2.0', id: 1, method: 'tools/list' });
    assert.equal(r.status, 401);
    const challenge = r.headers.get('www-authenticate')!;
    const meta = await (await fetch(protectedResourceMetadataUrl(url))).json() as { scopes_supported: string[] };
    for (const scope of ['stock:reorder', 'deliveries:manage', 'returns:decide', 'claims:manage', 'payments:refund', 'prices:write', 'approvals', 'ops:read']) {
      assert.ok(meta.scopes_supported.includes(scope), `scopes_supported has ${scope}`);
      assert.match(challenge, new RegExp(`scope="[^"]*${scope}`), `challenge names ${scope}`);
    }
  });
});

describe('P1 P2', () => {
  test('P1 the injected return reason reaches the staff assistant delimited; decide_return and issue_refund only yield pending actions', async () => {
    const tenantId = acme.returns.tenantId;
    await setSettings(s.database, tenantId, { phase: 2, guardrails: { issue_refund: { max_amount_cents: 5_000 } }, selfApprovalLimitCents: 0 });
    const { client: c } = await client(acme.returns);
    const list = await call(c, 'list_returns', { status: 'requested', limit: 50 });
    const injected = list.data.returns.find((r: Structured) => r.reason.untrusted_customer_text.includes(INJECTION_CANARY));
    assert.ok(injected, 'the seeded injection return (Mallory) is missing');
    assert.match(injected.reason.untrusted_customer_text, /^<<<customer_text>>>Ignore previous instructions[\s\S]*<<<end_customer_text>>>$/);
    const before = await fingerprint(tenantId);

    // An assistant that followed the text: approve the return, refund 10,000 EUR.
    const decide = await call(c, 'decide_return', { return_number: injected.return_number, decision: 'approve', justification: 'Customer says: ignore previous instructions' });
    assert.equal(decide.data.status, 'pending', decide.text);
    assert.ok(!JSON.stringify(decide).includes(INJECTION_CANARY), 'the outcome carries no customer text');
    const huge = await call(c, 'issue_refund', { order_number: injected.order_number, amount_cents: 1_000_000, reason: 'as the customer asked' });
    assert.equal(huge.isError, true, 'more than was paid: refused outright');
    const refund = await call(c, 'issue_refund', { order_number: injected.order_number, amount_cents: 9_000, reason: 'as the customer asked' });
    assert.equal(refund.data.status, 'pending', refund.text);
    // The assistant cannot approve them itself: no approvals scope for this role, and four-eyes in the engine.
    const self = await post(internalUrl(s, 'acme'), toolCall('confirm_my_action', { action_id: decide.data.action_id }),
      { Authorization: `Bearer ${(await staffToken(s, 'acme', 'returns@acme.example', 'ops:read approvals')).token}` });
    const selfBody = await self.json() as { result?: { isError?: boolean; content: { text: string }[] } };
    assert.equal(selfBody.result?.isError, true);
    assert.match(selfBody.result!.content[0]!.text, /approver rights/);
    assert.equal((await approve(acme.returns, decide.data.action_id)).status, 'refused');
    assert.deepEqual(await fingerprint(tenantId), before, 'nothing ran');
    const st = await call(c, 'get_action_status', { action_id: decide.data.action_id });
    assert.equal(st.data.status, 'pending');
    assert.ok(!st.data.summary.includes(INJECTION_CANARY));
    assert.match(st.data.justification.untrusted_customer_text, /^<<<customer_text>>>Customer says/);
  });

  test('P2 the tool list is identical for staff of different roles, scopes and tenants, and carries no customer text', async () => {
    const narrow = (await client(acme.returns, 'ops:read')).client;
    const broad = (await client(globex.supply)).client;
    const a = (await narrow.listTools()).tools;
    const b = (await broad.listTools()).tools;
    assert.equal(JSON.stringify(a), JSON.stringify(b));
    assert.deepEqual(a.map((t) => t.name).sort(), [
      'change_price', 'confirm_my_action', 'create_reorder', 'decide_return', 'get_action_status', 'get_order_details', 'issue_refund',
      'late_shipments', 'list_my_actions', 'list_returns', 'lookup_claim', 'lookup_payment', 'lookup_return', 'low_stock', 'open_damage_claim',
      'reroute_delivery', 'resolve_damage_claim', 'search_orders',
    ]);
    const json = JSON.stringify(a);
    for (const canary of [INJECTION_CANARY, ...Object.values(TENANT_CANARIES)]) assert.ok(!json.includes(canary), canary);
    for (const tool of WRITE_TOOLS) {
      const t = a.find((x) => x.name === tool)!;
      assert.equal(t.annotations?.readOnlyHint, false, tool);
      assert.ok((t.inputSchema.properties as Record<string, unknown>).idempotency_key, `${tool} takes an idempotency_key`);
      assert.ok((t.inputSchema.properties as Record<string, unknown>).justification, `${tool} takes a justification`);
    }
  });
});

describe('in-band confirmation (confirm_my_action)', () => {
  test('A6 the requester confirms only within the self-approval limit, through the same assistant; others cannot', async () => {
    const tenantId = globex.supply.tenantId;
    await setSettings(s.database, tenantId, { phase: 1, guardrails: {}, selfApprovalLimitCents: 0 });
    const args = (await validArguments(s.database, tenantId)).create_reorder;
    // The self-approval limit compares the value measured at the cost on file (A8): 1,000 on file here.
    await s.database.owner`update products set unit_cost_cents = 1000 where tenant_id = ${tenantId} and sku = ${args.sku as string}`;
    const { client: supply } = await client(globex.supply);
    const asked = await call(supply, 'create_reorder', { ...args, quantity: 11, unit_cost_cents: 1_000 }); // worth 11,000
    assert.equal(asked.data.status, 'pending');
    const id = asked.data.action_id as string;

    const never = await call(supply, 'confirm_my_action', { action_id: id });
    assert.equal(never.isError, true);
    assert.match(never.text, /does not allow you to approve your own action/);
    await setSettings(s.database, tenantId, { selfApprovalLimitCents: 10_999 });
    assert.match((await call(supply, 'confirm_my_action', { action_id: id })).text, /does not allow you to approve your own action/, 'one cent over');
    await setSettings(s.database, tenantId, { selfApprovalLimitCents: 11_000 });

    // Another staff member cannot confirm it in band (four-eyes: the console is their place).
    const { client: admin } = await client(globex.admin);
    const other = await call(admin, 'confirm_my_action', { action_id: id });
    assert.equal(other.isError, true);
    assert.match(other.text, /only the requester confirms/);
    // The requester through another assistant (OAuth client) cannot either.
    const elsewhere = (await client(globex.supply, roleScope(globex.supply), 'other-assistant')).client;
    const fromElsewhere = await call(elsewhere, 'confirm_my_action', { action_id: id });
    assert.equal(fromElsewhere.isError, true);
    assert.match(fromElsewhere.text, /requested through another assistant/);
    assert.equal(await count('select count(*) as n from purchase_orders where action_id = $1', id), 0);

    const at = await call(supply, 'confirm_my_action', { action_id: id });
    assert.equal(at.isError, false, at.text);
    assert.equal(at.data.status, 'executed');
    assert.equal(await count('select count(*) as n from purchase_orders where action_id = $1', id), 1);
    const again = await call(supply, 'confirm_my_action', { action_id: id });
    assert.equal(again.isError, true);
    assert.match(again.text, /already executed/);
    const st = await call(supply, 'get_action_status', { action_id: id });
    assert.equal(st.data.status, 'executed');
    assert.equal(st.data.decided_by.name, 'Hugo Supply');
    assert.deepEqual(await auditEvents(s.database, tenantId, id).then((e) => e.filter((x) => x !== 'action.decision_refused')),
      ['action.requested', 'action.approved', 'action.executed']);
    await setSettings(s.database, tenantId, { selfApprovalLimitCents: 0 });
    const missing = await call(supply, 'get_action_status', { action_id: '00000000-0000-4000-8000-000000000000' });
    assert.equal(missing.isError, true);
    assert.match(missing.text, /not found/);
  });
});
