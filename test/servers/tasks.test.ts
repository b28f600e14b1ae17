// Approvals as tasks (Tasks extension io.modelcontextprotocol/tasks over MCP 2026-07-28): a staff
// assistant's reorder that must wait is answered as a task; a colleague approves it in the approval
// console (real HTTP form post); tasks/get then reports the purchase order. Rejected → failed with
// the reason; expired → failed; tasks/cancel withdraws it; another person's task id → the same "not
// found" as a missing id (A1); self-approval through tasks/update (A6 limits); a client without the
// extension keeps today's pending answer.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { before, describe, test } from 'node:test';
import { internalCapabilities } from '../../src/servers/internal/capabilities.js';
import { ACTION_EXPIRED, ACTION_REJECTED, INVALID_PARAMS } from '../../src/servers/mcp/tasks.js';
import { DEMO_PASSWORDS } from '../../src/seed/fixtures.js';
import { validArguments } from '../actions/fixtures.js';
import { setSettings } from '../actions/helpers.js';
import { startAnotherInstance, startTestService, type TestService } from '../support/service.js';
import type { RunningService } from '../../src/service.js';
import { CancelTaskResultV2Schema, CreateTaskResultV2Schema, GetTaskResultV2Schema, UpdateTaskResultV2Schema } from '@modelcontextprotocol/ext-tasks/core/v2';
import { STAFF_ROLE_SCOPES } from '../../src/authz/scopes.js';
import { auditRows, customerToken, customerUrl, internalUrl, staffToken } from './helpers.js';
import { portOf, rawModern, runTaskMethod, runTool, staffCaller, type Caller, type Interaction } from './interaction-harness.js';
import { PageBrowser } from '../support/page-browser.js';

let s: TestService;
let second: RunningService;
let supply: Caller;
let admin: Caller;
let globexAdmin: Caller;
let tenantId: string;
let reorderArgs: Record<string, unknown>;
let quantity = 20;

const withTasks: Interaction = { formElicitation: true, tasks: true, stateKey: Buffer.alloc(32) };

/** A fresh reorder (a new quantity each time, so no request is a duplicate of an earlier one). */
async function reorder(c: Caller, interaction: Interaction | null = withTasks) {
  quantity += 1;
  // An open purchase order for the product blocks a new one: the earlier test's order has arrived.
  await s.database.owner`update purchase_orders set status = 'received' where tenant_id = ${tenantId} and status in ('sent', 'confirmed')`;
  const r = await runTool(s.database.app, internalCapabilities, c, 'create_reorder', { ...reorderArgs, quantity }, interaction ?? undefined);
  assert.equal(r.isError, false, r.text);
  return r;
}
const getTask = (c: Caller, taskId: unknown) => runTaskMethod(s.database.app, c, 'tasks/get', { taskId });
const purchaseOrders = async (actionId: string) =>
  Number((await s.database.owner<{ n: string }[]>`select count(*) as n from purchase_orders where action_id = ${actionId}`)[0]!.n);

