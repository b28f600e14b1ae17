// Per-token rate limits on MCP calls (docs/DESIGN.md §4, docs/ATTACK-CATALOGUE.md A4, F5): 429 with Retry-After and
// RateLimit headers and a JSON-RPC error an agent can act on; another token is unaffected; writes
// weigh more; and the budget holds across two instances sharing the store.
import assert from 'node:assert/strict';
import { request as httpRequest } from 'node:http';
import type { AddressInfo } from 'node:net';
import { test } from 'node:test';
import { customerToken, customerUrl, post, toolCall } from '../servers/helpers.js';
import { startAnotherInstance, startTestService } from '../support/service.js';

const BUDGET = 10;

async function call(url: string, token: string, name = 'list_orders', args: unknown = { limit: 1 }) {
  const res = await post(url, toolCall(name, args), { Authorization: `Bearer ${token}` });
  return { status: res.status, headers: res.headers, body: (await res.json()) as { error?: { code: number; message: string }; result?: unknown } };
}

test('A4 a token over its budget gets 429 with Retry-After; another token of the same user and client is unaffected', async () => {
  const s = await startTestService({ RATE_LIMIT_TOKEN_PER_MINUTE: String(BUDGET) });
  const url = customerUrl(s, 'acme');
  const first = (await customerToken(s, 'acme', 'alice@acme.example')).token;
  for (let i = 0; i < BUDGET; i++) {
    const ok = await call(url, first);
    assert.equal(ok.status, 200, `call ${i + 1} within the budget`);
    assert.match(ok.headers.get('ratelimit') ?? '', new RegExp(`^limit=${BUDGET}, remaining=${BUDGET - i - 1}, reset=\\d+$`));
  }
  const refused = await call(url, first);
  assert.equal(refused.status, 429);
  assert.ok(Number(refused.headers.get('retry-after')) >= 1, 'Retry-After');
  assert.equal(refused.headers.get('ratelimit-policy'), `${BUDGET};w=60`);
  assert.equal(refused.body.error?.code, -32029);
  assert.match(refused.body.error?.message ?? '', /access token may make 10 requests .* retry after \d+ s$/);
  const second = (await customerToken(s, 'acme', 'alice@acme.example')).token;
  assert.equal((await call(url, second)).status, 200, 'another token of the same user and client has its own budget');
  const metrics = await (await fetch(`${s.internalUrl}/metrics`)).text();
  assert.match(metrics, /commerce_rate_limit_rejections_total\{budget="token"\} 1/);
});

test('A4 writes weigh more than reads: two writes spend a budget of ten', async () => {
  const s = await startTestService({ RATE_LIMIT_TOKEN_PER_MINUTE: String(BUDGET) });
  const url = customerUrl(s, 'acme');
  const { token } = await customerToken(s, 'acme', 'bob@acme.example');
  for (let i = 0; i < 2; i++) {
    // place_order without confirmation only prepares; it is still a write tool and costs 5.
    const w = await call(url, token, 'place_order', { idempotency_key: `weight-test-${i}-0000` });
    assert.equal(w.status, 200, JSON.stringify(w.body));
  }
  assert.equal((await call(url, token)).status, 429, 'nothing left for even one read');
});

test('a tenant may set its own budgets (tenant_settings.rate_limits)', async () => {
  const s = await startTestService({ RATE_LIMIT_TOKEN_PER_MINUTE: String(BUDGET) });
  await s.database.owner`update tenant_settings set rate_limits = ${s.database.owner.json({ token: { points: 3, durationSeconds: 60 } })}
    where tenant_id = (select id from tenants where slug = 'acme')`;
  const { token } = await customerToken(s, 'acme', 'alice@acme.example');
  const statuses = [];
  for (let i = 0; i < 4; i++) statuses.push((await call(customerUrl(s, 'acme'), token)).status);
  assert.deepEqual(statuses, [200, 200, 200, 429]);
});

/** A POST to one instance as a load balancer forwards it: to that instance's port, with the public Host. */
function viaBalancer(instancePort: number, publicUrl: string, token: string): Promise<number> {
  const body = JSON.stringify(toolCall('list_orders', { limit: 1 }));
  return new Promise((resolve, reject) => {
    const req = httpRequest({
      host: '127.0.0.1', port: instancePort, method: 'POST', path: new URL(publicUrl).pathname,
      headers: {
        Host: new URL(publicUrl).host, Authorization: `Bearer ${token}`, 'Content-Type': 'application/json',
        Accept: 'application/json, text/event-stream', 'Content-Length': Buffer.byteLength(body),
      },
    }, (res) => { res.resume(); res.on('end', () => resolve(res.statusCode ?? 0)); });
    req.on('error', reject);
    req.end(body);
  });
}

/** Two instances behind one public URL (the first's), the way docker-compose.yml runs them. */
async function twoInstances(env: Record<string, string>) {
  const a = await startTestService(env);
  const b = await startAnotherInstance(a, { ...env, PUBLIC_URL: a.publicUrl, INTERNAL_URL: a.internalUrl });
  const publicUrl = customerUrl(a, 'acme');
  const ports = [Number(new URL(a.publicUrl).port), (b.publicServer.address() as AddressInfo).port];
  const { token } = await customerToken(a, 'acme', 'alice@acme.example');
  return async (n: number) => {
    const statuses: number[] = [];
    for (let i = 0; i < n; i++) statuses.push(await viaBalancer(ports[i % 2]!, publicUrl, token));
    assert.ok(statuses.every((st) => st === 200 || st === 429), `only 200 and 429: ${statuses.join(' ')}`);
    return statuses.filter((st) => st === 200).length;
  };
}

test('F5 two instances, one budget: twice the budget sent alternately, at most the budget accepted', async () => {
  const send = await twoInstances({ RATE_LIMIT_TOKEN_PER_MINUTE: String(BUDGET) });
  assert.equal(await send(2 * BUDGET), BUDGET);
});

test('F5 control: an in-process limiter (RATE_LIMIT_STORE=memory) would let twice the budget through', async () => {
  const send = await twoInstances({ RATE_LIMIT_TOKEN_PER_MINUTE: String(BUDGET), RATE_LIMIT_STORE: 'memory' });
  assert.equal(await send(2 * BUDGET), 2 * BUDGET,
    'per-process counting fails the shared-budget property, so the F5 test above can fail');
});
