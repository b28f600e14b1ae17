// The official MCP conformance suite (@modelcontextprotocol/conformance, Node 22 from the npm
// package node@22) against our real customer endpoint. The suite sends no Authorization header,
// so a loopback proxy adds a real token; it forwards Host and Origin untouched except that the
// proxy's own address is rewritten to the service's (so the DNS-rebinding scenario still sees
// foreign hosts refused by the service itself).
//
// Scenarios that apply to a server that is not the suite's fixture server: initialize, ping, the
// three lists, DNS rebinding protection. The others call fixture tools/prompts/resources by name
// (test_simple_text, test_prompt_with_image, …) or need capabilities we do not offer (logging,
// completions, subscriptions, SSE polling, sampling), so they do not apply.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, readdir, readFile } from 'node:fs/promises';
import { createServer, request as httpRequest, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { before, test } from 'node:test';
import { resourceFor } from '../../src/authz/resources.js';
import { onCleanup } from '../support/database.js';
import { startTestService, type TestService } from '../support/service.js';
import { issueTestToken } from '../support/tokens.js';

const run = promisify(execFile);
export const APPLICABLE = ['server-initialize', 'ping', 'tools-list', 'resources-list', 'prompts-list', 'dns-rebinding-protection'];

let service: TestService;
let proxyUrl: string;
let conformance: { node: string; cli: string };

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

before(async () => {
  const { stdout } = await run('bash', ['scripts/install-conformance.sh'], { timeout: 300_000 });
  const dir = stdout.trim().split('\n').pop()!;
  conformance = { node: join(dir, 'node_modules/.bin/node'), cli: join(dir, 'node_modules/@modelcontextprotocol/conformance/dist/index.js') };
  service = await startTestService();
  const resource = resourceFor(service, 'acme', 'customer');
  const { token } = await issueTestToken(service.database.app, {
    tenantSlug: 'acme', resource, subject: { kind: 'customer', email: 'alice@acme.example' }, scope: 'orders returns catalog cart',
  });
  const proxy = await authProxy(new URL(resource), token);
  onCleanup(() => new Promise((r) => proxy.close(r)));
  proxyUrl = `http://127.0.0.1:${(proxy.address() as AddressInfo).port}${new URL(resource).pathname}`;
});

for (const scenario of APPLICABLE) {
  test(`official conformance: ${scenario}`, async () => {
    const out = await mkdtemp(join(tmpdir(), 'conformance-'));
    const result = await run(conformance.node, [conformance.cli, 'server', '--url', proxyUrl, '--scenario', scenario, '-o', out], { timeout: 120_000 })
      .catch((e: { stdout?: string; stderr?: string; code?: number }) => e);
    const checks: { id: string; status: string; errorMessage?: string }[] = [];
    for (const f of await readdir(out, { recursive: true })) {
      if (!String(f).endsWith('.json')) continue;
      const parsed = JSON.parse(await readFile(join(out, String(f)), 'utf8')) as unknown;
      const list = Array.isArray(parsed) ? parsed : (parsed as { checks?: unknown[] }).checks ?? [];
      for (const c of list as { id: string; status: string; errorMessage?: string }[]) if (c && c.status) checks.push(c);
    }
    assert.ok(checks.length > 0, `the suite reported checks (stdout: ${result.stdout ?? ''} ${'stderr' in result ? result.stderr : ''})`);
    const failed = checks.filter((c) => c.status === 'FAILURE');
    assert.deepEqual(failed, [], `${scenario}: ${JSON.stringify(failed)}`);
  });
}
