// Outbound requests to an upstream identity provider (discovery, JWKS, token endpoint), with the
// same SSRF rules as Client ID Metadata Documents (M4): the host is resolved here, every address
// must be public unless the development setting ALLOW_PRIVATE_NETWORK_FETCH allows private ones
// (never honoured in production), and the connection is pinned to the checked address. https only
// in production. No redirects, 512 KB, 5 s. The issuer is chosen by the tenant's operator, not by
// a stranger, but a tenant admin is not trusted with the deployment's private network either.
import { request as httpRequest, type IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { resolvePermittedAddress, type FetchPolicy } from '../checks/client-metadata-document.js';

export const UPSTREAM_MAX_BYTES = 512 * 1024;
export const UPSTREAM_TIMEOUT_MS = 5_000;

export class UpstreamFetchError extends Error {}

interface FetchOptions {
  method?: string;
  headers?: Headers | Record<string, string>;
  body?: string | URLSearchParams | null;
  signal?: AbortSignal | null;
}

/** Whether `url` may be fetched at all under `policy` (scheme; the address is checked at connection). */
export function isPermittedUpstreamUrl(url: string, policy: FetchPolicy): boolean {
  let u: URL;
  try { u = new URL(url); } catch { return false; }
  if (u.username || u.password) return false;
  return u.protocol === 'https:' || (policy.allowPrivateNetwork && u.protocol === 'http:');
}

function readCapped(res: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    res.on('data', (c: Buffer) => {
      size += c.length;
      if (size > UPSTREAM_MAX_BYTES) { res.destroy(); reject(new UpstreamFetchError('upstream response too large')); } else chunks.push(c);
    });
    res.on('end', () => resolve(Buffer.concat(chunks)));
    res.on('error', reject);
  });
}

/** A `fetch` for oauth4webapi's and jose's `customFetch` hooks. */
export function upstreamFetch(policy: FetchPolicy): (url: string, options?: FetchOptions) => Promise<Response> {
  return async (url, options = {}) => {
    if (!isPermittedUpstreamUrl(url, policy)) throw new UpstreamFetchError(`upstream URL not permitted: ${new URL(url).protocol}`);
    const u = new URL(url);
    const pinned = await resolvePermittedAddress(u.hostname, policy).catch((e: Error) => { throw new UpstreamFetchError(e.message); });
    const headers: Record<string, string> = {};
    new Headers(options.headers ?? {}).forEach((v, k) => { headers[k] = v; });
    headers['user-agent'] = 'commerce-mcp-authorization-server';
    const body = options.body === undefined || options.body === null ? undefined : String(options.body);
    if (body !== undefined) headers['content-length'] = String(Buffer.byteLength(body));
    const request = u.protocol === 'https:' ? httpsRequest : httpRequest;
    return new Promise<Response>((resolve, reject) => {
      const req = request(url, {
        method: options.method ?? 'GET', headers, timeout: UPSTREAM_TIMEOUT_MS, agent: false,
        lookup: (_host, lookupOptions, callback) => {
          if ((lookupOptions as { all?: boolean }).all) (callback as unknown as (e: null, a: { address: string; family: number }[]) => void)(null, [pinned]);
          else callback(null, pinned.address, pinned.family);
        },
      }, (res) => {
        readCapped(res).then((buf) => {
          const h = new Headers();
          for (const [k, v] of Object.entries(res.headers)) if (v !== undefined) h.set(k, Array.isArray(v) ? v.join(', ') : v);
          const status = res.statusCode ?? 502;
          // Redirects are not followed (the caller sees the 3xx and refuses it).
          resolve(new Response(status === 204 || status === 304 ? null : new Uint8Array(buf), { status, headers: h }));
        }, reject);
      });
      const deadline = setTimeout(() => req.destroy(new UpstreamFetchError('upstream request timed out')), UPSTREAM_TIMEOUT_MS);
      req.on('close', () => clearTimeout(deadline));
      req.on('timeout', () => req.destroy(new UpstreamFetchError('upstream request timed out')));
      req.on('error', (e) => reject(e instanceof UpstreamFetchError ? e : new UpstreamFetchError(`upstream request failed: ${e.message}`)));
      options.signal?.addEventListener('abort', () => req.destroy(new UpstreamFetchError('upstream request aborted')), { once: true });
      if (body !== undefined) req.write(body);
      req.end();
    });
  };
}
