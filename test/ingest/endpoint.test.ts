// The ingestion endpoint (docs/INGESTION.md) over real HTTP with real tokens from the token
// endpoint: who may upload (O12, M1, M6), what a report says, that one bad record spoils nothing
// else, that an order is written whole or not at all, that references never cross tenants (A1,
// R3), that extra fields are refused (A3), the audit entry per upload, and the caps (M7, E1).
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { request } from 'node:http';
import { before, describe, test } from 'node:test';
import { mintAccessToken } from '../../src/authz/tokens.js';
import { withContext } from '../../src/db/context.js';
import { first } from '../support/database.js';
import { GENEROUS_BUDGETS, startTestService, type TestService } from '../support/service.js';
import { customerToken, internalUrl, staffToken } from '../servers/helpers.js';
import { clientCredentials, ingestUrl, serviceClient, upload, uploadToken } from './helpers.js';

const LINE_CAP = 2048;
const BODY_CAP = 256 * 1024;
const CHUNK = 50;

let svc: TestService;
let token: string;
let acmeId: string;
let globexId: string;

const product = (ext: string, extra: Record<string, unknown> = {}) =>
  JSON.stringify({ kind: 'product', external_id: ext, sku: `SKU-${ext}`, name: `Product ${ext}`, category: 'test', ...extra });

before(async () => {
  svc = await startTestService({
    ...GENEROUS_BUDGETS, INGEST_MAX_LINE_BYTES: String(LINE_CAP), INGEST_MAX_BODY_BYTES: String(BODY_CAP), INGEST_CHUNK_RECORDS: String(CHUNK),
  });
  token = await uploadToken(svc, 'acme');
  acmeId = first(await svc.database.owner<{ id: string }[]>`select id from tenants where slug = 'acme'`).id;
  globexId = first(await svc.database.owner<{ id: string }[]>`select id from tenants where slug = 'globex'`).id;
});

describe('who may upload', () => {
  test('M1: no token → 401 challenge without error code, naming the resource metadata', async () => {
    const res = await fetch(ingestUrl(svc, 'acme'), { method: 'POST', headers: { 'content-type': 'application/x-ndjson' }, body: product('x') });
    assert.equal(res.status, 401);
    const challenge = res.headers.get('www-authenticate')!;
    assert.doesNotMatch(challenge, /error=/);
    assert.match(challenge, /resource_metadata="[^"]+\/\.well-known\/oauth-protected-resource\/t\/acme\/internal\/ingest"/);
    const meta = await (await fetch(`${svc.internalUrl}/.well-known/oauth-protected-resource/t/acme/internal/ingest`)).json() as Record<string, unknown>;
    assert.equal(meta.resource, ingestUrl(svc, 'acme'));
    assert.deepEqual(meta.scopes_supported, ['ingest:write']);
  });

  test('the client credentials grant binds the token to the ingestion resource with ingest:write', async () => {
    const client = await serviceClient(svc, 'acme', 'ingest:write');
    const t = await clientCredentials(svc, 'acme', client);
    assert.equal(t.status, 200);
    assert.equal(t.body.scope, 'ingest:write');
    // O7: the ingestion resource speaks only ingest:write.
    assert.equal((await clientCredentials(svc, 'acme', client, { scope: 'ops:read' })).body.error, 'invalid_scope');
    // and the internal MCP endpoint never hands out ingest:write.
    const mixed = await serviceClient(svc, 'acme', 'ops:read ingest:write');
    const internal = await clientCredentials(svc, 'acme', mixed, { resource: internalUrl(svc, 'acme') });
    assert.equal(internal.status, 200);
    assert.equal(internal.body.scope, 'ops:read');
  });

  test('M6: a client registered without ingest:write gets no ingestion token; a token without the scope → 403 insufficient_scope', async () => {
    const reader = await serviceClient(svc, 'acme', 'ops:read');
    const refused = await clientCredentials(svc, 'acme', reader);
    assert.equal(refused.status, 400);
    assert.equal(refused.body.error, 'invalid_scope');
    // A token bound to the ingestion resource but without the scope (as a narrower grant would give).
    const minted = await withContext(svc.database.app, { kind: 'auth', tenantId: acmeId }, (tx) => mintAccessToken(tx, {
      tenantId: acmeId, familyId: null, clientId: reader.id, subjectKind: 'service', subjectId: null,
      resource: ingestUrl(svc, 'acme'), scope: 'ops:read', ttlSeconds: 300,
    }));
    const res = await upload(svc, 'acme', minted.token, [product('scope-probe')]);
    assert.equal(res.status, 403);
    assert.match(res.headers.get('www-authenticate')!, /error="insufficient_scope", .*scope="ingest:write"/);
    const [row] = await svc.database.owner`select 1 from products where tenant_id = ${acmeId} and external_id = 'scope-probe'`;
    assert.equal(row, undefined);
  });

  test('O12: a token of another tenant → 401; a customer or staff token → 401', async () => {
    const globexToken = await uploadToken(svc, 'globex');
    assert.equal((await upload(svc, 'acme', globexToken, [product('cross-token')])).status, 401);
    const customer = await customerTokenFirst('acme');
    assert.equal((await upload(svc, 'acme', customer.token, [product('customer-probe')])).status, 401);
    const staffEmail = (await svc.database.owner<{ email: string }[]>`select email from staff where tenant_id = ${acmeId} and role = 'tenant_admin' and disabled_at is null limit 1`)[0]!.email;
    const staffInternal = await staffToken(svc, 'acme', staffEmail, 'ops:read');
    assert.equal((await upload(svc, 'acme', staffInternal.token, [product('staff-probe')])).status, 401);
    const staffHere = await staffToken(svc, 'acme', staffEmail, 'ingest:write', { resource: ingestUrl(svc, 'acme') });
    assert.equal((await upload(svc, 'acme', staffHere.token, [product('staff-probe')])).status, 401);
    const rows = await svc.database.owner`select 1 from products where tenant_id = ${acmeId} and external_id like '%-probe'`;
    assert.equal(rows.length, 0);
  });
});

