// The outbox survives restarts (issue 12 item 4; docs/WEBHOOKS.md "Delivery"; F1 for webhooks): the
// service runs on an embedded PostgreSQL of its own (temporary DATA_DIR, free port), as in
// test/faults/postgres-restart.test.ts. Events are written while the receiver is down; PostgreSQL
// is stopped and started again under the running service; later the service itself is stopped and
// a new one started on the same data; finally two instances share the database. Expected: every
// event is delivered, none accepted twice (the receiver dedupes by webhook-id, and counts raw
// deliveries: more than one only after a failed answer), and two instances never send one event
// at the same time. Waits are bounded polls, never timed assertions.
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import postgres from 'postgres';
import { loadConfig } from '../../src/config.js';
import { withContext } from '../../src/db/context.js';
import { startEmbeddedPostgres, type EmbeddedDatabase } from '../../src/db/embedded.js';
import { createLogger } from '../../src/log.js';
import { startService, type RunningService } from '../../src/service.js';
import { enqueueWebhookEvent } from '../../src/webhooks/outbox.js';
import { addSubscription } from '../../src/webhooks/subscriptions.js';
import { freePort } from '../faults/support.js';
import { eventually, Receiver } from './receiver.js';

test('F1 webhooks: nothing lost across a PostgreSQL restart and a service restart; two instances never deliver one event at once', { timeout: 300_000 }, async () => {
  const dataDir = await mkdtemp(join(tmpdir(), 'commerce-mcp-outbox-'));
  const pgPort = await freePort();
  const env = {
    NODE_ENV: 'development', DATA_DIR: dataDir, EMBEDDED_PG_PORT: String(pgPort), HOST: '127.0.0.1', PORT: '0', INTERNAL_HOST: '127.0.0.1',
    INTERNAL_PORT: '0', LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'silent', SEED_DEMO: 'false', ALLOW_PRIVATE_NETWORK_FETCH: 'true',
    WEBHOOK_POLL_INTERVAL_MS: '100', WEBHOOK_RETRY_BASE_MS: '200', WEBHOOK_MAX_ATTEMPTS: '30',
  };
  const config = loadConfig(env);
  const log = createLogger(config);
  const receiver = await new Receiver().start();
  const services: RunningService[] = [];
  let restarted: EmbeddedDatabase | undefined;
  let owner: postgres.Sql | undefined;
  after(async () => {
    await receiver.stop();
    await owner?.end({ timeout: 1 }).catch(() => {});
    for (const s of services.reverse()) await s.close().catch(() => {});
    await restarted?.stop().catch(() => {});
    await rm(dataDir, { recursive: true, force: true });
  });

  const first = await startService(config, log);
  services.push(first);
  assert.ok(first.db.embedded, 'embedded PostgreSQL of its own');
  owner = postgres(first.db.ownerUrl, { max: 2, onnotice: () => {}, connect_timeout: 5 });
  const db = owner;
  const [tenant] = await db<{ id: string }[]>`insert into tenants (slug, name) values ('outbox-test', 'Outbox test') returning id`;
  await db`insert into tenant_settings (tenant_id) values (${tenant!.id})`;
  const sub = await addSubscription(db, config, tenant!.id, { url: receiver.url, events: ['order.placed', 'return.requested'] });
  receiver.secret = sub.secret;

  /** Writes `n` events in one transaction (retried while PostgreSQL comes back: it is the test's own write). */
  const enqueue = async (n: number, tag: string): Promise<string[]> => {
    for (let attempt = 0; ; attempt++) {
      try {
        return await db.begin(async (tx) => {
          const ids: string[] = [];
          for (let i = 0; i < n; i++) {
            ids.push(await enqueueWebhookEvent(tx, tenant!.id, i % 2 ? 'return.requested' : 'order.placed',
              i % 2 ? { return_number: `RMA-${tag}-${i}`, order_number: `ORD-${tag}-${i}`, lines: 1 } : { order_number: `ORD-${tag}-${i}`, total_cents: 100 + i, currency: 'EUR', lines: 1 }));
          }
          return ids;
        }) as string[];
      } catch (error) {
        if (attempt >= 50) throw error;
        await new Promise((r) => setTimeout(r, 200));
      }
    }
  };
  const tried = (ids: string[]) => ids.every((id) => receiver.failures(id) >= 1);
  const delivered = (ids: string[]) => ids.every((id) => receiver.accepted.has(id));

  // ---------- PostgreSQL restarted under the running service ----------
  receiver.answer = () => 503; // down: every attempt fails, the events stay in the outbox
  const beforeRestart = await enqueue(10, 'pg');
  await eventually(() => tried(beforeRestart), 'each event attempted while the receiver is down');
  await first.db.embedded!.stop();
  restarted = await startEmbeddedPostgres(dataDir, pgPort, log);
  const afterRestart = await enqueue(10, 'pg2');
  receiver.answer = () => 200;
  await eventually(() => delivered([...beforeRestart, ...afterRestart]), 'every event delivered after the PostgreSQL restart', 120_000);

  // ---------- the service restarted ----------
  receiver.answer = () => 503;
  const beforeServiceRestart = await enqueue(10, 'svc');
  await eventually(() => tried(beforeServiceRestart), 'attempted before the service stops');
  await first.close().catch(() => {});
  services.pop();
  await restarted.stop();
  restarted = undefined;
  const second = await startService(config, log); // the same DATA_DIR: the same cluster, the same sealing key
  services.push(second);
  receiver.answer = () => 200;
  await eventually(() => delivered(beforeServiceRestart), 'every event delivered by the new service', 120_000);

  // ---------- two instances on one database ----------
  const third = await startService(loadConfig({ ...env, DATABASE_URL: second.db.ownerUrl }), log);
  services.push(third);
  assert.ok(second.webhookWorker && third.webhookWorker, 'both instances run a delivery worker');
  receiver.holdMs = 20; // each delivery takes a while: a second sender of the same event would overlap it
  const shared = await enqueue(40, 'two');
  await eventually(() => delivered(shared), 'every event delivered with two instances', 120_000);

  // ---------- what the receiver saw ----------
  const all = [...beforeRestart, ...afterRestart, ...beforeServiceRestart, ...shared];
  // At least once: across a restart an answer the sender could not record may be sent again (the
  // receiver dedupes by id, and sees each event once); with both instances up and no fault, exactly once.
  for (const id of all) assert.ok(receiver.accepted.has(id), `${id} delivered`);
  for (const id of shared) {
    const successes = receiver.rawCount(id) - receiver.failures(id);
    assert.equal(successes, 1, `${id}: accepted once (raw ${receiver.rawCount(id)}, failed ${receiver.failures(id)})`);
  }
  for (const id of shared) assert.equal(receiver.rawCount(id), 1, `${id}: no failure, so no second delivery`);
  assert.equal(receiver.maxInFlightPerId, 1, 'never two deliveries of one event at the same time');
  assert.ok(receiver.raw.every((r) => r.verified), 'every delivery signed with the subscription secret');
  assert.equal(receiver.accepted.size, all.length);
  // Outcomes are recorded after the receiver answered: wait until the last is, then nothing is left pending.
  const state = async () => (await withContext(second.db.sql, { kind: 'system', tenantId: tenant!.id }, (tx) => tx<{ pending: number; delivered: number }[]>`
    select count(*) filter (where status = 'pending')::int as pending, count(*) filter (where status = 'delivered')::int as delivered
    from webhook_deliveries`))[0]!;
  await eventually(async () => (await state()).pending === 0, 'every outcome recorded');
  assert.deepEqual({ ...(await state()) }, { pending: 0, delivered: all.length });
});
