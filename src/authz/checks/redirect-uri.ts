// Redirect URI rules: registration (RFC 7591 §2 + OAuth 2.1 §2.3.1/§7.5, RFC 8252 §7.3/§8.3) and
// matching at the authorization endpoint (OAuth 2.1 §4.1.1: exact string comparison; RFC 8252 §7.3:
// any port for loopback). Pure functions over strings: no URL normalisation on the comparison path,
// so that variants (case, trailing slash, userinfo, encodings) never compare equal (O3). A URI is
// accepted only in canonical form — the form a WHATWG URL parser gives back unchanged — so no
// empty host, dot segment, encoded dot or out-of-range port gets in (O16), and every URI that is
// accepted or matched parses later without an error (never a 500).

const LOOPBACK = /^http:\/\/(127\.0\.0\.1|\[::1\]|localhost)(?::(\d{1,5}))?((?:[/?][^#]*)?)$/;
// Printable ASCII without space, quote, angle brackets, backslash, backtick, braces, pipe, caret.
const URI_CHARS = /^[\x21\x23-\x3b\x3d\x3f-\x5b\x5d\x5f\x61-\x7a\x7e]+$/;
// scheme://authority path?query — the authority with no userinfo, the path absolute or empty.
const SHAPE = /^(https?):\/\/([^/?#@]+)([^?#]*)(\?[^#]*)?$/;
// RFC 3986 §3.2.3: digits only; 1–65535 (port 0 is "any port", nothing to redirect to).
const PORT = /:(\d+)$/;

export type RedirectUriProblem =
  | 'not_ascii' | 'fragment' | 'userinfo' | 'scheme' | 'empty_host' | 'port' | 'dot_segment' | 'encoded_dot' | 'not_canonical' | 'not_loopback';

/** Why `uri` may not be a redirect URI, or null when it may. */
export function redirectUriProblem(uri: string, options: { allowHttp?: boolean } = {}): RedirectUriProblem | null {
  if (uri.length > 2000 || !URI_CHARS.test(uri)) return 'not_ascii';
  if (uri.includes('#')) return 'fragment';
  const shape = SHAPE.exec(uri);
  if (!shape) return uri.includes('@') ? 'userinfo' : /^https?:\/\/(?:[/?]|$)/i.test(uri) ? 'empty_host' : 'scheme';
  const [, scheme, authority, path] = shape as unknown as [string, string, string, string];
  const port = PORT.exec(authority);
  const host = port ? authority.slice(0, -port[0].length) : authority;
  if (!host || host === '[]') return 'empty_host';
  if (port && (port[1]!.length > 5 || Number(port[1]) < 1 || Number(port[1]) > 65535)) return 'port';
  // RFC 3986 §5.2.4: "." and ".." segments, plain or percent-encoded (WHATWG URL treats %2e as a dot).
  if (/%2e/i.test(path) || /%2f|%5c/i.test(path)) return 'encoded_dot';
  if (/(^|\/)\.\.?(\/|$)/.test(path)) return 'dot_segment';
  let u: URL;
  try { u = new URL(uri); } catch { return 'not_canonical'; }
  if (u.username || u.password) return 'userinfo';
  // The parser's own form must be the one given (lower-case host, no default port, no odd
  // encodings, an explicit path): what is compared later is what the client registered.
  if (u.href !== uri) return 'not_canonical';
  if (scheme === 'https') return null;
  if (LOOPBACK.test(uri) || options.allowHttp) return null;
  return 'not_loopback';
}

/** RFC 7591 §2 / OAuth 2.1 §2.3.1: absolute https, or http on a loopback literal; canonical; no fragment, no userinfo. */
export function isAllowedRedirectUri(uri: string, options: { allowHttp?: boolean } = {}): boolean {
  return redirectUriProblem(uri, options) === null;
}

/** OAuth 2.1 §4.1.1 + RFC 8252 §7.3: the requested URI equals a registered one exactly, the port aside for loopback. */
export function matchRedirectUri(requested: string, registered: readonly string[]): string | undefined {
  if (!URI_CHARS.test(requested) || !URL.canParse(requested)) return undefined;
  if (registered.includes(requested)) return requested;
  const r = LOOPBACK.exec(requested);
  // RFC 8252 §7.3 lets the port vary, not its validity: the requested one must be a real port.
  if (!r || redirectUriProblem(requested) !== null) return undefined;
  for (const candidate of registered) {
    const c = LOOPBACK.exec(candidate);
    if (c && c[1] === r[1] && c[3] === r[3]) return requested;
  }
  return undefined;
}
