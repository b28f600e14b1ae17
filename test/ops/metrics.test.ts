// Operations: Prometheus metrics on the internal listener only; bounded pool waits (F2).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import request from 'supertest';
import { DatabaseBusy, transactionCapacity, withContext } from '../../src/db/context.js';
import { openAppPool } from '../../src/db/database.js';
import { endpointLabel } from '../../src/ops/metrics.js';
import { first } from '../support/database.js';
import { startTestService } from '../support/service.js';

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

test('metric labels never carry raw tenant paths or ids', () => {
  assert.equal(endpointLabel('/t/acme/mcp'), '/t/:tenant/mcp');
  assert.equal(endpointLabel('/t/globex/internal/mcp'), '/t/:tenant/internal/mcp');
  assert.equal(endpointLabel('/.well-known/oauth-protected-resource/t/acme/mcp'), '/.well-known/oauth-protected-resource/t/:tenant/mcp');
  assert.equal(endpointLabel('/some/random/1234'), 'other');
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
