// The guarantees the hot path keeps however it is tuned (docs/HOT-PATH.md): each test here fails if
// one goes — a token cache that outlives a request, an effect committed without its audit entry,
// statements of one call spread over more than one transaction, or state shared between calls.
import assert from 'node:assert/strict';
import { request } from 'node:http';
import type { AddressInfo, Socket as NetSocket } from 'node:net';
import { Socket } from 'node:net';
import { before, describe, test } from 'node:test';
import { customerToken, customerUrl, post, toolCall } from '../servers/helpers.js';
import { GENEROUS_BUDGETS, startAnotherInstance, startTestService, type TestService } from '../support/service.js';
import type { RunningService } from '../../src/service.js';

let a: TestService;
let b: RunningService;

before(async () => {
  a = await startTestService({ ...GENEROUS_BUDGETS, WEBHOOK_WORKER: 'false' });
  b = await startAnotherInstance(a, { ...GENEROUS_BUDGETS, WEBHOOK_WORKER: 'false', PUBLIC_URL: a.publicUrl, INTERNAL_URL: a.internalUrl });
});

type Answer = { status: number; body: { error?: { code: number; message: string }; result?: { structuredContent?: Record<string, unknown> } } };

/**
 * One tool call on acme's customer endpoint through instance A or B — both behind the one public
 * URL, as docker-compose runs them: the request goes to that instance's port with the public Host.
 */
