// `npm run attack -- --target <base URL> [options]`: runs the attack catalogue (docs/ATTACK-CATALOGUE.md)
// against a deployment and prints, row by row, the attack, the secure behaviour expected and what
// happened. Exit status 0 when every row held, 1 when any row fails (or the run crashed), 2 on a
// usage error; --help prints the options. docs/SECURITY-TESTING.md has more.
import { existsSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { EXIT, OutputClosed, exitWith, printError, watchTerminal, writeLine } from '../src/cli/terminal.js';
import { DEMO_LOGINS } from '../src/seed/demo.js';
import { ownerUrlFromDataDir } from './cleanup.js';
import type { AttackOptions, Persona } from './context.js';
import { isLoopbackUrl } from './http.js';
import type { Credentials } from './oauth.js';
import { formatTable } from './report.js';
import { runSuite } from './runner.js';

const USAGE = `usage: npm run attack -- --target <public base URL> [options]

  --internal <URL>              base URL of the internal listener (staff endpoint, approval console)
  --target2 <URL>               a second instance of the same deployment (F5: one shared rate-limit budget)
  --tenant <slug>               tenant under test (default acme)
  --other-tenant <slug>         a second tenant, for cross-tenant attacks (default globex)
  --customer <login:password>   a customer of --tenant (default: the first demo customer)
  --other-customer <l:p>        another customer of --tenant (default: the second demo customer)
  --other-tenant-customer <l:p> a customer of --other-tenant
  --staff <login:password>      a staff member of --tenant with ops:read (default: demo supply-chain manager)
  --approver <login:password>   another staff member with approver rights (A6)
  --returns <login:password>    a staff member who may refund but not approve (A7; default: demo returns specialist)
  --client-id <id> --redirect-uri <uri>   use a pre-registered public client instead of registering one
  --database-url <URL>          owner or superuser URL of the deployment's PostgreSQL (local only): R rows,
                                and the clean-up of what the run created
  --data-dir <DATA_DIR>         the running service's DATA_DIR: its connection.json gives the owner URL for
                                the clean-up (default ./data for a loopback target when ./data/connection.json exists)
  --app-database-url <URL>      the application role's URL (derived from --database-url when absent)
  --log-file <path>             the service's log (JSON lines), to scan for secrets after the run (L1)
  --only <ids>                  comma-separated row ids, e.g. O1,M7
  --json <file>                 write the JSON report there
  --timeout <ms>                per-request timeout (default 10000)
  --no-rotate-source            do not give each attack its own loopback source address (127.x.y.z) on loopback targets
  --i-own-this-target           allow targets that are not on this machine`;

export class UsageError extends Error {}
/** --help: the usage is the answer, on standard output, exit status 0. */
class HelpRequested extends Error {}

function credentials(value: string | undefined, fallback: Credentials | undefined): Credentials | undefined {
  if (value === undefined) return fallback;
  const i = value.indexOf(':');
  if (i <= 0) throw new UsageError(`credentials must be login:password, got "${value}"`);
  return { login: value.slice(0, i), password: value.slice(i + 1) };
}

function demo(tenant: string, role: string, index = 0): Credentials | undefined {
  const l = DEMO_LOGINS.filter((d) => d.tenant === tenant && d.role === role)[index];
  return l ? { login: l.login, password: l.password } : undefined;
}

function baseUrl(name: string, value: string | undefined): string | undefined {
  if (value === undefined) return undefined;
  let u: URL;
  try { u = new URL(value); } catch { throw new UsageError(`${name} is not a URL: ${value}`); }
  if (u.protocol !== 'http:' && u.protocol !== 'https:') throw new UsageError(`${name} must be http(s)`);
  return value.replace(/\/+$/, '');
}

export function parseOptions(argv: string[], log: (line: string) => void = console.error): AttackOptions & { json?: string } {
  const { values } = parseArgs({
    args: argv,
    options: {
      target: { type: 'string' }, internal: { type: 'string' }, target2: { type: 'string' },
      tenant: { type: 'string', default: 'acme' }, 'other-tenant': { type: 'string', default: 'globex' },
      customer: { type: 'string' }, 'other-customer': { type: 'string' }, 'other-tenant-customer': { type: 'string' },
      staff: { type: 'string' }, approver: { type: 'string' }, returns: { type: 'string' },
      'client-id': { type: 'string' }, 'redirect-uri': { type: 'string' },
      'database-url': { type: 'string' }, 'data-dir': { type: 'string' }, 'app-database-url': { type: 'string' }, 'app-role': { type: 'string', default: 'commerce_app' },
      only: { type: 'string' }, json: { type: 'string' }, timeout: { type: 'string', default: '10000' }, 'log-file': { type: 'string' },
      'no-rotate-source': { type: 'boolean', default: false }, 'i-own-this-target': { type: 'boolean', default: false },
      help: { type: 'boolean', default: false },
    },
    strict: true,
  });
  if (values.help) throw new HelpRequested(USAGE);
  const target = baseUrl('--target', values.target);
  if (!target) throw new UsageError(`--target is required\n\n${USAGE}`);
  const internal = baseUrl('--internal', values.internal);
  const target2 = baseUrl('--target2', values.target2);
  const urls = [target, internal, target2].filter((u): u is string => Boolean(u));
  // Load goes only where the tester says, and only to their own machine unless they say they own it.
  if (!values['i-own-this-target'] && urls.some((u) => !isLoopbackUrl(u))) {
    throw new UsageError(`refusing a target that is not on this machine (${urls.filter((u) => !isLoopbackUrl(u)).join(', ')}): pass --i-own-this-target if you are authorised to attack it`);
  }
  for (const [name, url] of [['--database-url', values['database-url']], ['--app-database-url', values['app-database-url']]] as const) {
    if (url && !values['i-own-this-target'] && !['localhost', '127.0.0.1', '[::1]', '::1'].includes(new URL(url).hostname)) {
      throw new UsageError(`${name} must point at a local PostgreSQL (the R rows are for a local service)`);
    }
  }
  // The clean-up's owner access: the given URL, or the running service's connection file.
  let cleanupDatabase: AttackOptions['cleanupDatabase'];
  if (values['database-url']) cleanupDatabase = { url: values['database-url'], source: '--database-url' };
  else {
    const dataDir = values['data-dir'] ?? (isLoopbackUrl(target) && existsSync(join('data', 'connection.json')) ? 'data' : undefined);
    if (dataDir) {
      try {
        cleanupDatabase = { url: ownerUrlFromDataDir(dataDir), source: `${join(dataDir, 'connection.json')}` };
      } catch (error) {
        if (values['data-dir']) throw new UsageError(`--data-dir: ${(error as Error).message}`);
        log(`note: ${(error as Error).message}; the run cannot clean up after itself`);
      }
    }
  }
  const tenant = values.tenant;
  const otherTenant = values['other-tenant'];
  if ((values['client-id'] === undefined) !== (values['redirect-uri'] === undefined)) throw new UsageError('--client-id and --redirect-uri go together');
  const timeoutMs = Number(values.timeout);
  if (!Number.isInteger(timeoutMs) || timeoutMs < 500 || timeoutMs > 120_000) throw new UsageError('--timeout must be 500–120000 ms');
  const creds: Record<Persona, Credentials | undefined> = {
    customer: credentials(values.customer, demo(tenant, 'customer', 0)),
    otherCustomer: credentials(values['other-customer'], demo(tenant, 'customer', 1)),
    otherTenantCustomer: credentials(values['other-tenant-customer'], demo(otherTenant, 'customer', 0)),
    staff: credentials(values.staff, demo(tenant, 'supply_chain_manager')),
    approver: credentials(values.approver, demo(tenant, 'tenant_admin')),
    returns: credentials(values.returns, demo(tenant, 'returns_specialist')),
  };
  return {
    target, internal, target2, tenant, otherTenant, credentials: creds,
    databaseUrl: values['database-url'], appDatabaseUrl: values['app-database-url'], appRole: values['app-role'],
    client: values['client-id'] ? { clientId: values['client-id'], redirectUri: values['redirect-uri']! } : undefined,
    timeoutMs,
    rotateSourceAddress: !values['no-rotate-source'] && urls.every(isLoopbackUrl),
    logFile: values['log-file'],
    only: values.only ? values.only.split(',').map((s) => s.trim().toUpperCase()).filter(Boolean) : [],
    cleanupDatabase,
    log,
    json: values.json,
  };
}

/** Runs the CLI; returns the exit status (0 all held, 1 a row failed, 2 usage). */
export async function main(argv: string[], out: (s: string) => void = writeLine, err: (s: string) => void = (s) => process.stderr.write(`${s}\n`)): Promise<number> {
  let options: ReturnType<typeof parseOptions>;
  try {
    options = parseOptions(argv, err);
  } catch (error) {
    if (error instanceof HelpRequested) {
      out(error.message);
      return EXIT.ok;
    }
    err(error instanceof UsageError ? error.message : `${(error as Error).message}\n\n${USAGE}`);
    return EXIT.usage;
  }
  // Ctrl-C: the run stops after the current row and still cleans up; a second Ctrl-C ends it at once.
  const interrupt = new AbortController();
  const onSignal = () => {
    if (interrupt.signal.aborted) exitWith(130);
    err('interrupted: cleaning up what the run created (Ctrl-C again to stop at once)');
    interrupt.abort();
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  let report: Awaited<ReturnType<typeof runSuite>>;
  try {
    report = await runSuite({ ...options, signal: interrupt.signal });
  } finally {
    process.removeListener('SIGINT', onSignal);
    process.removeListener('SIGTERM', onSignal);
  }
  out(formatTable(report, { width: Math.max(120, process.stdout.columns ?? 200) }));
  if (options.json) {
    await writeFile(options.json, `${JSON.stringify(report, null, 2)}\n`);
    out(`JSON report: ${options.json}`);
  }
  return report.summary.fail > 0 || report.rows.length === 0 || report.interrupted ? EXIT.failed : EXIT.ok;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  // A stack trace only when asked for (LOG_LEVEL=debug), as with the other commands.
  const showStack = ['debug', 'trace'].includes(process.env.LOG_LEVEL ?? ''); // a tool, not the service: it reads its own environment
  watchTerminal(() => showStack);
  main(process.argv.slice(2)).then((code) => exitWith(code), (error: unknown) => {
    if (error instanceof OutputClosed) exitWith(EXIT.ok);
    process.stderr.write('attack suite crashed: ');
    printError(error, showStack);
    exitWith(EXIT.failed);
  });
}
