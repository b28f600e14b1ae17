// Carrier events in (issue 12 item 3; docs/WEBHOOKS.md "Carrier events"): a signature that is bad,
// stale (outside the tolerance) or replayed (same event id) is refused (401/409) and changes
// nothing; a valid `exception` with a cause makes the shipment late and the customer's get_order
// reports that cause. Secrets are set by the admin command and kept sealed.
import assert from 'node:assert/strict';
import { before, describe, test } from 'node:test';
import { runAdmin } from '../../src/cli/admin.js';
import { open, secretsKey } from '../../src/webhooks/secret-box.js';
import { carrierSecretBinding, SIGNATURE_FAILURES_ALLOWED } from '../../src/webhooks/carrier-events.js';
import { sign, verifySignature } from '../../src/webhooks/signature.js';
import { connect, customerToken, customerUrl } from '../servers/helpers.js';
import { startTestService, type TestService } from '../support/service.js';

let s: TestService;
let secret: string;
let shipment: { id: string; tracking_number: string; order_number: string; email: string; carrier_slug: string; carrier_id: string; tenant_id: string };

async function run(...args: string[]): Promise<{ code: number; out: string[] }> {
  const out: string[] = [];
  const code = await runAdmin(s.database.owner, args, (l) => out.push(l));
  return { code, out };
}

function field(out: string[], name: string): string {
  return out.find((l) => l.startsWith(`${name}\t`))!.split('\t')[1]!;
}

