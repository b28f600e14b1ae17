// The attack suite (attack/) against a freshly started service, in-process: every catalogue row
// must hold, or be not applicable for a reason listed here. And the suite must be able to fail: one
// row against a deliberately misconfigured target makes the CLI exit non-zero.
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { pino } from 'pino';
import postgres from 'postgres';
import { main, parseOptions } from '../../attack/cli.js';
import { formatTable } from '../../attack/report.js';
import { runSuite } from '../../attack/runner.js';
import type { Report } from '../../attack/types.js';
import { startTestService, type TestService } from '../support/service.js';

/** Rows that cannot run here, and why. Anything else not passing fails this test. */
const NOT_APPLICABLE: Record<string, RegExp> = {
  F1: /control of the deployment's PostgreSQL/,
  F2: /slow queries inside the deployment/,
  F5: /second instance/,
  // This service keeps the production rule (no private upstreams); the describe below runs them.
  I1: /refuses upstream providers on private addresses/,
  I2: /refuses upstream providers on private addresses/,
  I3: /refuses upstream providers on private addresses/,
  I4: /refuses upstream providers on private addresses/,
};

let service: TestService;
let report: Report;
let logFile: string;
let before1: Record<string, unknown>;
let after1: Record<string, unknown>;
let report2: Report;
let after2: Record<string, unknown>;

/** Rows that create or change data, and E1 (late, after the first run's budget use): the second run. */
const SECOND_RUN = ['O15', 'A3', 'A4', 'A5', 'A6', 'A7', 'A8', 'P1', 'P3', 'F4', 'E1'];

/**
 * What the demo looks like, per tenant: what the suite may create or change must be the same before
 * and after a run (the audit log is append-only and is left out on purpose).
 */
async function demoState(ownerUrl: string): Promise<Record<string, unknown>> {
  const sql = postgres(ownerUrl, { max: 1, onnotice: () => {} });
  try {
    const rows = await sql<{ slug: string; state: unknown }[]>`
      select t.slug, json_build_object(
        'orders', (select count(*) from orders where tenant_id = t.id),
        'order_lines', (select count(*) from order_lines where tenant_id = t.id),
        'returns', (select count(*) from returns where tenant_id = t.id),
        'return_lines', (select count(*) from return_lines where tenant_id = t.id),
        'refunds', (select count(*) from refunds where tenant_id = t.id),
        'payments', (select count(*) from payments where tenant_id = t.id),
        'refunded_cents', (select coalesce(sum(refunded_cents), 0) from payments where tenant_id = t.id),
        'payment_statuses', (select json_agg(status order by id) from payments where tenant_id = t.id),
        'oauth_clients', (select count(*) from oauth_clients where tenant_id = t.id),
        'carts', (select count(*) from carts where tenant_id = t.id),
        'cart_items', (select json_agg(json_build_array(customer_id, product_id, quantity) order by customer_id, product_id) from cart_items where tenant_id = t.id),
        'pending_actions', (select count(*) from pending_actions where tenant_id = t.id and status = 'pending'),
        'all_actions', (select count(*) from pending_actions where tenant_id = t.id),
        'purchase_orders', (select count(*) from purchase_orders where tenant_id = t.id),
        'reserved', (select json_agg(json_build_array(warehouse_id, product_id, reserved) order by warehouse_id, product_id) from stock_levels where tenant_id = t.id and reserved > 0),
        'prices', (select json_agg(json_build_array(p.sku, pp.amount_cents) order by p.sku) from product_prices pp join products p on p.tenant_id = pp.tenant_id and p.id = pp.product_id where pp.tenant_id = t.id and pp.valid_to is null),
        'price_rows', (select count(*) from product_prices where tenant_id = t.id)
      ) as state from tenants t order by t.slug`;
    return Object.fromEntries(rows.map((r) => [r.slug, r.state]));
  } finally {
    await sql.end({ timeout: 2 });
  }
}