function csrfNear(body: string, near?: string): string {
  const from = near ? body.indexOf(near) : 0;
  assert.ok(from >= 0, `${near} not on the page`);
  return /name="csrf" value="([^"]+)"/.exec(body.slice(from))![1]!;
}
async function consoleAs(email: string): Promise<PageBrowser> {
  const b = new PageBrowser(s.internalUrl);
  const { body } = await b.get('/console/t/acme/login');
  const { res } = await b.post('/console/t/acme/login', { csrf: csrfNear(body), email, password: DEMO_PASSWORDS.staff });
  assert.equal(res.status, 303);
  return b;
}
async function decideInConsole(email: string, actionId: string, decision: 'approve' | 'reject', reason: string) {
  const b = await consoleAs(email);
  const page = await b.get(`/console/t/acme/actions/${actionId}`);
  assert.equal(page.res.status, 200, page.body.slice(0, 200));
  const csrf = /name="csrf" value="([^"]+)"><input type="hidden" name="from" value="([^"]*)"/.exec(page.body);
  assert.ok(csrf, 'no decision form on the action page');
  const r = await b.post(`/console/t/acme/actions/${actionId}`, { csrf: csrf[1]!, from: csrf[2]!, decision, reason });
  assert.equal(r.res.status, 303, r.body.slice(0, 300));
}

before(async () => {
  s = await startTestService();
  // Two instances behind one URL (the first's), as docker-compose.yml runs them.
  second = await startAnotherInstance(s, { PUBLIC_URL: s.publicUrl, INTERNAL_URL: s.internalUrl });
  supply = await staffCaller(s.database, 'acme', 'supply@acme.example');
  admin = await staffCaller(s.database, 'acme', 'admin@acme.example');
  globexAdmin = await staffCaller(s.database, 'globex', 'admin@globex.example');
  tenantId = supply.actor.tenantId;
  await setSettings(s.database, tenantId, { phase: 1, guardrails: {}, selfApprovalLimitCents: 0 });
  reorderArgs = (await validArguments(s.database, tenantId)).create_reorder;
  await s.database.owner`update products set unit_cost_cents = 1000 where tenant_id = ${tenantId} and sku = ${reorderArgs.sku as string}`;
});

describe('tasks: a write that waits', () => {
  test('a reorder waits as a task; a colleague approves it in the console; tasks/get returns the purchase order', async () => {
    const asked = await reorder(supply);
    assert.equal(asked.resultType, 'task', asked.text);
    const task = asked.data;
    assert.match(task.taskId, /^[0-9a-f-]{36}$/);
    assert.equal(task.status, 'working');
    assert.match(task.statusMessage, /Waiting for approval by another staff member \(.+\): http:\/\/.+\/console\/t\/acme\/actions\//);
    assert.equal(task.ttlMs, 72 * 3600 * 1000);
    assert.ok(task.pollIntervalMs > 0);
    assert.equal(await purchaseOrders(task.taskId), 0);
    const polled = await getTask(supply, task.taskId);
    assert.equal(polled.result?.status, 'working');

    await decideInConsole('admin@acme.example', task.taskId, 'approve', 'Stock is low');
    const done = await getTask(supply, task.taskId);
    assert.equal(done.result?.status, 'completed', JSON.stringify(done));
    const result = done.result!.result;
    assert.equal(result.structuredContent.status, 'executed');
    assert.match(result.structuredContent.result.purchase_order_number ?? JSON.stringify(result.structuredContent.result), /PO-/);
    assert.match(result.content[0].text, /"status":"executed"/);
    assert.equal(await purchaseOrders(task.taskId), 1);
    assert.ok(Date.parse(done.result!.lastUpdatedAt) >= Date.parse(done.result!.createdAt));
    assert.ok(second, 'a second instance runs on the same database');
  });

  test('rejected in the console → failed with the reason; expired → failed; nothing runs', async () => {
    const rejected = (await reorder(supply)).data;
    await decideInConsole('admin@acme.example', rejected.taskId, 'reject', 'Supplier is on hold this week');
    const r = await getTask(supply, rejected.taskId);
    assert.equal(r.result?.status, 'failed');
    assert.equal(r.result?.error.code, ACTION_REJECTED);
    assert.match(r.result?.error.message, /^rejected by .+: Supplier is on hold this week$/);
    assert.equal(r.result?.statusMessage, r.result?.error.message);

    const expiring = (await reorder(supply)).data;
    await s.database.owner`update pending_actions set created_at = now() - interval '73 hours', expires_at = now() - interval '1 hour' where id = ${expiring.taskId}`;
    const e = await getTask(supply, expiring.taskId);
    assert.equal(e.result?.status, 'failed');
    assert.equal(e.result?.error.code, ACTION_EXPIRED);
    assert.match(e.result?.error.message, /expired without a decision/);
    assert.equal(await purchaseOrders(rejected.taskId) + await purchaseOrders(expiring.taskId), 0);
  });

  test('tasks/cancel withdraws the pending action: cancelled, never runs; a second cancel is acknowledged', async () => {
    const t = (await reorder(supply)).data;
    const ack = await runTaskMethod(s.database.app, supply, 'tasks/cancel', { taskId: t.taskId });
    assert.deepEqual(ack.result, {});
    const [row] = await s.database.owner<{ status: string; decision_reason: string; decided_by: string }[]>`
      select status::text, decision_reason, decided_by from pending_actions where id = ${t.taskId}`;
    assert.equal(row!.status, 'rejected');
    assert.equal(row!.decision_reason, 'withdrawn by the requester');
    assert.equal((await getTask(supply, t.taskId)).result?.status, 'cancelled');
    // Cancelling again is acknowledged (cooperative) and changes nothing.
    assert.deepEqual((await runTaskMethod(s.database.app, supply, 'tasks/cancel', { taskId: t.taskId })).result, {});
    assert.equal(await purchaseOrders(t.taskId), 0);
  });

  test('A1 another person\'s task id is "not found", the same error as a missing or malformed id', async () => {
    const t = (await reorder(supply)).data;
    const notFound = { code: INVALID_PARAMS, message: 'Failed to retrieve task: Task not found' };
    assert.deepEqual((await getTask(admin, t.taskId)).error, notFound, 'a colleague');
    assert.deepEqual((await getTask(globexAdmin, t.taskId)).error, notFound, 'another tenant');
    assert.deepEqual((await getTask(supply, randomUUID())).error, notFound, 'a missing id');
    assert.deepEqual((await getTask(supply, 'not-a-task')).error, notFound, 'a malformed id');
    assert.deepEqual((await runTaskMethod(s.database.app, admin, 'tasks/cancel', { taskId: t.taskId })).error, notFound);
    assert.deepEqual((await runTaskMethod(s.database.app, admin, 'tasks/update', { taskId: t.taskId, inputResponses: {} })).error, notFound);
    assert.equal((await getTask(supply, 42)).error?.code, INVALID_PARAMS);
    // The colleague's cancel did nothing.
    assert.equal((await getTask(supply, t.taskId)).result?.status, 'working');
  });

  test('a client without the tasks extension (or a legacy client) gets today\'s pending answer with action_id', async () => {
    for (const interaction of [{ ...withTasks, tasks: false }, null]) {
      const r = await reorder(supply, interaction);
      assert.equal(r.resultType, 'complete');
      assert.equal(r.data.status, 'pending');
      assert.match(r.data.action_id, /^[0-9a-f-]{36}$/);
      assert.match(r.data.console_url, /\/console\/t\/acme\/actions\//);
      assert.match(r.data.next_step, /get_action_status/);
    }
  });
});

describe('tasks: self-approval through tasks/update', () => {
  test('A6 within the tenant\'s self-approval limit the task asks for confirmation; accept runs it, decline withdraws; over the limit or another client: working', async () => {
    // 21+ units at 1,000 each: set the limit to cover the next two reorders exactly.
    await setSettings(s.database, tenantId, { selfApprovalLimitCents: 100_000 });
    try {
      const t = (await reorder(supply)).data;
      assert.equal(t.status, 'input_required', JSON.stringify(t));
      const form = t.inputRequests.confirm;
      assert.equal(form.method, 'elicitation/create');
      assert.match(form.params.message, /Run this action now, on your own approval\?/);
      // Through another assistant the same person is not asked (confirm where it was requested, or the console).
      const elsewhere = { ...supply, clientId: 'other-assistant' };
      assert.equal((await getTask(elsewhere, t.taskId)).result?.status, 'working');
      assert.deepEqual((await runTaskMethod(s.database.app, elsewhere, 'tasks/update',
        { taskId: t.taskId, inputResponses: { confirm: { action: 'accept', content: { confirm: true } } } })).result, {});
      assert.equal(await purchaseOrders(t.taskId), 0);
      // Cancel (dismissed) changes nothing; accept runs it once.
      await runTaskMethod(s.database.app, supply, 'tasks/update', { taskId: t.taskId, inputResponses: { confirm: { action: 'cancel' } } });
      assert.equal((await getTask(supply, t.taskId)).result?.status, 'input_required');
      const ack = await runTaskMethod(s.database.app, supply, 'tasks/update',
        { taskId: t.taskId, inputResponses: { confirm: { action: 'accept', content: { confirm: true } } } });
      assert.deepEqual(ack.result, {});
      const done = await getTask(supply, t.taskId);
      assert.equal(done.result?.status, 'completed');
      assert.equal(await purchaseOrders(t.taskId), 1);

      const d = (await reorder(supply)).data;
      assert.equal(d.status, 'input_required', JSON.stringify(d));
      await runTaskMethod(s.database.app, supply, 'tasks/update', { taskId: d.taskId, inputResponses: { confirm: { action: 'decline' } } });
      const declined = await getTask(supply, d.taskId);
      assert.equal(declined.result?.status, 'cancelled', JSON.stringify(declined));
      assert.equal(await purchaseOrders(d.taskId), 0);

      // One cent under the next reorder's value: it waits for a colleague.
      await setSettings(s.database, tenantId, { selfApprovalLimitCents: (quantity + 1) * 1000 - 1 });
      const over = (await reorder(supply)).data;
      assert.equal(over.status, 'working');
      await runTaskMethod(s.database.app, supply, 'tasks/update',
        { taskId: over.taskId, inputResponses: { confirm: { action: 'accept', content: { confirm: true } } } });
      assert.equal((await getTask(supply, over.taskId)).result?.status, 'working');
      assert.equal(await purchaseOrders(over.taskId), 0);
    } finally {
      await setSettings(s.database, tenantId, { selfApprovalLimitCents: 0 });
    }
  });
});

/** Our wire format, checked against the Tasks extension's own schemas (@modelcontextprotocol/ext-tasks). */
function conforms(schema: { safeParse(v: unknown): { success: boolean; error?: unknown } }, value: unknown, what: string): void {
  const r = schema.safeParse(value);
  assert.ok(r.success, `${what} does not match the extension's schema: ${JSON.stringify(r.error)}\n${JSON.stringify(value)}`);
}

describe('tasks over HTTP: 2026-07-28, two instances on one database', () => {
  const TASKS = { extensions: { 'io.modelcontextprotocol/tasks': {} } };
  const notFound = { code: INVALID_PARAMS, message: 'Failed to retrieve task: Task not found' };
  async function fresh() {
    quantity += 1;
    await s.database.owner`update purchase_orders set status = 'received' where tenant_id = ${tenantId} and status in ('sent', 'confirmed')`;
    return { ...reorderArgs, quantity };
  }

  test('a staff assistant\'s reorder waits as a task; a colleague approves it in the console; tasks/get on the SECOND instance returns the purchase order', async () => {
    const url = internalUrl(s, 'acme');
    const [one, two] = [portOf(s.internalServer), portOf(second.internalServer)];
    const supplyToken = await staffToken(s, 'acme', 'supply@acme.example', STAFF_ROLE_SCOPES.supply_chain_manager.join(' '));
    const discovered = await rawModern(two, url, supplyToken.token, 'server/discover', {}, TASKS);
    assert.deepEqual(discovered.body.result.capabilities.extensions, { 'io.modelcontextprotocol/tasks': {} });

    const created = await rawModern(one, url, supplyToken.token, 'tools/call', { name: 'create_reorder', arguments: await fresh() }, TASKS);
    assert.equal(created.status, 200, JSON.stringify(created.body));
    const task = created.body.result;
    assert.equal(task.resultType, 'task', JSON.stringify(task));
    conforms(CreateTaskResultV2Schema, task, 'CreateTaskResult');
    assert.equal(task.status, 'working');
    assert.match(task.taskId, /^[0-9a-f-]{36}$/);
    const polled = await rawModern(two, url, supplyToken.token, 'tasks/get', { taskId: task.taskId }, TASKS);
    conforms(GetTaskResultV2Schema, polled.body.result, 'GetTaskResult (working)');
    assert.equal(polled.body.result.resultType, 'complete');
    assert.equal(polled.body.result.status, 'working');

    await decideInConsole('admin@acme.example', task.taskId, 'approve', 'Reorder agreed');
    const done = await rawModern(two, url, supplyToken.token, 'tasks/get', { taskId: task.taskId }, TASKS);
    assert.equal(done.body.result.status, 'completed', JSON.stringify(done.body));
    conforms(GetTaskResultV2Schema, done.body.result, 'GetTaskResult (completed)');
    const po = done.body.result.result.structuredContent.result;
    assert.match(JSON.stringify(po), /PO-\d+/);
    const [row] = await s.database.owner<{ number: string }[]>`select number from purchase_orders where action_id = ${task.taskId}`;
    assert.ok(row && JSON.stringify(po).includes(row.number), `the task's result names the purchase order ${row?.number}`);

    // Anyone else, on either instance: the same "not found" as a missing id.
    const adminToken = await staffToken(s, 'acme', 'admin@acme.example', STAFF_ROLE_SCOPES.tenant_admin.join(' '));
    assert.deepEqual((await rawModern(two, url, adminToken.token, 'tasks/get', { taskId: task.taskId }, TASKS)).body.error, notFound);
    assert.deepEqual((await rawModern(one, url, supplyToken.token, 'tasks/get', { taskId: randomUUID() }, TASKS)).body.error, notFound);
    // The routing header must name the task the body names (Mcp-Name = params.taskId): -32020 otherwise.
    const mismatch = await fetch(url, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', Accept: 'application/json, text/event-stream', Authorization: `Bearer ${supplyToken.token}`,
        'MCP-Protocol-Version': '2026-07-28', 'Mcp-Method': 'tasks/get', 'Mcp-Name': randomUUID() },
      body: JSON.stringify({ jsonrpc: '2.0', id: 7, method: 'tasks/get', params: { taskId: task.taskId, _meta: {
        'io.modelcontextprotocol/protocolVersion': '2026-07-28', 'io.modelcontextprotocol/clientCapabilities': TASKS,
        'io.modelcontextprotocol/clientInfo': { name: 'raw', version: '1' } } } }),
    });
    assert.equal(mismatch.status, 400);
    assert.equal(((await mismatch.json()) as { error: { code: number } }).error.code, -32020);
    const alice = await customerToken(s, 'acme', 'alice@acme.example');
    await setSettings(s.database, tenantId, { phase: 3 }); // the customer endpoint is on from phase 3
    try {
      assert.deepEqual((await rawModern(portOf(s.publicServer), customerUrl(s, 'acme'), alice.token, 'tasks/get', { taskId: task.taskId }, TASKS)).body.error, notFound);
    } finally {
      await setSettings(s.database, tenantId, { phase: 1 });
    }
    // One audit entry per call, the task methods included.
    const audited = await auditRows(s.database.owner, supplyToken.id);
    assert.deepEqual(audited.filter((r) => r.event === 'tool.call').map((r) => `${r.tool}:${r.outcome}`),
      ['create_reorder:task', 'tasks/get:ok', 'tasks/get:ok', 'tasks/get:error']);
  });

  test('tasks/cancel over HTTP withdraws the action; without the extension the same call answers pending + action_id; the customer endpoint advertises no tasks', async () => {
    const url = internalUrl(s, 'acme');
    const [one, two] = [portOf(s.internalServer), portOf(second.internalServer)];
    const { token } = await staffToken(s, 'acme', 'supply@acme.example', STAFF_ROLE_SCOPES.supply_chain_manager.join(' '));
    const task = (await rawModern(one, url, token, 'tools/call', { name: 'create_reorder', arguments: await fresh() }, TASKS)).body.result;
    const ack = await rawModern(two, url, token, 'tasks/cancel', { taskId: task.taskId }, TASKS);
    assert.equal(ack.body.result.resultType, 'complete', JSON.stringify(ack.body));
    conforms(CancelTaskResultV2Schema, ack.body.result, 'CancelTaskResult');
    const cancelled = (await rawModern(one, url, token, 'tasks/get', { taskId: task.taskId }, TASKS)).body.result;
    assert.equal(cancelled.status, 'cancelled');
    conforms(GetTaskResultV2Schema, cancelled, 'GetTaskResult (cancelled)');
    assert.equal(await purchaseOrders(task.taskId), 0);

    const plain = await rawModern(one, url, token, 'tools/call', { name: 'create_reorder', arguments: await fresh() }, {});
    const out = plain.body.result;
    assert.equal(out.resultType, 'complete');
    assert.equal(out.structuredContent.status, 'pending');
    assert.match(out.structuredContent.action_id, /^[0-9a-f-]{36}$/);

    const alice = await customerToken(s, 'acme', 'alice@acme.example');
    await setSettings(s.database, tenantId, { phase: 3 });
    try {
      const customer = await rawModern(portOf(s.publicServer), customerUrl(s, 'acme'), alice.token, 'server/discover', {}, TASKS);
      assert.ok(customer.body.result, JSON.stringify(customer.body));
      assert.equal(customer.body.result.capabilities.extensions, undefined);
    } finally {
      await setSettings(s.database, tenantId, { phase: 1 });
    }
  });

  test('failed (rejected) and input_required (self-approval) tasks and the tasks/update ack match the extension\'s schemas', async () => {
    const url = internalUrl(s, 'acme');
    const one = portOf(s.internalServer);
    const { token } = await staffToken(s, 'acme', 'supply@acme.example', STAFF_ROLE_SCOPES.supply_chain_manager.join(' '));
    const rejected = (await rawModern(one, url, token, 'tools/call', { name: 'create_reorder', arguments: await fresh() }, TASKS)).body.result;
    await decideInConsole('admin@acme.example', rejected.taskId, 'reject', 'Not this week');
    const failed = (await rawModern(one, url, token, 'tasks/get', { taskId: rejected.taskId }, TASKS)).body.result;
    assert.equal(failed.status, 'failed');
    conforms(GetTaskResultV2Schema, failed, 'GetTaskResult (failed)');

    await setSettings(s.database, tenantId, { selfApprovalLimitCents: 1_000_000 });
    try {
      const mine = (await rawModern(one, url, token, 'tools/call', { name: 'create_reorder', arguments: await fresh() }, TASKS)).body.result;
      conforms(CreateTaskResultV2Schema, mine, 'CreateTaskResult (input_required)');
      const asking = (await rawModern(one, url, token, 'tasks/get', { taskId: mine.taskId }, TASKS)).body.result;
      assert.equal(asking.status, 'input_required');
      conforms(GetTaskResultV2Schema, asking, 'GetTaskResult (input_required)');
      const ack = await rawModern(one, url, token, 'tasks/update',
        { taskId: mine.taskId, inputResponses: { confirm: { action: 'accept', content: { confirm: true } } } }, TASKS);
      conforms(UpdateTaskResultV2Schema, ack.body.result, 'UpdateTaskResult');
      const done = (await rawModern(one, url, token, 'tasks/get', { taskId: mine.taskId }, TASKS)).body.result;
      assert.equal(done.status, 'completed');
      assert.equal(await purchaseOrders(mine.taskId), 1);
    } finally {
      await setSettings(s.database, tenantId, { selfApprovalLimitCents: 0 });
    }
  });
});
