// The official MCP conformance suite (@modelcontextprotocol/conformance 0.2.0-alpha.12, a
// devDependency; it needs Node >= 22, which scripts/install-conformance.sh brings from the npm
// package node@22) against our real endpoints, on both revisions: the server scenarios at
// 2025-11-25 (legacy, initialize handshake) and at 2026-07-28 (stateless, per-request `_meta`), and
// the `authorization` command's authorization-server scenarios against a tenant's issuer.
//
// The server suite sends no Authorization header, so a loopback proxy adds a real token; it forwards
// Host and Origin untouched except that the proxy's own address is rewritten to the service's (so
// the DNS-rebinding scenario still sees foreign hosts refused by the service itself).
//
// What runs is SERVER_SCENARIOS and AUTHORIZATION_SCENARIOS; every other scenario the suite lists
// for a server is in NOT_APPLICABLE with the reason (a test checks that the three lists together
// are exactly the suite's list, so a new scenario must be placed in one of them).
import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import { mkdtemp, readdir, readFile } from 'node:fs/promises';
import { createServer, request as httpRequest, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { before, describe, test } from 'node:test';
import { createPreregisteredClient } from '../../src/authz/clients.js';
import { resourceFor } from '../../src/authz/resources.js';
import { onCleanup } from '../support/database.js';
import { startTestService, type TestService } from '../support/service.js';
import { issueTestToken } from '../support/tokens.js';
import { ACME_CUSTOMER, Browser, obtainCode } from '../authz/flow.js';

const run = promisify(execFile);
const CLI = 'node_modules/@modelcontextprotocol/conformance/dist/index.js';

type Revision = '2025-11-25' | '2026-07-28';
export const SERVER_SCENARIOS: Record<Revision, string[]> = {
  '2025-11-25': ['server-initialize', 'ping', 'tools-list', 'resources-list', 'prompts-list', 'dns-rebinding-protection'],
  '2026-07-28': [
    'server-stateless', 'tools-list', 'resources-list', 'prompts-list', 'dns-rebinding-protection', 'caching', 'http-header-validation',
    'sep-2164-resource-not-found',
  ],
};
export const AUTHORIZATION_SCENARIOS = ['authorization-server-metadata-endpoint', 'authorization-code-grant'];

const FIXTURE = "calls the suite's own fixture tools, prompts or resources by name (test_*), which a commerce endpoint does not have";
/** Server scenarios that do not apply to this service, and why. */
export const NOT_APPLICABLE: Record<string, string> = {
  'server-session-lifecycle': 'sessions: this endpoint is stateless by design (M3: no Mcp-Session-Id is issued or honoured)',
  'logging-set-level': 'no logging capability (deprecated in 2026-07-28; logs go to our own structured log)',
  'completion-complete': 'no completions capability',
  'tools-call-simple-text': FIXTURE,
  'tools-call-image': FIXTURE,
  'tools-call-audio': FIXTURE,
  'tools-call-embedded-resource': FIXTURE,
  'tools-call-mixed-content': FIXTURE,
  'tools-call-with-logging': FIXTURE,
  'tools-call-error': FIXTURE,
  'tools-call-with-progress': FIXTURE,
  'tools-call-sampling': `${FIXTURE}; and sampling is deprecated in 2026-07-28`,
  'tools-call-elicitation': `${FIXTURE}; a stateless legacy endpoint cannot elicit mid-call (2026-07-28 does it through MRTR)`,
  'json-schema-2020-12': FIXTURE,
  'elicitation-sep1034-defaults': FIXTURE,
  'elicitation-sep1330-enums': FIXTURE,
  'http-custom-header-server-validation': 'no tool declares x-mcp-header parameters, so the suite has nothing to check (it reports every check "not testable")',
  'server-sse-polling': 'SSE streams: every answer is one JSON response (stateless, no GET stream)',
  'server-sse-multiple-streams': 'SSE streams: every answer is one JSON response (stateless, no GET stream)',
  'resources-read-text': FIXTURE,
  'resources-read-binary': FIXTURE,
  'resources-templates-read': FIXTURE,
  'resources-subscribe': 'no resource subscriptions (stateless; 2026-07-28 replaces them with subscriptions/listen, not offered)',
  'resources-unsubscribe': 'no resource subscriptions (stateless; 2026-07-28 replaces them with subscriptions/listen, not offered)',
  'prompts-get-simple': FIXTURE,
  'prompts-get-with-args': FIXTURE,
  'prompts-get-embedded-resource': FIXTURE,
  'prompts-get-with-image': FIXTURE,
  'sep-2640-skills-directory': 'skills extension: not offered',
  'sep-2640-skills-enumeration': 'skills extension: not offered',
  'sep-2640-skills-manifest': 'skills extension: not offered',
  ...Object.fromEntries([
    'tasks-lifecycle', 'tasks-capability-negotiation', 'tasks-wire-fields', 'tasks-request-state-removal', 'tasks-mrtr-input',
    'tasks-request-headers', 'tasks-dispatch-and-envelope', 'tasks-status-notifications', 'tasks-required-task-error', 'tasks-mrtr-composition',
  ].map((s) => [s, `${FIXTURE} (tasks extension scenarios drive fixture tools; our tasks are approvals, tested in test/servers)`])),
  ...Object.fromEntries([
    'input-required-result-basic-elicitation', 'input-required-result-basic-sampling', 'input-required-result-basic-list-roots',
    'input-required-result-request-state', 'input-required-result-multiple-input-requests', 'input-required-result-multi-round',
    'input-required-result-missing-input-response', 'input-required-result-non-tool-request', 'input-required-result-result-type',
    'input-required-result-unsupported-methods', 'input-required-result-tampered-state', 'input-required-result-capability-check',
    'input-required-result-ignore-extra-params', 'input-required-result-validate-input',
  ].map((s) => [s, `${FIXTURE} (MRTR scenarios drive fixture tools; our MRTR confirmations are tested in test/servers)`])),
};

/**
 * Checks inside a running scenario that the suite itself reports "not testable" here (details.untestable),
 * because they need its fixture tools. They are listed, not silently dropped: any other failure fails.
 */
export const UNTESTABLE_CHECKS: Record<string, string> = {
  'sep-2575-server-rejects-undeclared-capability': 'needs the fixture tool test_missing_capability (our tools fall back instead of requiring a capability)',
  'sep-2575-missing-capability-http-400': 'needs the fixture tool test_missing_capability',
  'sep-2575-http-server-no-independent-requests-on-stream': 'needs the fixture tool test_streaming_elicitation (we never stream)',
  'sep-2575-server-no-log-without-loglevel': 'needs the fixture tool test_logging_tool (we never send notifications/message)',
};

let service: TestService;
let proxyUrl: string;
let node: string;

function authProxy(target: URL, token: string): Promise<Server> {
  const server = createServer((req, res) => {
    const ownHost = `127.0.0.1:${(server.address() as AddressInfo).port}`;
    const headers = { ...req.headers, authorization: `Bearer ${token}` };
    if (headers.host === ownHost) headers.host = target.host;
    if (headers.origin === `http://${ownHost}`) headers.origin = target.origin;
    const upstream = httpRequest({ host: target.hostname, port: target.port, method: req.method, path: req.url, headers }, (up) => {
      res.writeHead(up.statusCode ?? 502, up.headers);
      up.pipe(res);
    });
    upstream.on('error', () => res.writeHead(502).end());
    req.pipe(upstream);
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(server)));
}

type Check = { id: string; status: string; errorMessage?: string; details?: { untestable?: boolean } };
async function checksIn(out: string): Promise<Check[]> {
  const checks: Check[] = [];
  for (const f of await readdir(out, { recursive: true })) {
    if (!String(f).endsWith('checks.json')) continue;
    const parsed = JSON.parse(await readFile(join(out, String(f)), 'utf8')) as unknown;
    const list = Array.isArray(parsed) ? parsed : (parsed as { checks?: unknown[] }).checks ?? [];
    for (const c of list as Check[]) if (c && c.status) checks.push(c);
  }
  return checks;
}

before(async () => {
  const { stdout } = await run('bash', ['scripts/install-conformance.sh'], { timeout: 300_000 });
  node = stdout.trim().split('\n').pop()!;
  service = await startTestService();
  const resource = resourceFor(service, 'acme', 'customer');
  const { token } = await issueTestToken(service.database.app, {
    tenantSlug: 'acme', resource, subject: { kind: 'customer', email: 'alice@acme.example' }, scope: 'orders returns catalog cart',
  });
  const proxy = await authProxy(new URL(resource), token);
  onCleanup(() => new Promise((r) => proxy.close(r)));
  proxyUrl = `http://127.0.0.1:${(proxy.address() as AddressInfo).port}${new URL(resource).pathname}`;
});

test('every server scenario of the suite either runs or is listed as not applicable, with a reason', async () => {
  const { stdout } = await run(node, [CLI, 'list'], { timeout: 60_000 });
  const section = stdout.split(/\n\s*\n/).find((s) => s.startsWith('Server scenarios'))!;
  const listed = [...section.matchAll(/^\s+- (\S+)/gm)].map((m) => m[1]!);
  const placed = new Set([...SERVER_SCENARIOS['2025-11-25'], ...SERVER_SCENARIOS['2026-07-28'], ...Object.keys(NOT_APPLICABLE)]);
  assert.deepEqual(listed.filter((s) => !placed.has(s)), [], 'scenarios neither run nor explained');
  const auth = stdout.split(/\n\s*\n/).find((s) => s.startsWith('Authorization server scenarios'))!;
  assert.deepEqual([...auth.matchAll(/^\s+- (\S+)/gm)].map((m) => m[1]!), AUTHORIZATION_SCENARIOS);
});

describe('official conformance: server scenarios', () => {
  for (const [revision, scenarios] of Object.entries(SERVER_SCENARIOS) as [Revision, string[]][]) {
    for (const scenario of scenarios) {
      test(`${revision} ${scenario}`, async (t) => {
        const out = await mkdtemp(join(tmpdir(), 'conformance-'));
        const result = await run(node, [CLI, 'server', '--url', proxyUrl, '--scenario', scenario, '--spec-version', revision, '-o', out], { timeout: 120_000 })
          .catch((e: { stdout?: string; stderr?: string; code?: number }) => e);
        const checks = await checksIn(out);
        assert.ok(checks.length > 0, `the suite reported checks (stdout: ${result.stdout ?? ''} ${'stderr' in result ? result.stderr : ''})`);
        const untestable = checks.filter((c) => c.status === 'FAILURE' && c.details?.untestable && UNTESTABLE_CHECKS[c.id]);
        for (const c of untestable) t.diagnostic(`not applicable: ${c.id}: ${UNTESTABLE_CHECKS[c.id]}`);
        const failed = checks.filter((c) => c.status === 'FAILURE' && !untestable.includes(c));
        assert.deepEqual(failed, [], `${revision} ${scenario}: ${JSON.stringify(failed)}`);
        assert.ok(checks.some((c) => c.status === 'SUCCESS'), `${scenario}: nothing passed`);
      });
    }
  }
});

describe('official conformance: authorization-server scenarios (the `authorization` command)', () => {
  test('authorization-server-metadata-endpoint and authorization-code-grant against the acme issuer', async () => {
    const issuer = `${service.publicUrl}/t/acme`;
    const port = await new Promise<number>((resolve) => {
      const probe = createServer().listen(0, '127.0.0.1', () => {
        const p = (probe.address() as AddressInfo).port;
        probe.close(() => resolve(p));
      });
    });
    const [acme] = await service.database.owner<{ id: string }[]>`select id from tenants where slug = 'acme'`;
    const client = await createPreregisteredClient(service.database.owner, acme!.id, {
      name: 'Conformance suite', audience: 'customer', confidential: false, redirectUris: [`http://127.0.0.1:${port}/callback`],
    });
    const out = await mkdtemp(join(tmpdir(), 'conformance-as-'));
    const child = spawn(node, [CLI, 'authorization', '--url', issuer, '--client-id', client.clientId, '--resource', resourceFor(service, 'acme', 'customer'),
      '--port', String(port), '-o', out], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const exited = new Promise<number | null>((resolve) => child.on('exit', resolve));
    // The suite prints the authorization URL and waits for its loopback callback: our demo customer
    // signs in and consents through the real forms, and the redirect is delivered to the suite.
    const authorizationUrl = await new Promise<string>((resolve, reject) => {
      child.stdout.on('data', (d: Buffer) => {
        stdout += d.toString();
        const m = /^(https?:\/\/\S+\/authorize\?\S+)$/m.exec(stdout);
        if (m) resolve(m[1]!);
      });
      void exited.then(() => reject(new Error(`the suite ended without an authorization URL: ${stdout} ${stderr}`)));
    });
    const callback = await obtainCode(new Browser(service.publicUrl), authorizationUrl, ACME_CUSTOMER);
    assert.equal(callback.origin, `http://127.0.0.1:${port}`, callback.toString());
    await fetch(callback);
    await exited;
    const checks = await checksIn(out);
    const ids = new Set(checks.map((c) => c.id));
    // The check ids the two scenarios report.
    for (const id of ['authorization-server-metadata', 'authorization-code-grant']) assert.ok(ids.has(id), `${id} reported no check: ${stdout} ${stderr}`);
    assert.ok(checks.every((c) => c.status === 'SUCCESS'), JSON.stringify(checks.filter((c) => c.status !== 'SUCCESS')));
    const failed = checks.filter((c) => c.status === 'FAILURE');
    assert.deepEqual(failed, [], JSON.stringify(failed));
  });
});
