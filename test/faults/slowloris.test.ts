// F3 (docs/ATTACK-CATALOGUE.md): slow clients. A handful of raw sockets send a request's headers one byte at a
// time and never finish; the server's header timeout (src/service.ts `hardened`: 10 s) must close
// them, while normal requests on both listeners keep succeeding. Bounded: the scenario ends by
// itself after SCENARIO_MS and every socket is destroyed.
import assert from 'node:assert/strict';
import { connect, type Socket } from 'node:net';
import { test } from 'node:test';
import { resourceFor } from '../../src/authz/resources.js';
import { issueTestToken } from '../support/tokens.js';
import { startTestService } from '../support/service.js';
import { get, mcp, sleep, type CallOutcome } from './support.js';

const HEADERS_TIMEOUT_MS = 10_000; // src/service.ts
const CLOSE_MARGIN_MS = 3_000;
/** A normal request that takes longer than this has hung (a slow machine is far quicker). */
const NORMAL_BOUND_MS = 15_000;
const SCENARIO_MS = HEADERS_TIMEOUT_MS + CLOSE_MARGIN_MS + 1_000;
const SLOW_SOCKETS = 6;
const BYTE_EVERY_MS = 400;

interface Slow { socket: Socket; openedAt: number; closedAt?: number; answer: string; listener: string }

function slowClient(url: string, listener: string): Slow {
  const { hostname, port } = new URL(url);
  const socket = connect(Number(port), hostname);
  const slow: Slow = { socket, openedAt: performance.now(), answer: '', listener };
  const request = `GET /healthz HTTP/1.1\r\nHost: ${hostname}:${port}\r\nUser-Agent: slowloris\r\nX-Padding: ${'a'.repeat(400)}`;
  let i = 0;
  const drip = setInterval(() => {
    if (!socket.destroyed && socket.writable && i < request.length) socket.write(request[i++]!);
  }, BYTE_EVERY_MS);
  socket.on('data', (d) => { slow.answer += d.toString('latin1'); });
  socket.on('error', () => {});
  socket.on('close', () => { slow.closedAt ??= performance.now(); clearInterval(drip); });
  return slow;
}

test('F3: slowloris sockets are cut off by the header timeout while normal traffic is unaffected', async (t) => {
  const service = await startTestService();
  const resource = resourceFor({ publicUrl: service.publicUrl, internalUrl: service.internalUrl }, 'acme', 'customer');
  const { token } = await issueTestToken(service.database.app, { tenantSlug: 'acme', resource, subject: { kind: 'customer', email: 'alice@acme.example' }, scope: 'orders catalog' });

  const slow = [
    ...Array.from({ length: SLOW_SOCKETS - 2 }, () => slowClient(service.publicUrl, 'public')),
    ...Array.from({ length: 2 }, () => slowClient(service.internalUrl, 'internal')),
  ];
  const normal: { what: string; o: CallOutcome }[] = [];
  const started = performance.now();
  try {
    while (performance.now() - started < SCENARIO_MS && slow.some((s) => s.closedAt === undefined)) {
      const [health, internalHealth, call] = await Promise.all([
        get(`${service.publicUrl}/healthz`, NORMAL_BOUND_MS),
        get(`${service.internalUrl}/healthz`, NORMAL_BOUND_MS),
        mcp(`${service.publicUrl}/t/acme/mcp`, token, 'tools/call', { name: 'list_orders', arguments: { limit: 2 } }, NORMAL_BOUND_MS),
      ]);
      normal.push({ what: 'public /healthz', o: health }, { what: 'internal /healthz', o: internalHealth }, { what: 'list_orders', o: call });
      await sleep(250);
    }
  } finally {
    for (const s of slow) s.socket.destroy();
  }

  await t.test('normal requests keep succeeding (none hangs) while the slow sockets are open', () => {
    assert.ok(normal.length >= 9, 'normal traffic ran during the attack');
    for (const { what, o } of normal) {
      assert.equal(o.status, 200, `${what}: ${o.status} ${o.text.slice(0, 200)}`);
    }
  });

  await t.test(`slow sockets are closed by the server within the header timeout (+${CLOSE_MARGIN_MS / 1000} s)`, {
  }, () => {
    for (const s of slow) {
      assert.ok(s.closedAt !== undefined && s.closedAt - s.openedAt <= HEADERS_TIMEOUT_MS + CLOSE_MARGIN_MS,
        `${s.listener} slow socket ${s.closedAt === undefined ? 'still open' : `closed after ${Math.round(s.closedAt - s.openedAt)} ms`} at the end of the ${SCENARIO_MS / 1000} s scenario`);
      assert.ok(s.answer === '' || /^HTTP\/1\.1 408/.test(s.answer), `answered ${s.answer.slice(0, 40)}`);
    }
  });
});
