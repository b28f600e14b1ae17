// Secrets that must be usable again (carrier HMAC secrets we verify with, webhook secrets we sign
// with) cannot be stored as hashes: they are sealed with AES-256-GCM under a key kept outside the
// database, and bound to the row they belong to (the additional data names tenant, kind and
// owner), so a sealed value copied onto another row does not open. The key is WEBHOOK_SECRETS_KEY
// when configured (the same on every instance and for the admin command line), else a random key
// in DATA_DIR/webhook-secrets-key (mode 0600), made on first use like the sign-in device key.
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { dataDirKey } from '../authz/data-dir-key.js';
import type { Config } from '../config.js';

const KEY_FILE = 'webhook-secrets-key';
const SEALED = /^v1\.([A-Za-z0-9_-]{16})\.([A-Za-z0-9_-]{22,2000})$/;

/** The sealing key: configured, or DATA_DIR's (created once, atomically, never overwritten). */
export function secretsKey(config: Pick<Config, 'dataDir'> & { webhooks: Pick<Config['webhooks'], 'secretsKey'> }): Promise<Buffer> {
  return dataDirKey(config.dataDir, KEY_FILE, config.webhooks.secretsKey, 'webhook-secrets');
}

/** What a sealed value is bound to: e.g. ['carrier', tenantId, carrierId]. */
export type Binding = readonly string[];

export function seal(key: Buffer, plaintext: string, binding: Binding): string {
  const iv = randomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', key, iv);
  cipher.setAAD(Buffer.from(binding.join('\n')));
  const body = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final(), cipher.getAuthTag()]);
  return `v1.${iv.toString('base64url')}.${body.toString('base64url')}`;
}

/** The plaintext, or null when the value is malformed, sealed under another key or for another row. */
export function open(key: Buffer, sealed: string, binding: Binding): string | null {
  const m = SEALED.exec(sealed);
  if (!m) return null;
  const iv = Buffer.from(m[1]!, 'base64url');
  const body = Buffer.from(m[2]!, 'base64url');
  if (body.length < 17) return null;
  try {
    const decipher = createDecipheriv('aes-256-gcm', key, iv);
    decipher.setAAD(Buffer.from(binding.join('\n')));
    decipher.setAuthTag(body.subarray(body.length - 16));
    return Buffer.concat([decipher.update(body.subarray(0, body.length - 16)), decipher.final()]).toString('utf8');
  } catch {
    return null;
  }
}