before(async () => {
  // The suite makes a few hundred calls with its customer token within a minute; A4 floods 400 on a
  // token of its own. A per-token budget of 300/min lets the first through and stops the second.
  // Budgets are per person too (A10): the person's budget (1000, at most half the client's 2000)
  // holds the suite's customer calls, and leaves A9 room to spend whole token budgets of its probe
  // person before the person's budget is the one that limits them.
  // L1: the service's log goes to a file the suite scans at the end.
  logFile = join(await mkdtemp(join(tmpdir(), 'commerce-mcp-suite-log-')), 'service.log');
  service = await startTestService({
    RATE_LIMIT_TOKEN_PER_MINUTE: '300', RATE_LIMIT_SUBJECT_PER_MINUTE: '1000', RATE_LIMIT_SUBJECT_SHARE_PERCENT: '50', LOG_LEVEL: 'info',
  }, { logDestination: pino.destination({ dest: logFile, sync: true }) });
  const options = parseOptions([
    '--target', service.publicUrl, '--internal', service.internalUrl, '--database-url', service.database.ownerUrl,
    '--app-database-url', service.database.appUrl, '--log-file', logFile,
  ], () => {});
  before1 = await demoState(service.database.ownerUrl);
  report = await runSuite(options);
  process.stdout.write(`${formatTable(report, { width: 220 })}\n`);
  after1 = await demoState(service.database.ownerUrl);
  // At once a second run of the rows that write, against what the first left.
  report2 = await runSuite({ ...options, only: SECOND_RUN });
  process.stdout.write(`${formatTable(report2, { width: 220 })}\n`);
  after2 = await demoState(service.database.ownerUrl);
});

describe('attack suite against a fresh service', () => {
  test('covers every catalogue row', () => {
    const ids = report.rows.map((r) => r.id);
    for (const id of ['O1', 'O2', 'O3', 'O4', 'O5', 'O6', 'O7', 'O8', 'O9', 'O10', 'O11', 'O12', 'O13', 'O14', 'O15', 'O16', 'M1', 'M2', 'M3', 'M4', 'M5', 'M6', 'M7', 'M8',
      'A1', 'A2', 'A3', 'A4', 'A5', 'A6', 'A7', 'A8', 'A9', 'A10', 'P1', 'P2', 'P3', 'L1', 'L2', 'L3', 'L4', 'I1', 'I2', 'I3', 'I4', 'I5', 'I6', 'R1', 'R2', 'R3', 'R4', 'R5', 'R6', 'R7', 'R8', 'F1', 'F2', 'F3', 'F4', 'F5', 'E1']) {
      assert.ok(ids.includes(id), `row ${id} is in the suite`);
    }
  });

  test('every row passes, or is not applicable for a listed reason', () => {
    const problems = report.rows.filter((r) => {
      if (r.verdict === 'pass') return false;
      if (r.verdict === 'n/a') return !NOT_APPLICABLE[r.id]?.test(r.observed);
      return true;
    }).map((r) => `${r.id} ${r.verdict}: ${r.observed}`);
    assert.deepEqual(problems, []);
  });

  test('the run leaves the demo as it found it: orders, returns, refunds, payments, clients, carts, actions, reservations, prices', () => {
    assert.ok(report.cleanup.removed.length > 0, 'the clean-up removed something');
    assert.deepEqual(report.cleanup.left, []);
    assert.deepEqual(after1, before1);
  });

  test('a second run right after the first passes, and cleans up too (A3 A4 A5 A6 A7 A8 P1 P3 F4 O15 E1)', () => {
    const problems = report2.rows.filter((r) => r.verdict !== 'pass').map((r) => `${r.id} ${r.verdict}: ${r.observed}`);
    assert.deepEqual(problems, []);
    assert.deepEqual(report2.rows.map((r) => r.id).sort(), [...SECOND_RUN].sort());
    assert.deepEqual(report2.cleanup.left, []);
    assert.deepEqual(after2, before1);
  });

  test('interrupted (Ctrl-C) after A5, the run still cleans up what it created', async () => {
    const stop = new AbortController();
    const interrupted = await runSuite({
      ...parseOptions(['--target', service.publicUrl, '--internal', service.internalUrl, '--database-url', service.database.ownerUrl, '--only', 'A5,F4,E1'], () => {}),
      log: (line) => { if (/^\S+ +A5 /.test(line)) stop.abort(); },
      signal: stop.signal,
    });
    assert.equal(interrupted.interrupted, true);
    assert.deepEqual(interrupted.rows.map((r) => r.id), ['A5']);
    assert.ok(interrupted.cleanup.removed.some((e) => e.kind === 'order'), 'the order A5 placed is removed');
    assert.deepEqual(interrupted.cleanup.left, []);
    assert.deepEqual(await demoState(service.database.ownerUrl), before1);
  });

  test('the report has a clean-up section, in the table and the JSON', () => {
    const table = formatTable(report);
    assert.match(table, /Clean-up — owner access \(--database-url\)/);
    assert.match(table, /removed: order ORD-/);
    assert.match(table, /kept: +audit log: append-only/);
    const json = JSON.parse(JSON.stringify(report)) as Report;
    for (const kind of ['order', 'return', 'pending action', 'price', 'cart', 'client', 'sign-in']) {
      assert.ok(json.cleanup.removed.some((e) => e.kind === kind), `removed: ${kind}`);
    }
  });
});