async function send(body: unknown, opts: { id: string; timestamp?: number; secret?: string; carrier?: string; signature?: string }) {
  const raw = JSON.stringify(body);
  const ts = opts.timestamp ?? Math.floor(Date.now() / 1000);
  const signature = opts.signature ?? `v1,${sign(opts.secret ?? secret, opts.id, ts, raw)}`;
  const res = await fetch(`${s.publicUrl}/t/acme/webhooks/carriers/${opts.carrier ?? shipment.carrier_slug}`, {
    method: 'POST', body: raw,
    headers: { 'content-type': 'application/json', 'webhook-id': opts.id, 'webhook-timestamp': String(ts), 'webhook-signature': signature },
  });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

async function shipmentRow() {
  const [row] = await s.database.owner`select status::text, late_cause_code, late_cause, eta, updated_at, carrier_event_at from shipments where id = ${shipment.id}`;
  return row!;
}

async function receipts(): Promise<number> {
  const [r] = await s.database.owner<{ n: number }[]>`select count(*)::int as n from carrier_event_receipts where tenant_id = ${shipment.tenant_id}`;
  return r!.n;
}

before(async () => {
  s = await startTestService();
  // An acme customer's shipment on its way, with no late cause yet.
  const [row] = await s.database.owner<typeof shipment[]>`
    select s.id, s.tracking_number, o.number as order_number, c.email, ca.slug as carrier_slug, ca.id as carrier_id, s.tenant_id
    from shipments s join orders o on o.tenant_id = s.tenant_id and o.id = s.order_id
    join customers c on c.tenant_id = s.tenant_id and c.id = s.customer_id
    join carriers ca on ca.tenant_id = s.tenant_id and ca.id = s.carrier_id
    join tenants t on t.id = s.tenant_id
    where t.slug = 'acme' and s.status = 'in_transit' and s.late_cause_code is null and c.disabled_at is null
    order by s.tracking_number limit 1`;
  assert.ok(row, 'an acme shipment in transit without a late cause');
  shipment = row;
  const set = await run('carriers', 'set-secret', 'acme', shipment.carrier_slug);
  assert.equal(set.code, 0, set.out.join('\n'));
  secret = field(set.out, 'secret');
  assert.match(secret, /^whsec_/);
  assert.ok(field(set.out, 'url').endsWith(`/t/acme/webhooks/carriers/${shipment.carrier_slug}`)); // PUBLIC_URL of the command's environment
});

const exception = () => ({
  type: 'exception', tracking_number: shipment.tracking_number, occurred_at: new Date().toISOString(),
  cause_code: 'weather', cause: 'Storm closed the Rotterdam hub; parcels held for 24 hours',
});

describe('carrier signatures', () => {
  test('O11 the secret is stored sealed, opens only for its own tenant and carrier, and carriers list shows it is set', async () => {
    const [row] = await s.database.owner<{ secret_sealed: string }[]>`select secret_sealed from carrier_webhook_secrets where carrier_id = ${shipment.carrier_id}`;
    assert.ok(!row!.secret_sealed.includes(secret.slice(6)), 'not in clear');
    const key = await secretsKey(s.config);
    assert.equal(open(key, row!.secret_sealed, carrierSecretBinding(shipment.tenant_id, shipment.carrier_id)), secret);
    assert.equal(open(key, row!.secret_sealed, carrierSecretBinding(shipment.tenant_id, '00000000-0000-0000-0000-000000000000')), null);
    const listed = await run('carriers', 'list', 'acme', '--json');
    const carriers = JSON.parse(listed.out.join('\n')) as { slug: string; secret_set: boolean }[];
    assert.equal(carriers.find((c) => c.slug === shipment.carrier_slug)?.secret_set, true);
    await assert.rejects(run('carriers', 'set-secret', 'acme', 'no-such-carrier'), /no carrier no-such-carrier/);
  });

  test('timestamp tolerance boundary: at 300 s accepted, at 301 s stale (both directions)', () => {
    const body = Buffer.from('{}');
    const now = 1_800_000_000;
    for (const [ts, ok] of [[now - 300, true], [now - 301, false], [now + 300, true], [now + 301, false]] as const) {
      const v = verifySignature(secret, { id: 'e1', timestamp: String(ts), signature: `v1,${sign(secret, 'e1', ts, body)}` }, body, 300, now);
      assert.equal(v.ok, ok, `timestamp ${ts - now}`);
      if (!ok) assert.deepEqual(v, { ok: false, problem: 'stale' });
    }
    const tampered = verifySignature(secret, { id: 'e1', timestamp: String(now), signature: `v1,${sign(secret, 'e1', now, Buffer.from('{"a":1}'))}` }, body, 300, now);
    assert.deepEqual(tampered, { ok: false, problem: 'bad_signature' });
  });

  test('a bad signature, another secret, a stale timestamp, a missing header or an unknown carrier: 401, nothing changes', async () => {
    const before = await shipmentRow();
    const receiptsBefore = await receipts();
    const wrong = 'whsec_' + Buffer.alloc(32, 7).toString('base64');
    const cases = [
      await send(exception(), { id: 'evt-bad-1', signature: 'v1,' + Buffer.alloc(32).toString('base64') }),
      await send(exception(), { id: 'evt-bad-2', secret: wrong }),
      await send(exception(), { id: 'evt-bad-3', timestamp: Math.floor(Date.now() / 1000) - 400 }),
      await send(exception(), { id: 'evt-bad-4', timestamp: Math.floor(Date.now() / 1000) + 400 }),
      await send(exception(), { id: 'evt-bad-5', signature: '' }),
      await send(exception(), { id: 'evt-bad-6', carrier: 'no-such-carrier' }),
    ];
    for (const [i, c] of cases.entries()) {
      assert.equal(c.status, 401, `case ${i + 1}: ${JSON.stringify(c.body)}`);
      assert.equal(c.body.error, 'invalid_signature');
    }
    // The signature covers the body: the same headers on another body are refused too.
    const ts = Math.floor(Date.now() / 1000);
    const res = await fetch(`${s.publicUrl}/t/acme/webhooks/carriers/${shipment.carrier_slug}`, {
      method: 'POST', body: JSON.stringify({ ...exception(), cause_code: 'customs' }),
      headers: { 'content-type': 'application/json', 'webhook-id': 'evt-bad-7', 'webhook-timestamp': String(ts),
        'webhook-signature': `v1,${sign(secret, 'evt-bad-7', ts, JSON.stringify(exception()))}` },
    });
    assert.equal(res.status, 401);
    assert.deepEqual(await shipmentRow(), before);
    assert.equal(await receipts(), receiptsBefore);
  });

  test('a signed but invalid event is 400 and an unknown tracking number 404, neither leaves a receipt', async () => {
    const receiptsBefore = await receipts();
    const noCause = await send({ ...exception(), cause_code: undefined }, { id: 'evt-invalid-1' });
    assert.equal(noCause.status, 400);
    assert.match(String(noCause.body.error_description), /cause_code/);
    const extra = await send({ ...exception(), tenant_id: shipment.tenant_id }, { id: 'evt-invalid-2' });
    assert.equal(extra.status, 400);
    const unknown = await send({ ...exception(), tracking_number: 'NO-SUCH-PARCEL' }, { id: 'evt-unknown-1' });
    assert.equal(unknown.status, 404);
    assert.equal(await receipts(), receiptsBefore);
  });
});

describe('carrier events move shipments', () => {
  test('a valid exception with a cause makes the shipment late; the customer\'s get_order reports the cause', async () => {
    const customer = await connect(customerUrl(s, 'acme'), (await customerToken(s, 'acme', shipment.email)).token);
    const order = async () => (await customer.callTool({ name: 'get_order', arguments: { order_number: shipment.order_number } })).structuredContent as {
      late: boolean; shipments: { tracking_number: string; status: string; late: boolean; late_cause_code: string | null; late_cause: string | null }[] };
    const before = (await order()).shipments.find((x) => x.tracking_number === shipment.tracking_number)!;
    assert.equal(before.late_cause_code, null);

    const accepted = await send(exception(), { id: 'evt-exception-1' });
    assert.equal(accepted.status, 200, JSON.stringify(accepted.body));
    assert.equal(accepted.body.status, 'applied');
    const after = await order();
    const mine = after.shipments.find((x) => x.tracking_number === shipment.tracking_number)!;
    assert.equal(mine.status, 'exception');
    assert.equal(mine.late, true);
    assert.equal(after.late, true);
    assert.equal(mine.late_cause_code, 'weather');
    assert.equal(mine.late_cause, 'Storm closed the Rotterdam hub; parcels held for 24 hours');
    const [audit] = await s.database.owner<{ actor_kind: string; detail: { event_id: string } }[]>`
      select actor_kind, detail from audit_events where tenant_id = ${shipment.tenant_id} and event = 'carrier.event' order by pos desc limit 1`;
    assert.equal(audit!.actor_kind, 'system');
    assert.equal(audit!.detail.event_id, 'evt-exception-1');
  });

  test('the same event id again (freshly signed, even with another body) is 409 and changes nothing', async () => {
    const before = await shipmentRow();
    const receiptsBefore = await receipts();
    const again = await send(exception(), { id: 'evt-exception-1' });
    assert.equal(again.status, 409);
    assert.equal(again.body.error, 'replayed');
    const other = await send({ type: 'delivered', tracking_number: shipment.tracking_number, occurred_at: new Date().toISOString() }, { id: 'evt-exception-1' });
    assert.equal(other.status, 409);
    assert.deepEqual(await shipmentRow(), before);
    assert.equal(await receipts(), receiptsBefore);
  });

  test('an older event arriving late is kept as a receipt only; delivered then sticks', async () => {
    const before = await shipmentRow();
    const old = await send({ type: 'in_transit', tracking_number: shipment.tracking_number, occurred_at: new Date(Date.now() - 3_600_000).toISOString() }, { id: 'evt-old-1' });
    assert.equal(old.status, 200);
    assert.equal(old.body.status, 'recorded_only');
    assert.equal((await shipmentRow()).status, before.status);
    const out = await send({ type: 'out_for_delivery', tracking_number: shipment.tracking_number, occurred_at: new Date().toISOString() }, { id: 'evt-ofd-1' });
    assert.equal(out.body.status, 'applied');
    const row = await shipmentRow();
    assert.equal(row.status, 'out_for_delivery');
    assert.equal(row.late_cause_code, 'weather', 'the cause of the delay stays on record');
    const delivered = await send({ type: 'delivered', tracking_number: shipment.tracking_number, occurred_at: new Date(Date.now() + 1000).toISOString() }, { id: 'evt-delivered-1' });
    assert.equal(delivered.body.status, 'applied');
    const late = await send({ type: 'in_transit', tracking_number: shipment.tracking_number, occurred_at: new Date(Date.now() + 5000).toISOString() }, { id: 'evt-after-1' });
    assert.equal(late.body.status, 'recorded_only');
    assert.equal((await shipmentRow()).status, 'delivered');
  });

  test('R3 another tenant\'s carrier path with this secret is refused', async () => {
    const res = await fetch(`${s.publicUrl}/t/globex/webhooks/carriers/${shipment.carrier_slug}`, {
      method: 'POST', body: '{}', headers: { 'webhook-id': 'x', 'webhook-timestamp': String(Math.floor(Date.now() / 1000)), 'webhook-signature': `v1,${sign(secret, 'x', Math.floor(Date.now() / 1000), '{}')}` },
    });
    assert.equal(res.status, 401);
  });
});

describe('O11 signature guessing', () => {
  // Last in this file: it locks 127.0.0.1 out of acme's carrier endpoint.
  test('O11 an address sending bad signatures is refused (429) after a bounded number, before its next guess is even checked', async () => {
    const sent: number[] = [];
    for (let i = 0; i < SIGNATURE_FAILURES_ALLOWED + 5; i++) {
      const r = await send(exception(), { id: `evt-guess-${i}`, signature: `v1,${Buffer.alloc(32, i).toString('base64')}` });
      sent.push(r.status);
      if (r.status === 429) break;
    }
    const firstRefusal = sent.indexOf(429);
    assert.ok(firstRefusal > 0 && firstRefusal <= SIGNATURE_FAILURES_ALLOWED, `429 after at most ${SIGNATURE_FAILURES_ALLOWED} failures (${sent.join(',')})`);
    assert.ok(sent.slice(0, firstRefusal).every((st) => st === 401));
    const valid = await send(exception(), { id: 'evt-after-lockout' });
    assert.equal(valid.status, 429, 'a locked-out address gets no answer about its signature');
  });
});
