// Operations: Prometheus metrics on the internal listener only; bounded pool waits (F2).
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { METHODS, request as httpRequest } from 'node:http';
import { test } from 'node:test';
import request from 'supertest';
import { DatabaseBusy, transactionCapacity, withContext } from '../../src/db/context.js';
import { openAppPool } from '../../src/db/database.js';
import { endpointLabel, methodLabel, statusLabel, toolLabel } from '../../src/ops/metrics.js';
import { first } from '../support/database.js';
import { GENEROUS_BUDGETS, startTestService, type TestService } from '../support/service.js';
import { customerToken, customerUrl, post, toolCall } from '../servers/helpers.js';

test('metrics are scrapeable on the internal listener and absent from the public one', async () => {
  const service = await startTestService();
  await request(service.publicUrl).get('/healthz').expect(200);
  await request(service.publicUrl).get('/t/acme/mcp').expect((r) => assert.ok(r.status >= 400));
  const res = await request(service.internalUrl).get('/metrics').expect(200);
  assert.match(res.headers['content-type'] as string, /text\/plain/);
  for (const series of [
    'commerce_http_request_duration_seconds_bucket{',
    'commerce_db_pool_in_use',
    'commerce_db_pool_size',
    'commerce_pending_approvals{tenant="acme"}',
    'commerce_mcp_tool_call_duration_seconds',
    'commerce_rate_limit_rejections_total',
    'process_resident_memory_bytes',
  ]) assert.ok(res.text.includes(series), `exposes ${series}`);
  assert.match(res.text, /commerce_http_request_duration_seconds_count\{listener="public",method="GET",endpoint="\/healthz",status="200"\} \d+/);
  await request(service.publicUrl).get('/metrics').expect(404);
});

test('L2 metric labels come from closed sets: route templates, known methods, fixed statuses, known tools', () => {
  assert.equal(endpointLabel('/t/:slug/mcp'), '/t/:tenant/mcp');
  assert.equal(endpointLabel('/t/:slug/internal/mcp'), '/t/:tenant/internal/mcp');
  assert.equal(endpointLabel('/.well-known/oauth-protected-resource/t/:slug/mcp'), '/.well-known/oauth-protected-resource/t/:tenant/mcp');
  assert.equal(endpointLabel(undefined), 'other', 'no route answered');
  assert.equal(methodLabel('GET'), 'GET');
  assert.equal(methodLabel('PROPFIND'), 'other');
  assert.equal(statusLabel(429), '429');
  assert.equal(statusLabel(418), '4xx');
  assert.equal(toolLabel('search_orders'), 'search_orders');
  assert.equal(toolLabel('list_orders'), 'list_orders');
  assert.equal(toolLabel('drop_tables_1234'), 'other');
});

/** Every commerce_* series of a scrape, by name and labels (values left out). */
async function seriesOf(service: TestService): Promise<string[]> {
  const res = await request(service.internalUrl).get('/metrics').expect(200);
  return res.text.split('\n').filter((l) => l.startsWith('commerce_')).map((l) => l.slice(0, l.lastIndexOf(' '))).sort();
}

function rawRequest(base: string, method: string, path: string, headers: Record<string, string> = {}): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(new URL(path, base), { method, headers, agent: false }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
    });
    req.on('error', reject);
    req.end();
  });
}

const random = () => randomBytes(6).toString('hex');
const ODD_METHODS = METHODS.filter((m) => !['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS', 'CONNECT'].includes(m));