function call(instance: 'A' | 'B', token: string, name = 'list_orders', args: unknown = { limit: 1 }): Promise<Answer> {
  const url = new URL(customerUrl(a, 'acme'));
  const port = instance === 'A' ? Number(url.port) : (b.publicServer.address() as AddressInfo).port;
  const body = JSON.stringify(toolCall(name, args));
  return new Promise((resolve, reject) => {
    const req = request({
      host: '127.0.0.1', port, path: url.pathname, method: 'POST',
      headers: { Host: url.host, Authorization: `Bearer ${token}`, 'Content-Type': 'application/json', Accept: 'application/json, text/event-stream', 'Content-Length': Buffer.byteLength(body) },
    }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: JSON.parse(Buffer.concat(chunks).toString('utf8') || '{}') as Answer['body'] }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

describe('revocation takes effect on the next request, on every instance (no token cache)', () => {
  const cases: [string, (t: { id: string; subjectId: string; tenantId: string }) => Promise<unknown>][] = [
    ['a revoked token', (t) => a.database.owner`update oauth_access_tokens set revoked_at = now() where id = ${t.id}`],
    ['a revoked family', async (t) => {
      const [f] = await a.database.owner<{ id: string }[]>`
        insert into oauth_token_families (tenant_id, client_id, subject_kind, subject_id, resource, scope)
        select tenant_id, client_id, subject_kind, subject_id, resource, scope from oauth_access_tokens where id = ${t.id} returning id`;
      await a.database.owner`update oauth_access_tokens set family_id = ${f!.id} where id = ${t.id}`;
      return a.database.owner`update oauth_token_families set revoked_at = now(), revoked_reason = 'refresh token reuse' where tenant_id = ${t.tenantId} and id = ${f!.id}`;
    }],
    ['a disabled customer', (t) => a.database.owner`update customers set disabled_at = now() where tenant_id = ${t.tenantId} and id = ${t.subjectId}`],
    ['a disabled client', (t) => a.database.owner`update oauth_clients set disabled_at = now() where tenant_id = ${t.tenantId} and client_id = 'guarantee-client'`],
  ];
  for (const [what, change] of cases) {
    test(`${what}: refused on the next call on both instances, each of which had just served it`, async () => {
      const token = await customerToken(a, 'acme', 'bob@acme.example');
      if (what === 'a disabled client') await a.database.owner`update oauth_access_tokens set client_id = 'guarantee-client' where id = ${token.id}`;
      if (what === 'a disabled client') {
        await a.database.owner`insert into oauth_clients (tenant_id, client_id, name, redirect_uris, audience, source)
          values (${token.tenantId}, 'guarantee-client', 'Guarantee client', '{http://127.0.0.1/callback}', 'any', 'preregistered') on conflict do nothing`;
      }
      // Both instances serve the token, several times (anything they might keep is warm).
      for (let i = 0; i < 3; i++) {
        assert.equal((await call('A', token.token)).status, 200, 'instance A serves the token');
        assert.equal((await call('B', token.token)).status, 200, 'instance B serves the token');
      }
      await change(token);
      assert.equal((await call('B', token.token)).status, 401, 'instance B refuses it at once');
      assert.equal((await call('A', token.token)).status, 401, 'instance A refuses it at once');
      if (what === 'a disabled customer') await a.database.owner`update customers set disabled_at = null where tenant_id = ${token.tenantId} and id = ${token.subjectId}`;
    });
  }
});

describe('no effect without its audit entry, in the same transaction', () => {
  test('a write whose audit entry cannot be written leaves no effect, and the client is told', async () => {
    const token = await customerToken(a, 'acme', 'bob@acme.example');
    const [sku] = await a.database.owner<{ sku: string }[]>`select p.sku from products p join tenants t on t.id = p.tenant_id where t.slug = 'acme' order by p.sku limit 1`;
    const cartItems = () => a.database.owner<{ n: number }[]>`
      select coalesce(sum(ci.quantity), 0)::int as n from cart_items ci join customers c on c.tenant_id = ci.tenant_id and c.id = ci.customer_id where c.email = 'bob@acme.example'`;
    const [before] = await cartItems();
    // The owner makes every audit insert of this tool fail (a check the application cannot see).
    await a.database.owner`alter table audit_events add constraint guarantee_refuse_add_to_cart check (tool is distinct from 'add_to_cart') not valid`;
    try {
      const refused = await call('A', token.token, 'add_to_cart', { sku: sku!.sku, quantity: 2 });
      assert.equal(refused.status, 500, 'the client is told the call failed');
      assert.equal(refused.body.result, undefined, 'no result is reported');
      const [afterFailed] = await cartItems();
      assert.equal(afterFailed!.n, before!.n, 'the cart is unchanged: the effect rolled back with its audit entry');
    } finally {
      await a.database.owner`alter table audit_events drop constraint guarantee_refuse_add_to_cart`;
    }
    const ok = await call('A', token.token, 'add_to_cart', { sku: sku!.sku, quantity: 2 });
    assert.equal(ok.status, 200);
    const [afterOk] = await cartItems();
    assert.equal(afterOk!.n, before!.n + 2, 'with the audit entry writable the effect is kept');
    const entries = await a.database.owner<{ n: number }[]>`
      select count(*)::int as n from audit_events where token_id = ${token.id} and tool = 'add_to_cart' and outcome = 'ok'`;
    assert.equal(entries[0]!.n, 1, 'the kept effect has its entry; the refused one none');
  });
});

/**
 * What this process asks PostgreSQL to run, seen on the wire: every statement executed on each
 * socket — simple queries ('Q') and extended-protocol binds ('B') resolved to the SQL of the
 * statement they name ('P' parses, per connection; postgres.js prepares a statement once per
 * connection and then only binds it).
 */
function watchWire() {
  const sent: { socket: NetSocket; sql: string }[] = [];
  const parsed = new WeakMap<NetSocket, Map<string, string>>();
  const cstring = (b: Buffer, at: number) => {
    const end = b.indexOf(0, at);
    return { value: b.toString('utf8', at, end), next: end + 1 };
  };
  const original = Socket.prototype.write;
  Socket.prototype.write = function (this: Socket, chunk: unknown, ...rest: unknown[]) {
    if (Buffer.isBuffer(chunk)) {
      const names = parsed.get(this) ?? new Map<string, string>();
      parsed.set(this, names);
      for (let i = 0; i + 5 <= chunk.length;) {
        const type = String.fromCharCode(chunk[i]!);
        const length = chunk.readUInt32BE(i + 1);
        if (length < 4 || i + 1 + length > chunk.length) break;
        const payload = chunk.subarray(i + 5, i + 1 + length);
        if (type === 'Q') sent.push({ socket: this, sql: cstring(payload, 0).value });
        if (type === 'P') {
          const name = cstring(payload, 0);
          names.set(name.value, cstring(payload, name.next).value);
        }
        if (type === 'B') {
          const portal = cstring(payload, 0);
          const statement = cstring(payload, portal.next).value;
          sent.push({ socket: this, sql: names.get(statement) ?? `<unknown ${statement}>` });
        }
        i += 1 + length;
      }
    }
    return (original as (...args: unknown[]) => boolean).call(this, chunk, ...rest);
  } as typeof Socket.prototype.write;
  return { sent, stop: () => void (Socket.prototype.write = original) };
}

describe('one RLS transaction per call', () => {
  test('every statement that reads or writes as the caller runs between one BEGIN and its COMMIT, once per call', async () => {
    // A service of its own, started while watching, so that every statement it prepares is seen.
    const wire = watchWire();
    const s = await startTestService({ ...GENEROUS_BUDGETS, WEBHOOK_WORKER: 'false' });
    const token = await customerToken(s, 'acme', 'alice@acme.example');
    const get = () => post(customerUrl(s, 'acme'), toolCall('get_order', { order_number: 'ORD-1001' }), { Authorization: `Bearer ${token.token}` });
    const calls = 5;
    let from = 0;
    try {
      // Warm first (statements prepared on their connections, budget slices leased), watched so
      // that the names of prepared statements are known; then the calls counted.
      for (let i = 0; i < 3; i++) assert.equal((await get()).status, 200);
      from = wire.sent.length;
      for (let i = 0; i < calls; i++) assert.equal((await get()).status, 200);
    } finally {
      wire.stop();
    }
    const bySocket = new Map<NetSocket, string[]>();
    for (const s of wire.sent.slice(from)) bySocket.set(s.socket, [...(bySocket.get(s.socket) ?? []), s.sql.trim().toLowerCase()]);
    let begins = 0;
    let commits = 0;
    for (const statements of bySocket.values()) {
      let open = false;
      for (const sql of statements) {
        if (sql === 'begin') {
          assert.equal(open, false, `no BEGIN inside an open transaction: ${JSON.stringify(statements)}`);
          open = true;
          begins++;
        } else if (sql === 'commit') {
          assert.equal(open, true, 'a COMMIT closes the transaction it follows');
          open = false;
          commits++;
        } else if (/set_config\('app\./.test(sql) || /insert into audit_events/.test(sql)) {
          assert.equal(open, true, `the caller's context and audit only inside the transaction: ${sql.slice(0, 60)}`);
        }
      }
      assert.equal(open, false, 'every transaction that began ended');
    }
    assert.equal(begins, calls, `one transaction per call: ${JSON.stringify([...bySocket.values()])}`);
    assert.equal(commits, calls);
  });
});

describe('nothing shared between calls in flight', () => {
  test('interleaved calls of different customers each get their own data, on both instances', async () => {
    const people = ['alice@acme.example', 'bob@acme.example'];
    const tokens = await Promise.all(people.map((p) => customerToken(a, 'acme', p)));
    const expected = await Promise.all(people.map(async (p) => (await a.database.owner<{ number: string }[]>`
      select o.number from orders o join customers c on c.tenant_id = o.tenant_id and c.id = o.customer_id join tenants t on t.id = o.tenant_id
      where t.slug = 'acme' and c.email = ${p} order by o.number`).map((r) => r.number)));
    assert.ok(expected.every((e) => e.length > 0) && expected[0]!.join() !== expected[1]!.join());
    const answers = await Promise.all(Array.from({ length: 60 }, async (_, i) => {
      const who = i % 2;
      const r = await call(Math.floor(i / 2) % 2 ? 'B' : 'A', tokens[who]!.token, 'list_orders', { limit: 50 });
      return { who, r };
    }));
    for (const { who, r } of answers) {
      assert.equal(r.status, 200);
      const orders = (r.body.result?.structuredContent?.orders as { order_number: string }[] | undefined) ?? [];
      assert.deepEqual(orders.map((o) => o.order_number).sort(), expected[who], `customer ${who} sees exactly their own orders`);
    }
  });
});
