// The service as `npm start` runs it: embedded PostgreSQL in a fresh data folder, migrated, seeded,
// answering /healthz and /readyz; a second start reuses the data; a stop stops PostgreSQL.
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import request from 'supertest';
import { loadConfig } from '../src/config.js';
import { createLogger } from '../src/log.js';
import { startService } from '../src/service.js';
import { startTestService } from './support/service.js';

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

test('starts on the embedded database with demo data; /readyz answers 200; data survives a restart', async () => {
  const dataDir = await mkdtemp(join(tmpdir(), 'commerce-mcp-'));
  try {
    const config = loadConfig({ DATA_DIR: dataDir, EMBEDDED_PG_PORT: String(await freePort()), PORT: '0', INTERNAL_PORT: '0', LOG_LEVEL: 'silent' });
    const first = await startService(config, createLogger(config));
    try {
      assert.ok(first.db.embedded, 'embedded PostgreSQL in use');
      await request(first.publicUrl).get('/healthz').expect(200, { status: 'ok' });
      await request(first.publicUrl).get('/readyz').expect(200, { status: 'ready' });
      await request(first.internalUrl).get('/readyz').expect(200);
      assert.deepEqual((await first.services.tenants.list()).map((t) => t.slug).filter((s) => s !== 'canary').slice(0, 2), ['acme', 'globex']);
    } finally {
      await first.close();
    }
    const second = await startService(config, createLogger(config));
    try {
      const tenants = await second.services.tenants.list();
      assert.ok(tenants.some((t) => t.slug === 'acme'), 'demo data kept across restarts');
    } finally {
      await second.close();
    }
  } finally {
    await rm(dataDir, { recursive: true, force: true });
  }
});

test('unknown paths get a JSON 404; errors carry a request id and never a stack trace', async () => {
  const service = await startTestService();
  const res = await request(service.publicUrl).get('/nope').set('X-Request-Id', 'req-123').expect(404);
  assert.equal(res.headers['x-request-id'], 'req-123');
  assert.equal(res.body.error, 'not_found');
  const bad = await request(service.publicUrl).get('/healthz').set('X-Request-Id', 'bad id with spaces');
  assert.match(bad.headers['x-request-id'] as string, /^[0-9a-f-]{36}$/, 'an unsafe request id is replaced');
});

test('readiness reflects the database: 503 with Retry-After when the pool is gone', async () => {
  const service = await startTestService();
  await request(service.publicUrl).get('/readyz').expect(200);
  await service.db.sql.end({ timeout: 1 });
  const res = await request(service.publicUrl).get('/readyz').expect(503);
  assert.equal(res.headers['retry-after'], '5');
  assert.doesNotMatch(JSON.stringify(res.body), /at \w+ \(|Error:/);
});