/** One of each kind of request an anonymous (or token-holding) stranger can vary at will. */
async function strangeRequests(service: TestService, token: string): Promise<void> {
  const n = random();
  const paths = [
    `/.well-known/${n}`, `/.well-known/oauth-authorization-server/t/${n}`, `/.well-known/oauth-protected-resource/t/${n}/mcp`,
    `/.well-known/oauth-authorization-server/${n}/t/acme`, `/t/${n}/mcp`, `/t/acme/${n}`, `/${n}/${n}`, `/t/acme/token?${n}=${n}`,
  ];
  for (const path of paths) assert.ok((await rawRequest(service.publicUrl, 'GET', path, { [`x-${n}`]: n })) >= 400, path);
  await rawRequest(service.publicUrl, ODD_METHODS[randomBytes(1)[0]! % ODD_METHODS.length]!, `/${n}`);
  await rawRequest(service.publicUrl, ODD_METHODS[randomBytes(1)[0]! % ODD_METHODS.length]!, '/t/acme/token');
  await rawRequest(service.internalUrl, 'GET', `/console/${n}`);
  const call = await post(customerUrl(service, 'acme'), toolCall(`tool_${n}`, {}), { Authorization: `Bearer ${token}` });
  assert.equal(call.status, 200);
  assert.match(await call.text(), /Unknown tool/);
}

test('L2 random paths, methods and tool names leave the metrics the same size after warm-up', async () => {
  const service = await startTestService(GENEROUS_BUDGETS);
  const { token } = await customerToken(service, 'acme', 'alice@acme.example');
  // Warm-up: one request of each kind, and a scrape (whose own series appears from the second on).
  await strangeRequests(service, token);
  await seriesOf(service);
  const before = await seriesOf(service);
  for (let i = 0; i < 40; i++) await strangeRequests(service, token);
  const after = await seriesOf(service);
  assert.deepEqual(after.filter((s) => !before.includes(s)), [], 'no new series');
  assert.equal(after.length, before.length);
  assert.ok(after.some((s) => s.includes('endpoint="other"')), 'unmatched requests are counted as "other"');
  assert.ok(after.some((s) => s.includes('method="other"')), 'odd methods are counted as "other"');
  assert.ok(after.some((s) => s.startsWith('commerce_mcp_tool_call_duration_seconds_count') && s.includes('tool="other"')), 'unknown tools are counted as "other"');
});

test('F2 a full pool gives a bounded wait then DatabaseBusy; another tenant still gets its share', async () => {
  const service = await startTestService();
  const sql = openAppPool(service.database.appUrl, 4);
  try {
    const tenantId = async (slug: string) =>
      first(await service.database.owner<{ id: string }[]>`select id from tenants where slug = ${slug}`).id;
    const acme = await tenantId('acme');
    const globex = await tenantId('globex');
    const sleep = (tenantId: string, seconds: number) =>
      withContext(sql, { kind: 'auth', tenantId }, (tx) => tx`select pg_sleep(${seconds})`);
    const quick = (tenantId: string) => withContext(sql, { kind: 'auth', tenantId }, (tx) => tx<{ ok: number }[]>`select 1 as ok`);

    // 4 connections: 3 for transactions (one stays free for statements beside them), of which
    // acme may hold 2; globex still gets the third at once.
    assert.deepEqual(transactionCapacity(sql), { capacity: 3, tenantShare: 2 });
    const acmeHogs = [sleep(acme, 1.5), sleep(acme, 1.5)];
    const acmeFourth = quick(acme); // waits for one of acme's own slots
    assert.equal((await quick(globex))[0]!.ok, 1);
    await Promise.all(acmeHogs);
    assert.equal((await acmeFourth)[0]!.ok, 1, 'a short wait is served');

    // A pool full for longer than the bound (2 s): the newcomer is refused, not queued forever.
    const full = [sleep(globex, 3), sleep(globex, 3), sleep(acme, 3)];
    await assert.rejects(quick(acme), DatabaseBusy);
    await Promise.all(full);
  } finally {
    await sql.end();
  }
});

test('F2 the pool sets statement and idle-in-transaction timeouts', async () => {
  const service = await startTestService();
  const [row] = await service.db.sql<{ s: string; i: string }[]>`
    select current_setting('statement_timeout') as s, current_setting('idle_in_transaction_session_timeout') as i`;
  assert.equal(row!.s, '5s');
  assert.equal(row!.i, '10s');
});