async function customerTokenFirst(slug: string) {
  const [c] = await svc.database.owner<{ email: string }[]>`select c.email from customers c join tenants t on t.id = c.tenant_id where t.slug = ${slug} order by c.email limit 1`;
  return customerToken(svc, slug, c!.email, 'orders', { resource: ingestUrl(svc, slug) });
}

describe('reports', () => {
  test('a file with bad lines: each refused with its line and reason, every good record kept; sending it again changes nothing', async () => {
    await upload(svc, 'acme', token, [product('rep-0', { sku: 'SKU-taken' })]);
    const lines = [
      product('rep-1'),
      '{not json',
      product('rep-2', { price: 5 }), // A3: an unknown field
      product('rep-3', { tenant_id: globexId }), // A3: mass assignment of the tenant
      JSON.stringify({ kind: 'spaceship', external_id: 'x' }),
      '',
      product('rep-4', { name: 'bad\u0000name' }), // E1
      JSON.stringify({ kind: 'stock', warehouse: 'AMS-1', product: 'rep-1', on_hand: -1 }), // E1: out of range
      JSON.stringify({ kind: 'stock', warehouse: 'AMS-1', product: 'rep-1', on_hand: 7 }),
      product('rep-5', { sku: 'SKU-taken' }), // another product's sku (a unique key of the tenant)
      product('rep-6'),
    ];
    const first = await upload(svc, 'acme', token, lines);
    assert.equal(first.status, 200);
    const r = first.body;
    assert.equal(r.lines, 11);
    assert.equal(r.accepted, 3, JSON.stringify(r)); // rep-1, rep-6 and the stock level
    const reasons = Object.fromEntries(r.rejections.map((x: { line: number; reason: string }) => [x.line, x.reason]));
    assert.deepEqual(Object.keys(reasons).map(Number), [2, 3, 4, 5, 7, 8, 10]);
    assert.match(reasons[2], /not valid JSON/);
    assert.match(reasons[3], /unknown field "price"/);
    assert.match(reasons[4], /unknown field "tenant_id"/);
    assert.match(reasons[5], /^kind:/);
    assert.match(reasons[7], /^name: NUL/);
    assert.match(reasons[8], /^on_hand:/);
    assert.match(reasons[10], /conflicts with another record/);
    assert.equal(r.rejected, 7);
    const kept = await svc.database.owner<{ external_id: string }[]>`select external_id from products where tenant_id = ${acmeId} and external_id like 'rep-%' order by 1`;
    assert.deepEqual(kept.map((k) => k.external_id), ['rep-0', 'rep-1', 'rep-6']);
    const again = await upload(svc, 'acme', token, lines);
    assert.equal(again.body.accepted, 0);
    assert.equal(again.body.updated, 0);
    assert.equal(again.body.unchanged, 3);
    // A changed record is an update, and only that one.
    const changed = await upload(svc, 'acme', token, [product('rep-1', { name: 'Renamed' }), product('rep-6')]);
    assert.deepEqual([changed.body.accepted, changed.body.updated, changed.body.unchanged], [0, 1, 1]);
  });

  test('an order whose lines name an unknown product is rejected whole; its neighbours are written', async () => {
    const order = (ext: string, products: string[]) => JSON.stringify({
      kind: 'order', external_id: ext, number: `ING-${ext}`, customer: 'jane.doe@acme.example', status: 'paid', currency: 'EUR',
      lines: products.map((p, i) => ({ line_no: i + 1, product: p, quantity: 1, unit_price_cents: 100 })),
    });
    const [c] = await svc.database.owner<{ email: string }[]>`select email from customers where tenant_id = ${acmeId} order by email limit 1`;
    const withCustomer = (s: string) => s.replace('jane.doe@acme.example', c!.email);
    const res = await upload(svc, 'acme', token, [withCustomer(order('ord-ok', ['ACC-001'])), withCustomer(order('ord-bad', ['ACC-001', 'NO-SUCH-SKU'])),
      withCustomer(order('ord-ok2', ['APP-001', 'ACC-001']))]);
    assert.equal(res.body.accepted, 2);
    assert.equal(res.body.rejections[0].line, 2);
    assert.match(res.body.rejections[0].reason, /unknown product "NO-SUCH-SKU"/);
    const [bad] = await svc.database.owner`select 1 from orders where tenant_id = ${acmeId} and external_id = 'ord-bad'`;
    assert.equal(bad, undefined);
    const [lines] = await svc.database.owner<{ n: number }[]>`select count(*)::int as n from order_lines l join orders o on o.tenant_id = l.tenant_id and o.id = l.order_id
      where o.tenant_id = ${acmeId} and o.external_id in ('ord-ok', 'ord-ok2')`;
    assert.equal(lines!.n, 3);
    const [ok2] = await svc.database.owner<{ total_cents: string }[]>`select total_cents from orders where tenant_id = ${acmeId} and external_id = 'ord-ok2'`;
    assert.equal(Number(ok2!.total_cents), 200);
    // An uploaded number in the platform's own form moves the tenant's counter past it (no clash with ORD-… drawn later).
    const numbered = JSON.parse(withCustomer(order('ord-numbered', ['ACC-001'])));
    await upload(svc, 'acme', token, [JSON.stringify({ ...numbered, number: 'ORD-90001' })]);
    const [counter] = await svc.database.owner<{ value: string }[]>`select value from tenant_counters where tenant_id = ${acmeId} and name = 'orders'`;
    assert.equal(Number(counter!.value), 90001);
    // A1 within the tenant: an upload cannot move an order (and its shipments, payments) to another customer.
    const [other] = await svc.database.owner<{ email: string }[]>`select email from customers where tenant_id = ${acmeId} and email <> ${c!.email} order by email limit 1`;
    const moved = await upload(svc, 'acme', token, [order('ord-ok', ['ACC-001']).replace('jane.doe@acme.example', other!.email)]);
    assert.equal(moved.body.rejected, 1);
    assert.match(moved.body.rejections[0].reason, /an order keeps its customer/);
    const [owner] = await svc.database.owner<{ email: string }[]>`select c.email from orders o join customers c on c.tenant_id = o.tenant_id and c.id = o.customer_id
      where o.tenant_id = ${acmeId} and o.external_id = 'ord-ok'`;
    assert.equal(owner!.email, c!.email);
  });

  test('audit: one ingest.upload entry per upload with its counts and the SHA-256 of the body, one ingest.chunk per transaction', async () => {
    const body = `${Array.from({ length: CHUNK + 5 }, (_, i) => product(`aud-${i}`)).join('\n')}\n`;
    const res = await upload(svc, 'acme', token, body);
    assert.equal(res.body.accepted, CHUNK + 5);
    const sha = createHash('sha256').update(body).digest('hex');
    assert.equal(res.body.sha256, sha);
    const uploads = await svc.database.owner<{ detail: Record<string, unknown>; actor_kind: string; token_id: string | null }[]>`
      select detail, actor_kind, token_id from audit_events where tenant_id = ${acmeId} and event = 'ingest.upload' and detail->>'sha256' = ${sha}`;
    assert.equal(uploads.length, 1);
    assert.equal(uploads[0]!.actor_kind, 'service');
    assert.equal(uploads[0]!.detail.accepted, CHUNK + 5);
    const chunks = await svc.database.owner<{ detail: { accepted: number } }[]>`
      select detail from audit_events where tenant_id = ${acmeId} and event = 'ingest.chunk' and token_id = ${uploads[0]!.token_id}
      and pos > (select max(pos) from audit_events where tenant_id = ${acmeId} and event = 'ingest.upload' and detail->>'sha256' <> ${sha})
      order by pos`;
    assert.deepEqual(chunks.map((c) => c.detail.accepted), [CHUNK, 5]);
  });
});

