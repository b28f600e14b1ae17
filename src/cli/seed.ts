// npm run seed -- [--orders N] [--tenant acme] [--customers 10000] [--batch 10000] [--concurrency 2] [--no-demo]
//
// Opens the database the way the service does (embedded PostgreSQL under DATA_DIR, or DATABASE_URL),
// applies migrations, seeds the demo tenants if they are missing, and with --orders bulk-fills one
// tenant with that many more orders (lines, shipments, payments), printing elapsed time and rows/s.
import { parseArgs } from 'node:util';
import postgres from 'postgres';
import { loadConfig } from '../config.js';
import { openDatabase } from '../db/database.js';
import { createLogger } from '../log.js';
import { seedDemo } from '../seed/demo.js';
import { seedVolume } from '../seed/volume.js';

const USAGE = 'usage: npm run seed -- [--orders N] [--tenant SLUG] [--customers N] [--batch N] [--concurrency N] [--no-demo]';

function positiveInt(name: string, value: string | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  const n = Number(value.replace(/_/g, ''));
  if (!Number.isInteger(n) || n < 1) throw new UsageError(`--${name} must be a positive integer, got "${value}"`);
  return n;
}

class UsageError extends Error {}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      orders: { type: 'string' },
      tenant: { type: 'string', default: 'acme' },
      customers: { type: 'string' },
      batch: { type: 'string' },
      concurrency: { type: 'string' },
      'no-demo': { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h', default: false },
    },
    strict: true,
  });
  if (values.help) {
    console.log(USAGE);
    return;
  }
  const orders = values.orders === undefined ? 0 : positiveInt('orders', values.orders, 0);
  const customers = positiveInt('customers', values.customers, 10_000);
  const batchSize = positiveInt('batch', values.batch, 10_000);
  const concurrency = positiveInt('concurrency', values.concurrency, 2);

  const config = loadConfig();
  const log = createLogger(config);
  const db = await openDatabase(config, log);
  const owner = postgres(db.ownerUrl, { max: concurrency + 1, onnotice: () => {} });
  try {
    if (!values['no-demo']) {
      const demo = await seedDemo(owner);
      console.log(demo.seeded
        ? `demo tenants seeded in ${demo.elapsedMs} ms: ${demo.tenants.map((t) => `${t.slug} (${t.counts.orders} orders)`).join(', ')}`
        : `demo tenants: ${demo.reason}, left as they are`);
    }
    if (orders > 0) {
      let lastReport = 0;
      const summary = await seedVolume(owner, {
        tenant: values.tenant,
        orders,
        customers,
        batchSize,
        concurrency,
        onProgress(done, total) {
          const now = Date.now();
          if (now - lastReport > 2000 || done === total) {
            lastReport = now;
            process.stderr.write(`  ${done.toLocaleString('en')} / ${total.toLocaleString('en')} orders\n`);
          }
        },
      });
      const rowCount = Object.values(summary.rows).reduce((a, b) => a + b, 0);
      console.log(`volume: ${summary.orders.toLocaleString('en')} orders (${summary.firstNumber}..${summary.lastNumber}) into ${summary.tenant}`);
      console.log(`  rows: ${Object.entries(summary.rows).map(([t, n]) => `${t} ${n.toLocaleString('en')}`).join(', ')}`);
      console.log(`  elapsed ${(summary.elapsedMs / 1000).toFixed(1)} s, ${rowCount.toLocaleString('en')} rows, ${summary.rowsPerSecond.toLocaleString('en')} rows/s, ` +
        `${Math.round(summary.orders / (summary.elapsedMs / 1000)).toLocaleString('en')} orders/s`);
    }
  } finally {
    await owner.end({ timeout: 5 });
    await db.close();
  }
}

main().catch((error: unknown) => {
  if (error instanceof UsageError || (error instanceof TypeError && 'code' in error && String(error.code).startsWith('ERR_PARSE_ARGS'))) {
    console.error(`${error.message}\n${USAGE}`);
    process.exitCode = 2;
    return;
  }
  console.error(error instanceof Error ? error.message : error);
  process.exitCode = 1;
});
