// We as an OpenID Connect relying party of a tenant's upstream provider (OpenID Connect Core 1.0
// §3.1, authorization code flow; RFC 7636 PKCE S256; `state` and `nonce`). oauth4webapi does the
// protocol: discovery (OIDC Discovery §4, issuer compared exactly), the authorization response
// (RFC 9207 `iss` when the provider advertises it), the code exchange and the ID token's claims
// (iss, aud, azp, exp, iat, nonce: Core §3.1.3.7). The ID token's signature is verified here too,
// with jose against the provider's published keys, rather than relying on TLS alone (Core
// §3.1.3.7 step 6 allows either): a token signed by any other key is refused.
// Upstream tokens end here: nothing of them is stored or handed to an MCP client.
import { createRemoteJWKSet, customFetch as joseFetch, jwtVerify, type JWTPayload } from 'jose';
import * as oauth from 'oauth4webapi';
import type { FetchPolicy } from '../checks/client-metadata-document.js';
import { isPermittedUpstreamUrl, upstreamFetch } from './safe-fetch.js';
import type { IdentityProvider } from './upstream-config.js';

/** Asymmetric JWS algorithms only: no `none`, no HMAC with a secret the upstream shares with others. */
export const ID_TOKEN_ALGORITHMS = ['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'ES256', 'ES384', 'ES512', 'EdDSA', 'Ed25519'];
const DISCOVERY_CACHE_MS = 5 * 60_000;
const CLOCK_TOLERANCE_SECONDS = 30;

export class UpstreamSignInError extends Error {
  constructor(readonly reason: 'unavailable' | 'refused' | 'invalid', detail: string) { super(detail); }
}

interface Discovered { as: oauth.AuthorizationServer; at: number }
const discovered = new Map<string, Promise<Discovered>>();
const keySets = new Map<string, ReturnType<typeof createRemoteJWKSet>>();

function requestOptions(policy: FetchPolicy) {
  return { [oauth.customFetch]: upstreamFetch(policy), [oauth.allowInsecureRequests]: policy.allowPrivateNetwork } as const;
}

/** The provider's metadata (cached a few minutes per issuer); its issuer must equal the configured one. */
export async function discover(issuer: string, policy: FetchPolicy): Promise<oauth.AuthorizationServer> {
  if (!isPermittedUpstreamUrl(issuer, policy)) throw new UpstreamSignInError('unavailable', 'issuer URL not permitted here');
  const cacheKey = `${policy.allowPrivateNetwork}:${issuer}`;
  const cached = discovered.get(cacheKey);
  if (cached) {
    const hit = await cached.catch(() => null);
    if (hit && Date.now() - hit.at < DISCOVERY_CACHE_MS) return hit.as;
  }
  const fresh = (async () => {
    const issuerUrl = new URL(issuer);
    const response = await oauth.discoveryRequest(issuerUrl, { algorithm: 'oidc', ...requestOptions(policy) });
    const as = await oauth.processDiscoveryResponse(issuerUrl, response);
    for (const endpoint of [as.authorization_endpoint, as.token_endpoint, as.jwks_uri]) {
      if (!endpoint || !isPermittedUpstreamUrl(endpoint, policy)) throw new UpstreamSignInError('unavailable', 'provider metadata lacks a permitted endpoint');
    }
    return { as, at: Date.now() };
  })();
  discovered.set(cacheKey, fresh);
  fresh.catch(() => { if (discovered.get(cacheKey) === fresh) discovered.delete(cacheKey); });
  try {
    return (await fresh).as;
  } catch (e) {
    if (e instanceof UpstreamSignInError) throw e;
    throw new UpstreamSignInError('unavailable', `discovery failed: ${(e as Error).message}`);
  }
}

/** The JWKS of a provider or enterprise IdP, fetched with the SSRF rules and cached by jose. */
export function remoteKeys(jwksUri: string, policy: FetchPolicy): ReturnType<typeof createRemoteJWKSet> {
  const cacheKey = `${policy.allowPrivateNetwork}:${jwksUri}`;
  let set = keySets.get(cacheKey);
  if (!set) {
    const fetcher = upstreamFetch(policy);
    set = createRemoteJWKSet(new URL(jwksUri), { timeoutDuration: 5_000, [joseFetch]: (url, options) => fetcher(url, options) });
    keySets.set(cacheKey, set);
  }
  return set;
}

export interface UpstreamRequest {
  authorizationUrl: string;
  state: string;
  nonce: string;
  codeVerifier: string;
}

/** Core §3.1.2.1: the authorization request, with PKCE S256, state and nonce. */
export async function beginUpstreamSignIn(provider: IdentityProvider, redirectUri: string, policy: FetchPolicy): Promise<UpstreamRequest> {
  const as = await discover(provider.issuer, policy);
  const state = oauth.generateRandomState();
  const nonce = oauth.generateRandomNonce();
  const codeVerifier = oauth.generateRandomCodeVerifier();
  const url = new URL(as.authorization_endpoint!);
  url.searchParams.set('response_type', 'code');
  url.searchParams.set('client_id', provider.clientId!);
  url.searchParams.set('redirect_uri', redirectUri);
  url.searchParams.set('scope', provider.scopes.join(' '));
  url.searchParams.set('state', state);
  url.searchParams.set('nonce', nonce);
  url.searchParams.set('code_challenge', await oauth.calculatePKCECodeChallenge(codeVerifier));
  url.searchParams.set('code_challenge_method', 'S256');
  return { authorizationUrl: url.toString(), state, nonce, codeVerifier };
}

/**
 * Core §3.1.2.7, §3.1.3: checks the authorization response, redeems the code and returns the ID
 * token's claims once every check passed. Upstream errors (the person refused, or is disabled
 * there) are 'refused'; anything that does not verify is 'invalid'.
 */
export async function finishUpstreamSignIn(provider: IdentityProvider, clientSecret: string | null, redirectUri: string, callback: URL,
  expected: { state: string; nonce: string; codeVerifier: string }, policy: FetchPolicy): Promise<JWTPayload> {
  const as = await discover(provider.issuer, policy);
  const client: oauth.Client = { client_id: provider.clientId!, [oauth.clockTolerance]: CLOCK_TOLERANCE_SECONDS };
  let params: URLSearchParams;
  try {
    params = oauth.validateAuthResponse(as, client, callback, expected.state);
  } catch (e) {
    if (e instanceof oauth.AuthorizationResponseError) throw new UpstreamSignInError('refused', `upstream answered ${e.error}`);
    throw new UpstreamSignInError('invalid', `authorization response: ${(e as Error).message}`);
  }
  const auth = clientSecret ? oauth.ClientSecretBasic(clientSecret) : oauth.None();
  let result: oauth.TokenEndpointResponse;
  try {
    const response = await oauth.authorizationCodeGrantRequest(as, client, auth, params, redirectUri, expected.codeVerifier, requestOptions(policy));
    result = await oauth.processAuthorizationCodeResponse(as, client, response, { expectedNonce: expected.nonce, requireIdToken: true });
  } catch (e) {
    if (e instanceof oauth.ResponseBodyError) throw new UpstreamSignInError('refused', `upstream token endpoint: ${e.error}`);
    throw new UpstreamSignInError('invalid', `token response: ${(e as Error).message}`);
  }
  const algorithms = (as.id_token_signing_alg_values_supported ?? ['RS256']).filter((a) => ID_TOKEN_ALGORITHMS.includes(a));
  try {
    await jwtVerify(result.id_token!, remoteKeys(as.jwks_uri!, policy), {
      issuer: provider.issuer, audience: provider.clientId!, algorithms, clockTolerance: CLOCK_TOLERANCE_SECONDS,
    });
  } catch (e) {
    throw new UpstreamSignInError('invalid', `ID token signature: ${(e as Error).message}`);
  }
  const claims = oauth.getValidatedIdTokenClaims(result);
  if (!claims) throw new UpstreamSignInError('invalid', 'no ID token');
  return claims as JWTPayload;
}
