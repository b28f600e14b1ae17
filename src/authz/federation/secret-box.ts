// The upstream client secrets at rest (issue 13 §3): AES-256-GCM (NIST SP 800-38D) with a random
// 96-bit IV per value and the tenant and audience as additional data, so a ciphertext copied to
// another tenant's row does not decrypt. The key is FEDERATION_SECRET_KEY when configured (the
// same on every instance and for `npm run admin`), else a random key kept in
// DATA_DIR/federation-secret-key (mode 0600), made on first use like the device-cookie key.
// A decrypted secret goes only into the request to the upstream's token endpoint: never to a log,
// a page, the admin output or an MCP client.
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import type { Config } from '../../config.js';
import { dataDirKey } from '../data-dir-key.js';

const KEY_FILE = 'federation-secret-key';
const VERSION = 'v1';

/** The encryption key: configured, or DATA_DIR's (created once, never overwritten). */
export function federationKey(config: Pick<Config, 'dataDir' | 'federationSecretKey'>): Promise<Buffer> {
  return dataDirKey(config.dataDir, KEY_FILE, config.federationSecretKey, 'federation');
}

function additionalData(tenantId: string, audience: string): Buffer {
  return Buffer.from(`upstream-client-secret\n${tenantId}\n${audience}`);
}

/** `v1.<iv>.<ciphertext>.<tag>`, base64url parts. */
export function sealSecret(key: Buffer, tenantId: string, audience: string, secret: string): string {
  const iv = randomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', key, iv);
  cipher.setAAD(additionalData(tenantId, audience));
  const body = Buffer.concat([cipher.update(secret, 'utf8'), cipher.final()]);
  return [VERSION, iv.toString('base64url'), body.toString('base64url'), cipher.getAuthTag().toString('base64url')].join('.');
}

/** The secret, or throws when the value was not sealed with this key for this tenant and audience. */
export function openSecret(key: Buffer, tenantId: string, audience: string, sealed: string): string {
  const [version, iv, body, tag] = sealed.split('.');
  if (version !== VERSION || !iv || body === undefined || !tag) throw new Error('sealed secret malformed');
  const decipher = createDecipheriv('aes-256-gcm', key, Buffer.from(iv, 'base64url'));
  decipher.setAAD(additionalData(tenantId, audience));
  decipher.setAuthTag(Buffer.from(tag, 'base64url'));
  return Buffer.concat([decipher.update(Buffer.from(body, 'base64url')), decipher.final()]).toString('utf8');
}
