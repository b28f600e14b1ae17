// npm run seed -- [--orders N] [--tenant acme] [--customers 10000] [--batch 10000] [--concurrency 2] [--no-demo]
//
// Uses the database the service uses (DATABASE_URL, the running service's embedded server, or an
// embedded server of its own under DATA_DIR, migrated), seeds the demo tenants if they are missing,
// and with --orders bulk-fills one tenant with that many more orders (lines, shipments, payments),
// printing elapsed time and rows/s. Exit status 0 done, 1 failed, 2 usage error.
import { parseArgs } from 'node:util';
import { seedDemo } from '../seed/demo.js';
import { seedVolume } from '../seed/volume.js';
import { commandConfig, reportError, UsageError, withOwnerDatabase } from './owner.js';
import { EXIT, exitWith, watchTerminal, writeLine } from './terminal.js';

const USAGE = 'usage: npm run seed -- [--orders N] [--tenant SLUG] [--customers N] [--batch N] [--concurrency N] [--no-demo]';

function positiveInt(name: string, value: string | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  const n = Number(value.replace(/_/g, ''));
  if (!Number.isInteger(n) || n < 1) throw new UsageError(`--${name} must be a positive integer, got "${value}"`);
  return n;
}

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
  if (values.help) return writeLine(USAGE);
  const orders = values.orders === undefined ? 0 : positiveInt('orders', values.orders, 0);
  const customers = positiveInt('customers', values.customers, 10_000);
  const batchSize = positiveInt('batch', values.batch, 10_000);
  const concurrency = positiveInt('concurrency', values.concurrency, 2);

  const config = commandConfig();
  showStack = config.logLevel === 'debug' || config.logLevel === 'trace';
  await withOwnerDatabase(config, async (owner) => {
    if (!values['no-demo']) {
      const demo = await seedDemo(owner);
      writeLine(demo.seeded
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
      writeLine(`volume: ${summary.orders.toLocaleString('en')} orders (${summary.firstNumber}..${summary.lastNumber}) into ${summary.tenant}`);
      writeLine(`  rows: ${Object.entries(summary.rows).map(([t, n]) => `${t} ${n.toLocaleString('en')}`).join(', ')}`);
      writeLine(`  elapsed ${(summary.elapsedMs / 1000).toFixed(1)} s, ${rowCount.toLocaleString('en')} rows, ${summary.rowsPerSecond.toLocaleString('en')} rows/s, ` +
        `${Math.round(summary.orders / (summary.elapsedMs / 1000)).toLocaleString('en')} orders/s`);
    }
  }, concurrency + 1);
}

let showStack = false;
watchTerminal(() => showStack);
main().then(
  () => exitWith(EXIT.ok),
  (error: unknown) => {
    const code = reportError(error, showStack);
    // An option of its own was wrong (not the environment): show how to call it.
    if (error instanceof TypeError || (error instanceof UsageError && error.message.startsWith('--'))) process.stderr.write(`${USAGE}\n`);
    exitWith(code);
  },
);
