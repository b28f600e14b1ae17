// PKCE (RFC 7636), required for every client with S256 only (OAuth 2.1 §4.1.1; left to itself the
// library treats PKCE as optional and would accept `plain`).
import { createHash, timingSafeEqual } from 'node:crypto';
import { InvalidGrant, InvalidRequest } from '../errors.js';

/** RFC 7636 §4.2: BASE64URL(SHA256(verifier)) is exactly 43 characters of the base64url alphabet. */
const S256_CHALLENGE = /^[A-Za-z0-9_-]{43}$/;
/** RFC 7636 §4.1: 43–128 unreserved characters. */
const VERIFIER = /^[A-Za-z0-9._~-]{43,128}$/;

/** RFC 7636 §4.3/§4.4.1 + OAuth 2.1 §4.1.1: a challenge is required and must be S256 (O1). */
export function checkCodeChallenge(challenge: string | undefined, method: string | undefined): string {
  if (!challenge) throw new InvalidRequest('code_challenge missing');
  if (method !== 'S256') throw new InvalidRequest(`code_challenge_method ${method ?? '(absent, means plain)'} not allowed`);
  if (!S256_CHALLENGE.test(challenge)) throw new InvalidRequest('code_challenge malformed');
  return challenge;
}

/** RFC 7636 §4.6: compare BASE64URL(SHA256(verifier)) with the stored challenge, in constant time (O2). */
export function verifyCodeVerifier(verifier: string | undefined, challenge: string): void {
  if (!verifier || !VERIFIER.test(verifier)) throw new InvalidGrant('code_verifier missing or malformed');
  const computed = Buffer.from(createHash('sha256').update(verifier).digest('base64url'));
  const expected = Buffer.from(challenge);
  if (computed.length !== expected.length || !timingSafeEqual(computed, expected)) throw new InvalidGrant('code_verifier mismatch');
}
