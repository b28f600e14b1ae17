// A carrier telling the shop that a parcel moved (docs/WEBHOOKS.md "Carrier events"): one signed
// event, Standard Webhooks style, posted to the tenant's carrier endpoint.
//
//   npm run admin -- carriers set-secret acme dhl-express          # prints the URL and the secret once
//   CARRIER_SECRET=whsec_… npx tsx examples/carrier-event.ts \
//     http://127.0.0.1:3000/t/acme/webhooks/carriers/dhl-express <tracking-number> exception weather "Storm at the hub"
//
// Types: picked_up, in_transit, out_for_delivery, delivered, exception (with a cause code:
// weather, carrier_capacity, address_issue, customs, warehouse_backlog, vehicle_breakdown).
import { createHmac, randomUUID } from 'node:crypto';

const [url, trackingNumber, type = 'in_transit', causeCode, cause] = process.argv.slice(2);
const secret = process.env.CARRIER_SECRET; // an example, not the service: it may read its environment
if (!url || !trackingNumber || !secret?.startsWith('whsec_')) {
  console.error('usage: CARRIER_SECRET=whsec_… npx tsx examples/carrier-event.ts <url> <tracking-number> [type] [cause-code] [cause]');
  process.exit(2);
}

const body = JSON.stringify({
  type, tracking_number: trackingNumber, occurred_at: new Date().toISOString(),
  ...(type === 'exception' ? { cause_code: causeCode ?? 'carrier_capacity', ...(cause ? { cause } : {}) } : {}),
});
const id = `evt_${randomUUID()}`;
const timestamp = Math.floor(Date.now() / 1000);
// Standard Webhooks: base64 HMAC-SHA256 over "id.timestamp.body", keyed with the secret's bytes.
const signature = createHmac('sha256', Buffer.from(secret.slice('whsec_'.length), 'base64')).update(`${id}.${timestamp}.${body}`).digest('base64');

const res = await fetch(url, {
  method: 'POST', body,
  headers: { 'content-type': 'application/json', 'webhook-id': id, 'webhook-timestamp': String(timestamp), 'webhook-signature': `v1,${signature}` },
});
console.log(res.status, await res.text());
process.exit(res.ok ? 0 : 1);
