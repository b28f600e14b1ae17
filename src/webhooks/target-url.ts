// Which URLs a webhook subscription may point at (M4, docs/WEBHOOKS.md "Targets"): https (plain http
// only where the development setting allows private networks), no userinfo or fragment, and a
// host whose every address is public — checked when the subscription is made and again, pinned,
// at every delivery (a DNS answer may change in between).
import { resolvePermittedAddress, type FetchPolicy } from '../authz/checks/client-metadata-document.js';

export type TargetRefusal = { ok: false; reason: string };

/** The URL's form alone (pure): scheme, no credentials, no fragment, a sane length. */
export function checkTargetForm(url: string, policy: FetchPolicy): { ok: true; url: URL } | TargetRefusal {
  if (url.length > 2000) return { ok: false, reason: 'URL is longer than 2000 characters' };
  let u: URL;
  try { u = new URL(url); } catch { return { ok: false, reason: 'not a URL' }; }
  if (u.protocol !== 'https:' && !(policy.allowPrivateNetwork && u.protocol === 'http:')) return { ok: false, reason: 'the URL must be https' };
  if (u.username || u.password) return { ok: false, reason: 'no credentials in the URL' };
  if (u.hash || url.includes('#')) return { ok: false, reason: 'no fragment in the URL' };
  return { ok: true, url: u };
}

/** Form, then the host's addresses: refused before any connection is made. */
export async function checkTarget(url: string, policy: FetchPolicy): Promise<{ ok: true; url: URL; address: { address: string; family: 4 | 6 } } | TargetRefusal> {
  const form = checkTargetForm(url, policy);
  if (!form.ok) return form;
  try {
    const address = await resolvePermittedAddress(form.url.hostname, policy);
    return { ok: true, url: form.url, address };
  } catch (error) {
    return { ok: false, reason: (error as Error).message.replace(/^client metadata host/, 'host') };
  }
}
