// When remembered consent may stand in for the consent page (RFC 8252 §8.6; docs/ATTACK-CATALOGUE.md O14).
import type { Client } from '../clients.js';

const LOOPBACK_HOST = /^(127\.\d{1,3}\.\d{1,3}\.\d{1,3}|\[::1\]|localhost)$/i;

/**
 * RFC 8252 §8.6: a request is processed without the person only when the client's identity is
 * assured. A confidential client proves it at the token endpoint; a public client only through an
 * https redirect to a host it controls. Any local app can open a loopback port and claim a public
 * client's id, so for a public client redirecting to loopback (or anything but https) remembered
 * consent is never reused: the person is asked every time.
 */
export function mayReuseConsent(client: Pick<Client, 'authMethod' | 'confidential'>, redirectUri: string): boolean {
  if (client.confidential && client.authMethod !== 'none') return true;
  let u: URL;
  try { u = new URL(redirectUri); } catch { return false; }
  return u.protocol === 'https:' && !LOOPBACK_HOST.test(u.hostname);
}
