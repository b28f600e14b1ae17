// Benchmark child: the whole commerce-mcp service on an embedded PostgreSQL with benchmark data
// (the demo seed plus BENCH_ORDERS volume orders in acme), and a real access token minted in the
// token table exactly as the token endpoint mints it. Prints one JSON line for bench/run.ts.
import { readdirSync, writeFileSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { Socket } from 'node:net';
import postgres from 'postgres';
import { loadConfig } from '../src/config.js';
import { createLogger } from '../src/log.js';
import { startService } from '../src/service.js';
import { withContext } from '../src/db/context.js';
import { mintAccessToken } from '../src/authz/tokens.js';
import { resourceFor } from '../src/authz/resources.js';
import { seedVolumeInDatabase } from '../src/seed/volume.js';
import { clusterCpuMs } from './proc.js';

// `prepare` builds the database (seed + volume) in a process of its own and exits, so that the
// serving process's peak RSS is the serving process's alone.
const mode = process.argv[2] === 'prepare' ? 'prepare' : 'serve';
const dataDir = process.env.BENCH_DATA_DIR ?? '/tmp/commerce-mcp-bench';
const orders = Number(process.env.BENCH_ORDERS ?? 10_000);
if (mode === 'prepare') await rm(dataDir, { recursive: true, force: true });
const rateLimitStore = process.env.BENCH_RATE_LIMIT_STORE ?? 'postgres';
const config = loadConfig({
  // 'off' (no rate limits: to measure what they cost) is refused in production mode.
  NODE_ENV: rateLimitStore === 'off' ? 'test' : 'production',
  HOST: '127.0.0.1', PORT: '0', INTERNAL_HOST: '127.0.0.1', INTERNAL_PORT: '0',
  DATA_DIR: dataDir, EMBEDDED_PG_PORT: process.env.BENCH_PG_PORT ?? '55610',
  LOG_LEVEL: process.env.BENCH_LOG_LEVEL ?? 'warn', SEED_DEMO: mode === 'prepare' ? 'true' : 'false',
  DATABASE_POOL_MAX: process.env.BENCH_POOL ?? '40',
  // Limits are counted on every call (the cost under test) but set high enough never to refuse;
  // BENCH_RATE_LIMIT_STORE=memory measures the per-process store instead of the shared one.
  RATE_LIMIT_STORE: rateLimitStore,
  RATE_LIMIT_TOKEN_PER_MINUTE: '1000000', RATE_LIMIT_SUBJECT_PER_MINUTE: '1000000', RATE_LIMIT_SUBJECT_SHARE_PERCENT: '100', RATE_LIMIT_CLIENT_PER_MINUTE: '10000000', RATE_LIMIT_TENANT_PER_MINUTE: '10000000',
});
const service = await startService(config, createLogger(config));
const owner = postgres(service.db.ownerUrl, { max: 4, onnotice: () => {} });
if (mode === 'prepare') {
  // Generated in the database (generate_series): no rows through this process, shipment events included.
  // One bulk customer per 50 orders, at least 2,000 (1 M orders: 20,000 customers).
  const started = performance.now();
  const databaseDir = service.db.embedded?.databaseDir;
  const pg0 = clusterCpuMs(databaseDir);
  const volume = orders > 0 ? await seedVolumeInDatabase(owner, { tenant: 'acme', orders, customers: Math.max(2_000, Math.round(orders / 50)) }) : undefined;
  const filled = performance.now();
  // PostgreSQL's CPU for the fill: the figure that does not depend on what else the machine runs.
  const fillCpuSeconds = Math.round((clusterCpuMs(databaseDir) - pg0) / 100) / 10;
  // Vacuum too: a freshly filled database otherwise has autovacuum working through it during the run.
  await owner`vacuum analyze`;
  process.stderr.write(`prepare: ${orders} orders in ${((filled - started) / 1000).toFixed(1)} s, PostgreSQL CPU ${fillCpuSeconds} s (${volume ? Object.entries(volume.rows).map(([t, n]) => `${t} ${n}`).join(', ') : 'no volume'}), vacuum analyze ${((performance.now() - filled) / 1000).toFixed(1)} s\n`);
  await owner.end();
  await service.close();
  // What bench/run.ts checks before it reuses this database (BENCH_SCALE).
  writeFileSync(`${dataDir}/prepared.json`, JSON.stringify({ orders, migrations: readdirSync('migrations').filter((f) => f.endsWith('.sql')).sort(),
    fillSeconds: Math.round((filled - started) / 100) / 10, fillCpuSeconds }));
  process.stdout.write('{"prepared":true}\n');
  process.exit(0);
}
const count = (await owner<{ count: number }[]>`select count(*)::int as count from orders`)[0]!.count;
await owner.end();

const sql = service.services.sql;
/** A real access token for a customer of `slug` (alice in acme; the customer with most orders elsewhere) and one of their orders. */
async function customerCall(slug: 'acme' | 'globex') {
  const [tenant] = await sql<{ id: string }[]>`select id from tenants where slug = ${slug}`;
  const resource = resourceFor(service.config, slug, 'customer');
  const minted = await withContext(sql, { kind: 'auth', tenantId: tenant!.id }, async (tx) => {
    await tx`insert into oauth_clients (tenant_id, client_id, name, redirect_uris, audience, source)
             values (${tenant!.id}, 'bench-client', 'Benchmark client', '{http://127.0.0.1/callback}', 'customer', 'preregistered')
             on conflict do nothing`;
    const [customer] = slug === 'acme'
      ? await tx<{ id: string }[]>`select id from customers where email = 'alice@acme.example'`
      : await tx<{ id: string }[]>`select c.id from customers c order by c.created_at limit 1`;
    const token = await mintAccessToken(tx, {
      tenantId: tenant!.id, familyId: null, clientId: 'bench-client', subjectKind: 'customer', subjectId: customer!.id,
      resource, scope: 'orders returns catalog cart', ttlSeconds: 3600,
    });
    return { ...token, customerId: customer!.id };
  });
  // acme: Alice's late, in-transit order (the "where is my order" call with shipments, carrier, driver,
  // cause), from the demo seed (volume shipments are tracked VX…): the same order, the same answer, at
  // every data volume, so that 10 k and 1 M orders compare like for like.
  const [order] = await withContext(sql, { kind: 'customer', tenantId: tenant!.id, customerId: minted.customerId }, (tx) => slug === 'acme'
    ? tx<{ number: string }[]>`select o.number from orders o join shipments s on s.tenant_id = o.tenant_id and s.order_id = o.id
                               where s.late_cause_code is not null and s.tracking_number not like 'VX%' order by o.placed_at desc limit 1`
    : tx<{ number: string }[]>`select o.number from orders o order by o.placed_at desc limit 1`);
  if (!order) throw new Error(`bench: no order for a customer of ${slug}`);
  return { tenantId: tenant!.id, url: resource, token: minted.token, customerId: minted.customerId, orderNumber: order.number };
}
const acme = await customerCall('acme');
const globex = await customerCall('globex');
process.stdout.write(`${JSON.stringify({ url: acme.url, token: acme.token, orderNumber: acme.orderNumber, orders: count,
  appUrl: service.db.appUrl, ownerUrl: service.db.ownerUrl, tenantId: acme.tenantId, customerId: acme.customerId,
  databaseDir: service.db.embedded?.databaseDir ?? '', pgPort: config.database.embeddedPort, dataDir,
  url2: globex.url, token2: globex.token, orderNumber2: globex.orderNumber })}\n`);

// Statements and round trips to PostgreSQL, counted on the wire (bench only): a flight is a socket
// write to the database after an answer came back on that socket (writes in between, e.g. a buffer
// flushed at 1 KiB, belong to the same flight); its Execute ('E') and simple Query ('Q') messages
// are statements. SIGUSR2 writes the counters to wire.json in the data directory (bench/run.ts).
const wire = { writes: 0, statements: 0 };
const pgPort = config.database.embeddedPort;
const answered = new WeakSet<Socket>();
const originalWrite = Socket.prototype.write;
const originalEmit = Socket.prototype.emit;
Socket.prototype.write = function (this: Socket, chunk: unknown, ...rest: unknown[]) {
  if (this.remotePort === pgPort && chunk instanceof Uint8Array) {
    if (answered.has(this) || !seen.has(this)) wire.writes++;
    seen.add(this);
    answered.delete(this);
    for (let i = 0; i + 5 <= chunk.length;) {
      const type = chunk[i]!;
      if (type === 0x45 || type === 0x51) wire.statements++;
      i += 1 + ((chunk[i + 1]! << 24) | (chunk[i + 2]! << 16) | (chunk[i + 3]! << 8) | chunk[i + 4]!);
    }
  }
  return (originalWrite as (...a: unknown[]) => boolean).call(this, chunk, ...rest);
} as typeof Socket.prototype.write;
const seen = new WeakSet<Socket>();
Socket.prototype.emit = function (this: Socket, event: string | symbol, ...args: unknown[]) {
  if (event === 'data' && this.remotePort === pgPort) answered.add(this);
  return (originalEmit as (...a: unknown[]) => boolean).call(this, event, ...args);
} as typeof Socket.prototype.emit;
process.on('SIGUSR2', () => writeFileSync(`${dataDir}/wire.json`, JSON.stringify(wire)));
const stop = async () => {
  await service.close().catch(() => {});
  process.exit(0);
};
// In-flight requests may still hold connections while PostgreSQL stops: not a benchmark result.
process.on('uncaughtException', () => process.exit(0));
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
