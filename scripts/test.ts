// `npm test`: one PostgreSQL for the whole run (embedded, or TEST_DATABASE_URL as a superuser), a
// migrated and seeded template database, then node's test runner over test/**/*.test.ts. Each test
// file clones the template into a database of its own (test/support/database.ts).
import { spawn } from 'node:child_process';
import { createServer, type AddressInfo } from 'node:net';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import postgres from 'postgres';
import { startEmbeddedPostgres, type EmbeddedDatabase } from '../src/db/embedded.js';
import { migrate } from '../src/db/migrate.js';
import { provisionDatabase } from '../src/db/roles.js';
import { createLogger } from '../src/log.js';
import { seedDemo } from '../src/seed/demo.js';

const TEMPLATE = 'commerce_template';
const APP_PASSWORD = 'commerce_app_test_password';
const log = createLogger({ logLevel: 'warn' });

async function testFiles(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { withFileTypes: true, recursive: true });
  return entries
    .filter((e) => e.isFile() && e.name.endsWith('.test.ts'))
    .map((e) => join(e.parentPath, e.name))
    .sort();
}

/** A port nobody listens on now (the OS picks it), so parallel runs and stray servers never clash. */
function freePort(): Promise<number> {
  return new Promise((done, fail) => {
    const probe = createServer().once('error', fail).listen(0, '127.0.0.1', () => {
      const { port } = probe.address() as AddressInfo;
      probe.close(() => done(port));
    });
  });
}

const args = process.argv.slice(2);
const files = args.length ? args.map((a) => resolve(a)) : await testFiles(resolve('test'));

let embedded: EmbeddedDatabase | undefined;
let dataDir: string | undefined;
let superuserUrl = process.env.TEST_DATABASE_URL; // scripts are tools, not the service: they may read env
if (!superuserUrl) {
  // A folder of this run's own: two runs side by side never share (or delete) each other's server.
  dataDir = await mkdtemp(join(tmpdir(), 'commerce-mcp-test-'));
  embedded = await startEmbeddedPostgres(dataDir, Number(process.env.TEST_PG_PORT ?? (await freePort())), log);
  superuserUrl = embedded.superuserUrl;
}
let code = 1;
try {
  const admin = postgres(superuserUrl, { max: 1, onnotice: () => {} });
  await admin`select pg_terminate_backend(pid) from pg_stat_activity where datname = ${TEMPLATE} and pid <> pg_backend_pid()`;
  await admin.unsafe(`drop database if exists ${TEMPLATE}`);
  await admin.end();
  const { ownerUrl } = await provisionDatabase(superuserUrl, TEMPLATE, { owner: APP_PASSWORD + '-owner', app: APP_PASSWORD });
  await migrate(ownerUrl);
  const owner = postgres(ownerUrl, { max: 1, onnotice: () => {} });
  await seedDemo(owner);
  await owner.end();

  const child = spawn(
    process.execPath,
    ['--import', 'tsx', '--test', '--test-concurrency=2', '--test-reporter=spec', ...files],
    {
      stdio: 'inherit',
      env: { ...process.env, TEST_PG_SUPERUSER_URL: superuserUrl, TEST_TEMPLATE_DB: TEMPLATE, TEST_APP_PASSWORD: APP_PASSWORD },
    },
  );
  code = await new Promise<number>((done) => child.on('exit', (c, signal) => done(c ?? (signal ? 1 : 0))));
} finally {
  await embedded?.stop();
  if (dataDir) await rm(dataDir, { recursive: true, force: true });
}
process.exit(code);
