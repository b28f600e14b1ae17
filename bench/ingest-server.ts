// Benchmark child for bench/ingest.ts: the whole service on an embedded PostgreSQL, one empty
// tenant, a service client with ingest:write and an access token minted in the token table as the
// token endpoint mints it. Prints one JSON line, then serves until it is stopped.
import { rm } from 'node:fs/promises';
import postgres from 'postgres';
import { createPreregisteredClient } from '../src/authz/clients.js';
import { ingestResourceFor } from '../src/authz/resources.js';
import { mintAccessToken } from '../src/authz/tokens.js';
import { loadConfig } from '../src/config.js';
import { withContext } from '../src/db/context.js';
import { createLogger } from '../src/log.js';
import { startService } from '../src/service.js';

const dataDir = process.env.BENCH_DATA_DIR ?? '/tmp/commerce-mcp-bench-ingest';
await rm(dataDir, { recursive: true, force: true });
const config = loadConfig({
  NODE_ENV: 'production', HOST: '127.0.0.1', PORT: '0', INTERNAL_HOST: '127.0.0.1', INTERNAL_PORT: '0',
  DATA_DIR: dataDir, EMBEDDED_PG_PORT: process.env.BENCH_PG_PORT ?? '55620', LOG_LEVEL: process.env.BENCH_LOG_LEVEL ?? 'warn',
  SEED_DEMO: 'false', DATABASE_POOL_MAX: '10',
  ...(process.env.INGEST_CHUNK_RECORDS ? { INGEST_CHUNK_RECORDS: process.env.INGEST_CHUNK_RECORDS } : {}),
});
const service = await startService(config, createLogger(config));
const owner = postgres(service.db.ownerUrl, { max: 1, onnotice: () => {} });
const [tenant] = await owner<{ id: string }[]>`insert into tenants (slug, name) values ('benchshop', 'Bench Shop') returning id`;
await owner`insert into tenant_settings (tenant_id) values (${tenant!.id})`;
const client = await createPreregisteredClient(owner, tenant!.id, { name: 'Bench uploader', audience: 'service', redirectUris: [], scope: 'ingest:write', confidential: true });
await owner.end();
const url = ingestResourceFor(service.config, 'benchshop');
const minted = await withContext(service.services.sql, { kind: 'auth', tenantId: tenant!.id }, (tx) => mintAccessToken(tx, {
  tenantId: tenant!.id, familyId: null, clientId: client.clientId, subjectKind: 'service', subjectId: null, resource: url, scope: 'ingest:write', ttlSeconds: 3600,
}));
process.stdout.write(`${JSON.stringify({ url, token: minted.token, pid: process.pid })}\n`);
process.once('SIGTERM', () => void service.close().then(() => process.exit(0)));
