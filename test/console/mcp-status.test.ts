// The whole approval loop across both faces (issue 5): a staff assistant requests two refunds through
// the internal MCP endpoint (both above the guardrail, so both wait); a second staff member signs in
// to the approval console in headless Chromium (JavaScript off), approves one and rejects the other;
// the assistant's get_action_status and list_my_actions, through MCP, reflect both decisions.
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { after, test } from 'node:test';
import { chromium } from 'playwright-core';
import type { Client } from '@modelcontextprotocol/client';
import { STAFF_ROLE_SCOPES } from '../../src/authz/scopes.js';
import { DEMO_PASSWORDS } from '../../src/seed/fixtures.js';
import { startTestService } from '../support/service.js';
import { auditEvents, refundableOrder, setSettings, staffOf } from '../actions/helpers.js';
import { connect, internalUrl, staffToken, text } from '../servers/helpers.js';

const CHROMIUM = '/usr/bin/chromium';

type Structured = Record<string, any>;
async function call(c: Client, name: string, args: Record<string, unknown>) {
  const r = await c.callTool({ name, arguments: args });
  return { isError: Boolean(r.isError), text: text(r), data: (r.structuredContent ?? {}) as Structured };
}

test('actions requested through MCP, approved and rejected in the console (headless Chromium), reflected by get_action_status via MCP',
  { skip: !existsSync(CHROMIUM) && 'no /usr/bin/chromium' }, async () => {
    const svc = await startTestService();
    const db = svc.database;
    const returns = await staffOf(db, 'acme', 'returns@acme.example');
    await setSettings(db, returns.tenantId, { phase: 2, guardrails: { issue_refund: { max_amount_cents: 5_000 } }, selfApprovalLimitCents: 0 });
    const token = await staffToken(svc, 'acme', 'returns@acme.example', STAFF_ROLE_SCOPES.returns_specialist.join(' '));
    const assistant = await connect(internalUrl(svc, 'acme'), token.token);

    // The staff assistant asks for two refunds above the guardrail: both wait.
    const order = await refundableOrder(db, returns.tenantId, 20_000);
    const toApprove = await call(assistant, 'issue_refund', {
      order_number: order.number, amount_cents: 6_000, reason: 'console approve via MCP', justification: 'Parcel arrived damaged, photos attached',
      idempotency_key: 'mcp-console-approve-0001',
    });
    const toReject = await call(assistant, 'issue_refund', { order_number: order.number, amount_cents: 7_000, reason: 'console reject via MCP' });
    for (const r of [toApprove, toReject]) {
      assert.equal(r.isError, false, r.text);
      assert.equal(r.data.status, 'pending');
      assert.match(r.text, /waiting for approval \(action /);
    }
    const approveId = toApprove.data.action_id as string;
    const rejectId = toReject.data.action_id as string;

    const browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'] });
    after(() => browser.close());
    const context = await browser.newContext({ javaScriptEnabled: false });
    const page = await context.newPage();

    // A second staff member with approver rights signs in.
    await page.goto(`${svc.internalUrl}/console/t/acme`);
    assert.match(await page.title(), /Sign in/);
    await page.fill('#email', 'admin@acme.example');
    await page.fill('#password', DEMO_PASSWORDS.staff);
    await page.click('button[type=submit]');
    await page.waitForSelector(`#action-${approveId}`);

    // The card shows what, who and through which assistant (the OAuth client of the MCP token).
    const card = page.locator(`#action-${approveId}`);
    const cardText = (await card.textContent()) ?? '';
    assert.match(cardText, /Refund 60\.00 EUR on order/);
    assert.match(cardText, /returns@acme\.example/);
    assert.match(cardText, /test-client/);
    assert.match(cardText, /Parcel arrived damaged/);

    await card.locator('textarea').fill('Photos checked');
    await card.locator('button[value=approve]').click();
    await page.waitForSelector('.notice');
    assert.match(await page.textContent('.notice') ?? '', /Approved: the action ran/);

    const second = page.locator(`#action-${rejectId}`);
    await second.locator('textarea').fill('One refund for this parcel is enough');
    await second.locator('button[value=reject]').click();
    await page.waitForSelector('.notice');
    assert.match(await page.textContent('.notice') ?? '', /Rejected/);
    assert.equal(await page.locator(`#action-${rejectId}`).count(), 0, 'no longer pending');
    assert.equal(await page.locator(`#action-${approveId}`).locator('button[value=approve]').count(), 0, 'cannot be approved again');

    // The assistant reads both outcomes through MCP.
    const approved = await call(assistant, 'get_action_status', { action_id: approveId });
    assert.equal(approved.data.status, 'executed');
    assert.equal(approved.data.decided_by.name, 'Ada Admin');
    assert.equal(approved.data.decision_reason, 'Photos checked');
    assert.equal(approved.data.result.amount.amount_cents, 6_000);
    assert.match(approved.data.message, /^done \(action /);
    const rejected = await call(assistant, 'get_action_status', { action_id: rejectId });
    assert.equal(rejected.data.status, 'rejected');
    assert.equal(rejected.data.result, null, 'never ran');
    assert.equal(rejected.data.decision_reason, 'One refund for this parcel is enough');
    assert.match(rejected.data.message, /^rejected \(action .*\): One refund for this parcel is enough$/);
    const mine = await call(assistant, 'list_my_actions', { tool: 'issue_refund', limit: 10 });
    const byId = new Map(mine.data.actions.map((a: Structured) => [a.action_id, a.status]));
    assert.equal(byId.get(approveId), 'executed');
    assert.equal(byId.get(rejectId), 'rejected');

    // Exactly once: one refund of 60.00, none of 70.00; a retry with the first key does not run it again.
    const refunds = await db.owner<{ amount_cents: string; action_id: string | null }[]>`
      select r.amount_cents, r.action_id from refunds r join orders o on o.tenant_id = r.tenant_id and o.id = r.order_id
      where o.tenant_id = ${returns.tenantId} and o.number = ${order.number}`;
    assert.deepEqual(refunds.map((r) => [Number(r.amount_cents), r.action_id]), [[6_000, approveId]]);
    const retry = await call(assistant, 'issue_refund', {
      order_number: order.number, amount_cents: 6_000, reason: 'console approve via MCP', justification: 'Parcel arrived damaged, photos attached',
      idempotency_key: 'mcp-console-approve-0001',
    });
    assert.equal(retry.data.action_id, approveId, 'the key returns the original (then pending) outcome, not a new action');
    const count = await db.owner`select 1 from refunds where action_id = ${approveId}`;
    assert.equal(count.length, 1);
    assert.deepEqual(await auditEvents(db, returns.tenantId, approveId), ['action.requested', 'action.approved', 'action.executed']);
    assert.deepEqual(await auditEvents(db, returns.tenantId, rejectId), ['action.requested', 'action.rejected']);
  });
