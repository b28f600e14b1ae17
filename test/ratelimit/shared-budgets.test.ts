// Shared budgets (docs/DESIGN.md §4; catalogue A9, A10): a call spends its token's, its subject's, its
// client's and its tenant's budget (the last three per endpoint kind) all together or not at all;
// cheap refusals spend nothing; customer traffic never spends the staff's budget; one subject gets
// at most a share of what it shares with others; and new tokens or clients do not multiply a
// person's budget.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { boundedSubjectBudget, DEFAULT_BUDGETS } from '../../src/ratelimit/limits.js';
import { customerToken, customerUrl, internalUrl, post, staffToken, toolCall } from '../servers/helpers.js';
import { startTestService, type TestService } from '../support/service.js';
import { issueTestToken } from '../support/tokens.js';

async function call(url: string, token: string, name = 'list_orders', args: unknown = { limit: 1 }) {
  const res = await post(url, toolCall(name, args), { Authorization: `Bearer ${token}` });
  return { status: res.status, headers: res.headers, body: (await res.json()) as { error?: { code: number; message: string }; result?: unknown } };
}

async function statuses(n: number, send: () => Promise<{ status: number }>): Promise<number[]> {
  const out: number[] = [];
  for (let i = 0; i < n; i++) out.push((await send()).status);
  return out;
}

const times = (n: number, status: number) => Array.from({ length: n }, () => status);

/**
 * Points spent in each budget window of a tenant, by the part of the key after the tenant id: what
 * the shared store has leased in the window less what the instance still holds unspent
 * (src/ratelimit/windows.ts), i.e. exactly the points of the calls it accepted.
 */
async function windows(s: TestService, slug: string): Promise<Map<string, number>> {
  const rows = await s.database.owner<{ key: string; points: number }[]>`
    select w.key, w.points from mcp_budget_windows w, tenants t where t.slug = ${slug} and w.key like 't:' || t.id || '%'`;
  return new Map(rows.map((r) => [r.key.replace(/^t:[0-9a-f-]+:?/, ''), r.points - s.services.rateLimits.held(r.key)]));
}