describe('tenants stay apart', () => {
  test('A1: an external id or reference of tenant B never links into tenant A', async () => {
    const globex = await uploadToken(svc, 'globex');
    await upload(svc, 'globex', globex, [product('shared-ext', { name: 'Globex original' }), product('globex-only')]);
    // The same external id in acme is acme's own record; globex's is untouched.
    const mine = await upload(svc, 'acme', token, [product('shared-ext', { name: 'Acme version', sku: 'SKU-acme-shared' }),
      JSON.stringify({ kind: 'supplier_cost', product: 'globex-only', unit_cost_cents: 1 }),
      JSON.stringify({ kind: 'competitor_price', external_id: 'cp-x', product: 'globex-only', competitor: 'X', price_cents: 1, currency: 'EUR', observed_at: '2026-01-01T00:00:00Z' })]);
    assert.equal(mine.body.accepted, 1);
    assert.deepEqual(mine.body.rejections.map((r: { line: number; reason: string }) => [r.line, r.reason]),
      [[2, 'product: unknown product "globex-only"'], [3, 'product: unknown product "globex-only"']]);
    const rows = await svc.database.owner<{ tenant_id: string; name: string; unit_cost_cents: string | null }[]>`
      select tenant_id, name, unit_cost_cents from products where external_id in ('shared-ext', 'globex-only') order by tenant_id = ${acmeId}, name`;
    assert.deepEqual(rows.map((r) => [r.tenant_id === acmeId ? 'acme' : 'globex', r.name, r.unit_cost_cents]),
      [['globex', 'Globex original', null], ['globex', 'Product globex-only', null], ['acme', 'Acme version', null]]);
  });

  test('R3: in the service context of A, RLS hides B and refuses rows for B (the application role)', async () => {
    const actor = { kind: 'service' as const, tenantId: acmeId, clientId: 'probe' };
    const seen = await withContext(svc.database.app, actor, (tx) => tx`select 1 from products where tenant_id = ${globexId}`);
    assert.equal(seen.length, 0);
    const updated = await withContext(svc.database.app, actor, (tx) => tx`update products set name = 'x' where external_id = 'globex-only' returning 1`);
    assert.equal(updated.length, 0);
    await assert.rejects(withContext(svc.database.app, actor, (tx) =>
      tx`insert into products (tenant_id, sku, name, category, external_id) values (${globexId}, 'R3', 'R3', 'x', 'r3')`), /row-level security/);
    // and the service actor reads no authorization tables and no staff.
    const tokens = await withContext(svc.database.app, actor, (tx) => tx`select 1 from oauth_access_tokens`);
    assert.equal(tokens.length, 0);
    const staff = await withContext(svc.database.app, actor, (tx) => tx`select 1 from staff`);
    assert.equal(staff.length, 0);
  });
});

