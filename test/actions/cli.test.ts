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