test('A9 a call refused by its token budget spends nothing of the subject, client or tenant budgets', async () => {
  const s = await startTestService({ RATE_LIMIT_TOKEN_PER_MINUTE: '3', RATE_LIMIT_TENANT_PER_MINUTE: '8', RATE_LIMIT_SUBJECT_SHARE_PERCENT: '100' });
  const url = customerUrl(s, 'acme');
  const alice = await customerToken(s, 'acme', 'alice@acme.example');
  assert.deepEqual(await statuses(3, () => call(url, alice.token)), times(3, 200));
  const refused = await statuses(20, () => call(url, alice.token));
  assert.deepEqual(refused, times(20, 429), 'the token is at its limit');
  const spent = await windows(s, 'acme');
  assert.equal(spent.get(`customer:subject:${alice.subjectId}`), 3, 'subject: the three accepted calls only');
  assert.equal(spent.get('customer:client:test-client'), 3, 'client: the three accepted calls only');
  assert.equal(spent.get('customer'), 3, 'tenant: the three accepted calls only');
  // The tenant's 8 points: 3 spent by alice, so other calls get exactly 5 (at the limit), not one more.
  const bob = await customerToken(s, 'acme', 'bob@acme.example');
  const bobAgain = await customerToken(s, 'acme', 'bob@acme.example');
  assert.deepEqual(await statuses(3, () => call(url, bob.token)), times(3, 200));
  assert.deepEqual(await statuses(2, () => call(url, bobAgain.token)), times(2, 200));
  const over = await call(url, bobAgain.token);
  assert.equal(over.status, 429, 'one over the tenant budget (the token has one point left)');
  assert.match(over.body.error?.message ?? '', /this shop's customer traffic may make 8 requests/);
});

test('A9 cheap refusals (scope missing, unknown tool) come before any budget is spent; the step-up 403 is still audited', async () => {
  const s = await startTestService({ RATE_LIMIT_TOKEN_PER_MINUTE: '2' });
  const url = customerUrl(s, 'acme');
  const ordersOnly = await customerToken(s, 'acme', 'alice@acme.example', 'orders');
  for (let i = 0; i < 5; i++) {
    const denied = await call(url, ordersOnly.token, 'start_return', { order_number: 'ORD-1001', lines: [{ line_no: 1, quantity: 1 }], reason: 'x', idempotency_key: `abcdefgh-${i}` });
    assert.equal(denied.status, 403);
    const unknown = await call(url, ordersOnly.token, 'no_such_tool', {});
    assert.equal(unknown.status, 200);
    assert.equal(unknown.headers.get('ratelimit'), null, 'no budget was consulted');
    assert.match(unknown.body.error?.message ?? '', /Unknown tool/);
    const staffTool = await call(url, ordersOnly.token, 'low_stock', {});
    assert.match(staffTool.body.error?.message ?? '', /Unknown tool/);
  }
  assert.deepEqual(await statuses(3, () => call(url, ordersOnly.token)), [200, 200, 429], 'the whole budget of 2 is still there, and not one more');
  const audited = await s.database.owner<{ tool: string; outcome: string }[]>`
    select tool, outcome from audit_events where token_id = ${ordersOnly.id} and outcome in ('denied', 'unknown_tool')`;
  assert.equal(audited.filter((r) => r.tool === 'start_return' && r.outcome === 'denied').length, 5, 'step-up refusals audited');
  assert.equal(audited.filter((r) => r.tool === 'low_stock' && r.outcome === 'denied').length, 5, 'staff tools by name audited (A2)');
});

test('A9 a customer flood of the canary tenant (customer endpoint off) leaves canary staff their whole budget', async () => {
  const s = await startTestService({ RATE_LIMIT_TENANT_PER_MINUTE: '10', RATE_LIMIT_SUBJECT_SHARE_PERCENT: '100' });
  const erin = await customerToken(s, 'canary', 'erin@canary.example');
  const flood = await Promise.all(Array.from({ length: 60 }, () => call(customerUrl(s, 'canary'), erin.token)));
  assert.ok(flood.every((r) => r.status === 403 && r.body.error?.code === -32003), 'every call refused as not enabled, none as 429');
  assert.equal((await windows(s, 'canary')).size, 0, 'no budget of the tenant was touched');
  const cyril = await staffToken(s, 'canary', 'supply@canary.example', 'ops:read');
  const cleo = await staffToken(s, 'canary', 'warehouse@canary.example', 'ops:read');
  const staffUrl = internalUrl(s, 'canary');
  assert.deepEqual(await statuses(5, () => call(staffUrl, cyril.token, 'low_stock', {})), times(5, 200));
  assert.deepEqual(await statuses(5, () => call(staffUrl, cleo.token, 'low_stock', {})), times(5, 200), 'the staff tenant budget, to its limit');
  const over = await call(staffUrl, cleo.token, 'low_stock', {});
  assert.equal(over.status, 429, 'one over');
  assert.match(over.body.error?.message ?? '', /shop's staff traffic may make 10 requests/);
});

test('A9 customer traffic that exhausts the customer tenant budget does not touch the staff tenant budget', async () => {
  const s = await startTestService({ RATE_LIMIT_TENANT_PER_MINUTE: '6', RATE_LIMIT_SUBJECT_SHARE_PERCENT: '100' });
  const alice = await customerToken(s, 'acme', 'alice@acme.example');
  assert.deepEqual(await statuses(7, () => call(customerUrl(s, 'acme'), alice.token)), [...times(6, 200), 429]);
  const sam = await staffToken(s, 'acme', 'supply@acme.example', 'ops:read');
  assert.deepEqual(await statuses(7, () => call(internalUrl(s, 'acme'), sam.token, 'low_stock', {})), [...times(6, 200), 429]);
});

test('A9 one subject gets at most its share of the tenant budget: at the share, one over, and the others go on', async () => {
  // 25 % of a tenant budget of 40 is 10, below the subject budget of 1000 and the token budget of 100.
  const s = await startTestService({
    RATE_LIMIT_TOKEN_PER_MINUTE: '100', RATE_LIMIT_SUBJECT_PER_MINUTE: '1000', RATE_LIMIT_TENANT_PER_MINUTE: '40', RATE_LIMIT_SUBJECT_SHARE_PERCENT: '25',
  });
  const url = customerUrl(s, 'acme');
  const alice = await customerToken(s, 'acme', 'alice@acme.example');
  for (let i = 0; i < 10; i++) {
    const r = await call(url, alice.token);
    assert.equal(r.status, 200, `call ${i + 1} within the share`);
    assert.match(r.headers.get('ratelimit') ?? '', new RegExp(`^limit=10, remaining=${9 - i}, reset=\\d+$`));
  }
  const over = await call(url, alice.token);
  assert.equal(over.status, 429, 'one over the share');
  assert.equal(over.headers.get('ratelimit-policy'), '10;w=60');
  assert.match(over.body.error?.message ?? '', /this customer \(across all their tokens and clients\) may make 10 requests/);
  const bob = await customerToken(s, 'acme', 'bob@acme.example');
  assert.equal((await call(url, bob.token)).status, 200, 'another customer is not starved');
  assert.equal((await windows(s, 'acme')).get('customer'), 11, 'the tenant was charged the accepted calls only');
});

test('A9 the share bound is a pure function of the budgets: the smaller of the subject budget and the share of client and tenant', () => {
  const b = { ...DEFAULT_BUDGETS, subject: { points: 300, durationSeconds: 60 } };
  assert.deepEqual(boundedSubjectBudget(b, 25), { points: 300, durationSeconds: 60 });
  assert.deepEqual(boundedSubjectBudget({ ...b, client: { points: 400, durationSeconds: 60 } }, 25), { points: 100, durationSeconds: 60 });
  assert.deepEqual(boundedSubjectBudget({ ...b, tenant: { points: 1200, durationSeconds: 120 } }, 25), { points: 150, durationSeconds: 60 }, 'compared as rates');
  assert.deepEqual(boundedSubjectBudget({ ...b, tenant: { points: 2, durationSeconds: 60 } }, 10), { points: 1, durationSeconds: 60 });
});

test('A10 new tokens and a second client of the same person share one subject budget; another person is unaffected', async () => {
  const s = await startTestService({ RATE_LIMIT_TOKEN_PER_MINUTE: '100', RATE_LIMIT_SUBJECT_PER_MINUTE: '5', RATE_LIMIT_SUBJECT_SHARE_PERCENT: '100' });
  const url = customerUrl(s, 'acme');
  const first = await customerToken(s, 'acme', 'alice@acme.example');
  assert.deepEqual(await statuses(3, () => call(url, first.token)), times(3, 200));
  const second = await issueTestToken(s.database.app, {
    tenantSlug: 'acme', resource: url, subject: { kind: 'customer', email: 'alice@acme.example' }, scope: 'orders', clientId: 'second-client',
  });
  assert.deepEqual(await statuses(2, () => call(url, second.token)), times(2, 200), 'at the limit: 5 across both');
  const over = await call(url, second.token);
  assert.equal(over.status, 429, 'one over, on the second client');
  assert.match(over.body.error?.message ?? '', /this customer \(across all their tokens and clients\) may make 5 requests/);
  const renewed = await customerToken(s, 'acme', 'alice@acme.example');
  assert.equal((await call(url, renewed.token)).status, 429, 'a new token (as after a refresh) brings no new budget');
  const bob = await customerToken(s, 'acme', 'bob@acme.example');
  assert.equal((await call(url, bob.token)).status, 200);
});

test('A10 concurrent calls on several tokens of one person at the limit: exactly the subject budget accepted, and charged', async () => {
  const s = await startTestService({ RATE_LIMIT_TOKEN_PER_MINUTE: '100', RATE_LIMIT_SUBJECT_PER_MINUTE: '10', RATE_LIMIT_SUBJECT_SHARE_PERCENT: '100' });
  const url = customerUrl(s, 'acme');
  const tokens = await Promise.all(Array.from({ length: 3 }, () => customerToken(s, 'acme', 'alice@acme.example')));
  const results = await Promise.all(Array.from({ length: 30 }, (_, i) => call(url, tokens[i % 3]!.token)));
  assert.equal(results.filter((r) => r.status === 200).length, 10);
  assert.equal(results.filter((r) => r.status === 429).length, 20);
  const spent = await windows(s, 'acme');
  assert.equal(spent.get(`customer:subject:${tokens[0]!.subjectId}`), 10);
  assert.equal(spent.get('customer'), 10, 'the tenant charged for the accepted calls only');
  assert.equal([...tokens].reduce((n, t) => n + (spent.get(`token:${t.id}`) ?? 0), 0), 10);
});