describe('limits and streaming', () => {
  test('M7/E1: a line at the cap is read, one byte over is refused with its line number; the rest of the file goes on', async () => {
    const base = product('cap-at', { description: '' });
    const at = product('cap-at', { description: 'd'.repeat(LINE_CAP - base.length) });
    assert.equal(Buffer.byteLength(at), LINE_CAP);
    const over = product('cap-over', { description: 'd'.repeat(LINE_CAP - base.length + 1) });
    const res = await upload(svc, 'acme', token, [at, over, product('cap-after')]);
    assert.equal(res.body.accepted, 2);
    assert.deepEqual(res.body.rejections, [{ line: 2, reason: `line longer than ${LINE_CAP} bytes` }]);
  });

  test('M7: a declared body over the cap is refused before it is read; a streamed one stops at the cap with 413', async () => {
    // Only the headers are sent: the answer comes before any of the declared body.
    const declared = await streamUpload(async function* () {}, { 'content-length': String(BODY_CAP + 1) });
    assert.equal(declared.status, 413);
    assert.equal(declared.body.error, 'body_too_large');
    // Exactly at the cap: read whole (a record, then blank padding lines, which are skipped).
    const record = `${product('cap-body')}\n`;
    const pad = BODY_CAP - Buffer.byteLength(record);
    const atCap = record + `${' '.repeat(999)}\n`.repeat(Math.floor(pad / 1000)) + `${' '.repeat(pad % 1000)}`;
    assert.equal(Buffer.byteLength(atCap), BODY_CAP);
    const accepted = await upload(svc, 'acme', token, atCap);
    assert.equal(accepted.status, 200);
    assert.equal(accepted.body.accepted, 1);
    assert.equal(accepted.body.bytes, BODY_CAP);
    const wrongType = await upload(svc, 'acme', token, [product('x')], { 'content-type': 'application/json' });
    assert.equal(wrongType.status, 415);
    const lines = Array.from({ length: 3000 }, (_, i) => product(`big-${i}`));
    const body = `${lines.join('\n')}\n`;
    assert.ok(Buffer.byteLength(body) > BODY_CAP);
    const res = await streamUpload(async function* () { for (let i = 0; i < lines.length; i += 100) yield `${lines.slice(i, i + 100).join('\n')}\n`; });
    assert.equal(res.status, 413);
    assert.equal(res.body.stopped, 'body_too_large');
    assert.ok(res.body.accepted > 0 && res.body.accepted % CHUNK === 0, 'whole chunks before the cap are kept');
  });

  test('streamed: chunks are committed while the client is still sending (the body is never buffered whole)', async () => {
    // The client sends one chunk's worth of records, then waits until they are in the database
    // before it sends the rest. Were the body read whole before processing, this would never end.
    let sentRest = false;
    const res = await streamUpload(async function* () {
      yield `${Array.from({ length: CHUNK + 1 }, (_, i) => product(`stream-${i}`)).join('\n')}\n`;
      for (;;) {
        const [row] = await svc.database.owner<{ n: number }[]>`select count(*)::int as n from products where tenant_id = ${acmeId} and external_id like 'stream-%'`;
        if (row!.n >= CHUNK) break;
        await new Promise((r) => setTimeout(r, 20));
      }
      sentRest = true;
      yield `${Array.from({ length: 10 }, (_, i) => product(`stream-late-${i}`)).join('\n')}\n`;
    });
    assert.equal(sentRest, true);
    assert.equal(res.status, 200);
    assert.equal(res.body.accepted, CHUNK + 11);
  });
});

/** A chunked upload (no Content-Length) whose body comes from `parts`, written as the server reads. */
function streamUpload(parts: () => AsyncGenerator<string>, headers: Record<string, string> = {}): Promise<{ status: number; body: Record<string, any> }> {
  return new Promise((resolve, reject) => {
    const req = request(ingestUrl(svc, 'acme'), { method: 'POST', headers: { 'content-type': 'application/x-ndjson', authorization: `Bearer ${token}`, ...headers } }, (res) => {
      let text = '';
      res.setEncoding('utf8').on('data', (d: string) => (text += d)).on('end', () => resolve({ status: res.statusCode!, body: JSON.parse(text) }));
    });
    req.on('error', (e: NodeJS.ErrnoException) => { if (e.code !== 'EPIPE' && e.code !== 'ECONNRESET') reject(e); });
    req.flushHeaders();
    void (async () => {
      try {
        for await (const part of parts()) if (!req.write(part)) await new Promise((r) => req.once('drain', r));
        if (!headers['content-length']) req.end();
      } catch (e) {
        req.destroy(e as Error);
      }
    })();
  });
}
