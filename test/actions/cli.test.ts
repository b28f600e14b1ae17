// The admin command for phases, guardrails and actions (npm run actions), run as the owner role.
import assert from 'node:assert/strict';
import { before, test } from 'node:test';
import { runActions } from '../../src/cli/actions.js';
import { createTestDatabase, first, type TestDatabase } from '../support/database.js';
import { request, staffOf } from './helpers.js';

let db: TestDatabase;
before(async () => { db = await createTestDatabase(); });

async function run(...argv: string[]): Promise<string[]> {
  const lines: string[] = [];
  await runActions(db.owner, argv, (l) => lines.push(l));
  return lines;
}

test('sets phase, guardrails and the self-approval limit, validated and audited', async () => {
  assert.deepEqual((await run('show', 'canary'))[0], 'phase\t1');
  await run('phase', 'canary', '3');
  await run('guardrails', 'canary', '{"issue_refund":{"max_amount_cents":2500}}');
  const lines = await run('self-approval', 'canary', '1500');
  assert.deepEqual(lines, ['phase\t3 (customer endpoint enabled)', 'self_approval_limit_cents\t1500', 'guardrails\t{"issue_refund":{"max_amount_cents":2500}}']);
  await assert.rejects(run('phase', 'globex', '4'), /phase must be 1, 2 or 3/);
  await assert.rejects(run('guardrails', 'globex', '{"drop":{}}'), /invalid guardrails/);
  await assert.rejects(run('phase', 'nope', '2'), /no tenant nope/);
  const audit = await db.owner`select 1 from audit_events a join tenants t on t.id = a.tenant_id where t.slug = 'canary' and a.event = 'settings.actions_changed'`;
  assert.equal(audit.length, 3);
});

test('lists and expires actions', async () => {
  const admin = await staffOf(db, 'acme', 'admin@acme.example');
  const asked = await request(db, admin, 'change_price', { sku: 'TNT-001', new_price_cents: 19_999 });
  assert.equal(asked.status, 'pending');
  const listed = await run('list', 'acme', '--status', 'pending');
  assert.ok(listed.some((l) => l.startsWith(`${asked.action_id}\tpending\tchange_price\tadmin@acme.example`)));
  assert.deepEqual(await run('expire', 'acme', asked.action_id), [`expired ${asked.action_id}`]);
  assert.equal(first(await db.owner<{ status: string }[]>`select status::text as status from pending_actions where id = ${asked.action_id}`).status, 'expired');
  await assert.rejects(run('expire', 'acme', asked.action_id), /no pending action/);
  assert.deepEqual(await run('expire', 'acme'), ['0 expired']);
});

test('A7 guardrails: lists every limit, sets single aggregate limits and removes them, validated', async () => {
  const listed = await run('guardrails', 'acme');
  assert.ok(listed.includes('issue_refund\tper_order_max_amount_cents\t5000\ttotal per order (executed and pending, ever), in cents'));
  assert.ok(listed.includes('change_price\tmax_change_percent\t—\tprice change in percent (either direction)'));
  await run('guardrails', 'acme', 'issue_refund.per_customer_day_max_amount_cents=7500', 'issue_refund.per_tenant_day_max_amount_cents=none');
  const g = first(await db.owner<{ guardrails: Record<string, Record<string, number>> }[]>`
    select guardrails from tenant_settings s join tenants t on t.id = s.tenant_id where t.slug = 'acme'`).guardrails;
  assert.equal(g.issue_refund!.per_customer_day_max_amount_cents, 7500);
  assert.equal(g.issue_refund!.per_tenant_day_max_amount_cents, undefined);
  assert.equal(g.issue_refund!.max_amount_cents, 5000, 'the rest of the entry is kept');
  await assert.rejects(run('guardrails', 'acme', 'issue_refund.per_product_day_max_quantity=1'), /issue_refund has no aggregate limit per_product_day_max_quantity/);
  await assert.rejects(run('guardrails', 'acme', 'issue_refund.per_order_max_amount_cents=lots'), /not a number/);
  await assert.rejects(run('guardrails', 'acme', 'nonsense'), /expected <tool>.<limit>=<n>/);
  await run('guardrails', 'acme', '{"issue_refund":{"max_amount_cents":5000,"per_order_max_amount_cents":6000}}');
  assert.ok((await run('guardrails', 'acme')).includes('issue_refund\tper_order_max_amount_cents\t6000\ttotal per order (executed and pending, ever), in cents'));
});
