// O15: a client's name is whatever its registrant typed (RFC 7591 §2 client_name; CIMD §4), so it
// is shown as text anyone could have chosen: without controls, bidi overrides or other invisible
// characters that make "ppa.emca" render as "acme.app" (UAX #9; RFC 7591 §5 "the authorization
// server SHOULD NOT display ... as verified"), whitespace collapsed, NFKC folded, at most 100
// characters. Applied when a name is stored and again when one is shown (older rows).
import { cleanText } from '../../text/invisible.js';

export const MAX_CLIENT_NAME = 100;

/** The name as it may be stored and shown, or null when nothing visible is left. */
export function cleanClientName(name: string): string | null {
  const visible = cleanText(name).text.replace(/\s+/gu, ' ').trim();
  const points = Array.from(visible);
  const cut = points.length > MAX_CLIENT_NAME ? points.slice(0, MAX_CLIENT_NAME).join('').trimEnd() : visible;
  return cut === '' ? null : cut;
}

/** RFC 7591 §5: only names the shop registered itself are its own; the others are unverified. */
export function isVerifiedClientSource(source: string | undefined): boolean {
  return source === 'preregistered';
}
