// Redirect URI rules: registration (RFC 7591 §2 + OAuth 2.1 §2.3.1/§7.5) and matching at the
// authorization endpoint (OAuth 2.1 §4.1.1: exact string comparison; RFC 8252 §7.3: any port for
// loopback). Pure functions over strings: no URL normalisation on the comparison path, so that
// variants (case, trailing slash, userinfo, encodings) never compare equal (O3).

const LOOPBACK = /^http:\/\/(127\.0\.0\.1|\[::1\]|localhost)(?::(\d{1,5}))?((?:[/?][^#]*)?)$/;
// Printable ASCII without space, quote, angle brackets, backslash, backtick, braces, pipe, caret.
const URI_CHARS = /^[\x21\x23-\x3b\x3d\x3f-\x5b\x5d\x5f\x61-\x7a\x7e]+$/;

/** RFC 7591 §2 / OAuth 2.1 §2.3.1: absolute https, or http on a loopback literal; no fragment, no userinfo. */
export function isAllowedRedirectUri(uri: string): boolean {
  if (uri.length > 2000 || !URI_CHARS.test(uri) || uri.includes('#')) return false;
  let u: URL;
  try { u = new URL(uri); } catch { return false; }
  if (u.username || u.password) return false;
  if (u.protocol === 'https:') return u.hostname.length > 0;
  return LOOPBACK.test(uri);
}

/** OAuth 2.1 §4.1.1 + RFC 8252 §7.3: the requested URI equals a registered one exactly, the port aside for loopback. */
export function matchRedirectUri(requested: string, registered: readonly string[]): string | undefined {
  if (!URI_CHARS.test(requested)) return undefined;
  if (registered.includes(requested)) return requested;
  const r = LOOPBACK.exec(requested);
  if (!r) return undefined;
  for (const candidate of registered) {
    const c = LOOPBACK.exec(candidate);
    if (c && c[1] === r[1] && c[3] === r[3]) return requested;
  }
  return undefined;
}
