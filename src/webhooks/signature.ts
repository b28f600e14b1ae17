// Standard Webhooks signatures (https://www.standardwebhooks.com, "Signature scheme"), used both
// ways: the messages we send and the carrier events we accept. A message carries
//   webhook-id: <id>   webhook-timestamp: <unix seconds>   webhook-signature: v1,<base64 sig> [v1,<…> …]
// where sig = HMAC-SHA256(secret, "<id>.<timestamp>.<body>") and the secret is `whsec_<base64>`.
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';

const SECRET = /^whsec_[A-Za-z0-9+/]{24,128}={0,2}$/;

/** A new secret: 32 random bytes, `whsec_` + base64. Shown once, then only kept sealed. */
export function generateSecret(): string {
  return `whsec_${randomBytes(32).toString('base64')}`;
}

export function isSecret(value: string): boolean {
  return SECRET.test(value);
}

function keyOf(secret: string): Buffer {
  if (!isSecret(secret)) throw new Error('not a whsec_ secret');
  return Buffer.from(secret.slice('whsec_'.length), 'base64');
}

/** Standard Webhooks "Signature scheme": base64 HMAC-SHA256 of `id.timestamp.body`. */
export function sign(secret: string, id: string, timestamp: number, body: string | Buffer): string {
  return createHmac('sha256', keyOf(secret)).update(`${id}.${timestamp}.`).update(body).digest('base64');
}

/** The three headers of a signed message. */
export function signedHeaders(secret: string, id: string, timestamp: number, body: string): Record<string, string> {
  return { 'webhook-id': id, 'webhook-timestamp': String(timestamp), 'webhook-signature': `v1,${sign(secret, id, timestamp, body)}` };
}

export type Verdict = { ok: true } | { ok: false; problem: 'malformed' | 'stale' | 'bad_signature' };

/**
 * Standard Webhooks "Verifying webhooks": the timestamp within `toleranceSeconds` of `now`, and one
 * of the `v1,` signatures equal to ours, compared in constant time (O11). Pure: no I/O.
 */
export function verifySignature(
  secret: string, headers: { id: string | undefined; timestamp: string | undefined; signature: string | undefined },
  body: Buffer, toleranceSeconds: number, nowSeconds: number,
): Verdict {
  const { id, timestamp, signature } = headers;
  if (!id || !timestamp || !signature || !/^\d{1,12}$/.test(timestamp) || signature.length > 2000) return { ok: false, problem: 'malformed' };
  const ts = Number(timestamp);
  if (Math.abs(nowSeconds - ts) > toleranceSeconds) return { ok: false, problem: 'stale' };
  const expected = Buffer.from(sign(secret, id, ts, body), 'base64');
  let match = false;
  for (const part of signature.split(' ')) {
    const [version, value] = part.split(',', 2);
    if (version !== 'v1' || !value) continue;
    const given = Buffer.from(value, 'base64');
    // Every candidate is compared (no early exit on a match), each in constant time.
    if (given.length === expected.length && timingSafeEqual(given, expected)) match = true;
  }
  return match ? { ok: true } : { ok: false, problem: 'bad_signature' };
}
