// The attack suite (src/attack) against a freshly started service, in-process: every catalogue row
// must hold, or be not applicable for a reason listed here. And the suite must be able to fail: one
// row against a deliberately misconfigured target makes the CLI exit non-zero.
import assert from 'node:assert/strict';
import { mkdtemp } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { pino } from 'pino';
import { main, parseOptions } from '../../src/attack/cli.js';
import { formatTable } from '../../src/attack/report.js';
import { runSuite } from '../../src/attack/runner.js';
import type { Report } from '../../src/attack/types.js';
import { startTestService, type TestService } from '../support/service.js';

/** Rows that cannot run here, and why. Anything else not passing fails this test. */
const NOT_APPLICABLE: Record<string, RegExp> = {
  F1: /control of the deployment's PostgreSQL/,
  F2: /slow queries inside the deployment/,
  F5: /second instance/,
};

let service: TestService;
let report: Report;
let logFile: string;

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
  report = await runSuite(options);
  process.stdout.write(`${formatTable(report, { width: 220 })}\n`);
});

describe('attack suite against a fresh service', () => {
  test('covers every catalogue row', () => {
    const ids = report.rows.map((r) => r.id);
    for (const id of ['O1', 'O2', 'O3', 'O4', 'O5', 'O6', 'O7', 'O8', 'O9', 'O10', 'O11', 'O12', 'O13', 'O14', 'O15', 'O16', 'M1', 'M2', 'M3', 'M4', 'M5', 'M6', 'M7', 'M8',
      'A1', 'A2', 'A3', 'A4', 'A5', 'A6', 'A7', 'A8', 'A9', 'A10', 'P1', 'P2', 'P3', 'L1', 'L2', 'L3', 'L4', 'R1', 'R2', 'R3', 'R4', 'R5', 'R6', 'R7', 'R8', 'F1', 'F2', 'F3', 'F4', 'F5', 'E1']) {
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

  test('the suite stays small in time', () => {
    assert.ok(report.durationMs < 120_000, `${report.durationMs} ms`);
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

  test('L1 without --log-file is not applicable and says what it needs', async () => {
    const out: string[] = [];
    const code = await main(['--target', base, '--only', 'L1'], (s) => out.push(s), () => {});
    assert.equal(code, 0, out.join('\n'));
    assert.match(out.join('\n'), /L1 .*needs the service log \(--log-file PATH\)/);
  });

  test('a non-local target is refused without --i-own-this-target (exit status 2)', async () => {
    const err: string[] = [];
    const code = await main(['--target', 'https://shop.example.com'], () => {}, (s) => err.push(s));
    assert.equal(code, 2);
    assert.match(err.join('\n'), /not on this machine/);
  });
});