describe('federation rows against a development service that may reach a loopback upstream', () => {
  test('I1 I2 I3 I4 I5 I6 pass', async () => {
    const dev = await startTestService({ ALLOW_PRIVATE_NETWORK_FETCH: 'true' });
    const options = parseOptions([
      '--target', dev.publicUrl, '--internal', dev.internalUrl, '--database-url', dev.database.ownerUrl,
      '--app-database-url', dev.database.appUrl, '--only', 'I1,I2,I3,I4,I5,I6',
    ], () => {});
    const federation = await runSuite(options);
    process.stdout.write(`${formatTable(federation, { width: 220 })}\n`);
    assert.deepEqual(federation.rows.map((r) => r.id), ['I1', 'I2', 'I3', 'I4', 'I5', 'I6']);
    assert.deepEqual(federation.rows.filter((r) => r.verdict !== 'pass').map((r) => `${r.id} ${r.verdict}: ${r.observed}`), []);
    const [left] = await dev.database.owner<{ n: number }[]>`select count(*)::int as n from tenant_identity_providers`;
    assert.equal(left!.n, 0, 'the rows removed the providers they configured');
  });
});

describe('the suite can fail', () => {
  let bad: Server;
  let base: string;
  before(async () => {
    // A target that implements just enough to be discovered and to show a login page, without
    // frame-ancestors or X-Frame-Options: O9 must fail and the CLI must say so.
    bad = createServer((req, res) => {
      const url = new URL(req.url ?? '/', base);
      const issuer = `${base}/t/acme`;
      const json = (status: number, body: unknown, headers: Record<string, string> = {}) => {
        res.writeHead(status, { 'content-type': 'application/json', ...headers }).end(JSON.stringify(body));
      };
      if (url.pathname === '/t/acme/mcp') return json(401, {}, { 'www-authenticate': `Bearer resource_metadata="${base}/.well-known/oauth-protected-resource/t/acme/mcp"` });
      if (url.pathname === '/.well-known/oauth-protected-resource/t/acme/mcp') return json(200, { resource: `${base}/t/acme/mcp`, authorization_servers: [issuer] });
      if (url.pathname === '/.well-known/oauth-authorization-server/t/acme') {
        return json(200, { issuer, authorization_endpoint: `${issuer}/authorize`, token_endpoint: `${issuer}/token`, registration_endpoint: `${issuer}/register` });
      }
      if (url.pathname === '/t/acme/register') return json(201, { client_id: 'c1', redirect_uris: [] });
      if (url.pathname === '/t/acme/authorize') return void res.writeHead(303, { location: '/t/acme/interaction/1' }).end();
      if (url.pathname === '/t/acme/interaction/1') {
        return void res.writeHead(200, { 'content-type': 'text/html' })
          .end('<form method="post" action="/t/acme/interaction/1/login"><input type="hidden" name="csrf" value="x"></form>');
      }
      res.writeHead(404).end();
    });
    await new Promise<void>((resolve) => bad.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(bad.address() as AddressInfo).port}`;
  });
  after(() => new Promise<void>((resolve) => bad.close(() => resolve())));

  test('O9 against a target without frame protection: FAIL, exit status 1', async () => {
    const out: string[] = [];
    const code = await main(['--target', base, '--only', 'O9'], (s) => out.push(s), () => {});
    assert.equal(code, 1, out.join('\n'));
    assert.match(out.join('\n'), /O9 .*FAIL/);
  });

  test('without owner access the report lists what was left and the option to pass', async () => {
    const out: string[] = [];
    await main(['--target', base, '--only', 'O15'], (s) => out.push(s), () => {});
    const text = out.join('\n');
    assert.match(text, /Clean-up — no owner access/);
    assert.match(text, /Left behind on the deployment:\n {2}- client c1 \(acme\): stays/);
    assert.match(text, /sign-in throttle counters and MCP budget windows of the 1 account\(s\) .*\(alice@acme\.example\): they run out on their own/);
    assert.match(text, /To clean up: pass --database-url .* or --data-dir/);
  });

  test('L1 without --log-file is not applicable and says what it needs', async () => {
    const out: string[] = [];
    const code = await main(['--target', base, '--only', 'L1'], (s) => out.push(s), () => {});
    assert.equal(code, 0, out.join('\n'));
    assert.match(out.join('\n'), /L1 .*needs the service log \(--log-file PATH\)/);
  });

  test('--data-dir: the running service\'s connection.json gives the clean-up its owner URL; a missing or stale one is a usage error', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'commerce-mcp-attack-data-'));
    const file = join(dir, 'connection.json');
    const ownerUrl = 'postgres://owner:secret@127.0.0.1:5999/commerce';
    await writeFile(file, JSON.stringify({ pid: process.pid, port: 5999, ownerUrl, databaseDir: dir, startedAt: new Date().toISOString() }), { mode: 0o600 });
    const options = parseOptions(['--target', base, '--data-dir', dir], () => {});
    assert.deepEqual(options.cleanupDatabase, { url: ownerUrl, source: file });
    assert.equal(options.databaseUrl, undefined, 'the R rows still need --database-url');
    // Default: ./data, for a loopback target, when the file is there (a `npm start` in this directory).
    const cwd = process.cwd();
    const work = await mkdtemp(join(tmpdir(), 'commerce-mcp-attack-cwd-'));
    await mkdir(join(work, 'data'));
    await writeFile(join(work, 'data', 'connection.json'), JSON.stringify({ pid: process.pid, ownerUrl }), { mode: 0o600 });
    process.chdir(work);
    try {
      assert.deepEqual(parseOptions(['--target', base], () => {}).cleanupDatabase, { url: ownerUrl, source: join('data', 'connection.json') });
    } finally {
      process.chdir(cwd);
    }
    assert.equal(parseOptions(['--target', 'http://127.0.0.1:9', '--data-dir', dir, '--database-url', 'postgres://o@127.0.0.1:1/x'], () => {}).cleanupDatabase?.source, '--database-url', '--database-url wins');
    const err: string[] = [];
    assert.equal(await main(['--target', base, '--data-dir', join(dir, 'none')], () => {}, (s) => err.push(s)), 2);
    assert.match(err.join('\n'), /--data-dir: no .*connection\.json: is the service running/);
    await writeFile(file, JSON.stringify({ pid: 2 ** 22 + 1, port: 5999, ownerUrl }), { mode: 0o600 });
    assert.equal(await main(['--target', base, '--data-dir', dir], () => {}, (s) => err.push(s)), 2);
    assert.match(err.join('\n'), /is stale: its service \(pid \d+\) is not running/);
  });

  test('a non-local target is refused without --i-own-this-target (exit status 2)', async () => {
    const err: string[] = [];
    const code = await main(['--target', 'https://shop.example.com'], () => {}, (s) => err.push(s));
    assert.equal(code, 2);
    assert.match(err.join('\n'), /not on this machine/);
  });
});
