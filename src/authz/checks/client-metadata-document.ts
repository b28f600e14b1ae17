// Client ID Metadata Documents (draft-ietf-oauth-client-id-metadata-document; MCP 2025-11-25
// authorization §"Client ID Metadata Documents"): the client_id is an https URL whose document
// describes the client. Fetched with SSRF protection (M4): the host is resolved here, every address
// must be public (unless the development setting allows private ones), and the connection is pinned
// to the checked address so a second DNS answer cannot rebind it. No redirects, 5 KB, 3 s.
import { lookup } from 'node:dns/promises';
import { request as httpRequest, type IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { isIP } from 'node:net';
import { z } from 'zod';
import { InvalidClient } from '../errors.js';
import { findTextDefect } from '../../text/defects.js';
import { cleanClientName } from './client-name.js';
import { isAllowedRedirectUri } from './redirect-uri.js';
import { isPublicAddress } from './network-address.js';

export const MAX_DOCUMENT_BYTES = 5 * 1024;
export const FETCH_TIMEOUT_MS = 3_000;

export interface FetchPolicy {
  /** Development/test only (config.allowPrivateNetworkFetch): loopback/private targets and http URLs. */
  allowPrivateNetwork: boolean;
}

/** CIMD §3: an https URL with a path, no fragment, no userinfo, no dot segments. */
export function isClientIdUrl(clientId: string, policy: FetchPolicy): boolean {
  if (!/^https?:\/\//.test(clientId) || clientId.length > 2000) return false;
  let u: URL;
  try { u = new URL(clientId); } catch { return false; }
  if (u.protocol !== 'https:' && !(policy.allowPrivateNetwork && u.protocol === 'http:')) return false;
  if (u.username || u.password || u.hash || clientId.includes('#')) return false;
  if (u.pathname === '/' || /\/\.\.?(\/|$)/.test(clientId.replace(/^[a-z]+:\/\/[^/]+/, ''))) return false;
  return u.href === clientId; // no odd encodings that normalise into something else
}

/** M4: resolves `hostname` and returns one address we may connect to, or throws before any connection. */
export async function resolvePermittedAddress(hostname: string, policy: FetchPolicy): Promise<{ address: string; family: 4 | 6 }> {
  const bare = hostname.replace(/^\[|\]$/g, '');
  // WHATWG URL parsing already turned 0x7f.1, 2130706433, 0177.0.0.1 into dotted quads.
  const addresses = isIP(bare) ? [{ address: bare, family: isIP(bare) as 4 | 6 }]
    : (await lookup(bare, { all: true, verbatim: true })).map((a) => ({ address: a.address, family: a.family as 4 | 6 }));
  if (!addresses.length) throw new InvalidClient(`no address for ${hostname}`);
  if (!policy.allowPrivateNetwork) {
    const refused = addresses.find((a) => !isPublicAddress(a.address));
    if (refused) throw new InvalidClient(`client metadata host ${hostname} resolves to non-public ${refused.address}`);
  }
  return addresses[0]!;
}

/** The document's fields that we use (CIMD §4: RFC 7591 client metadata). */
export const clientMetadataDocument = z.object({
  client_id: z.string(),
  client_name: z.string().min(1).max(100).optional(),
  client_uri: z.string().max(2000).optional(),
  logo_uri: z.string().max(2000).optional(),
  redirect_uris: z.array(z.string()).min(1).max(10),
  grant_types: z.array(z.string()).optional(),
  response_types: z.array(z.string()).optional(),
  token_endpoint_auth_method: z.string().optional(),
  scope: z.string().max(1000).optional(),
});
export type ClientMetadataDocument = z.infer<typeof clientMetadataDocument>;

/** CIMD §4.1: client_id must equal the URL; public clients only; redirect URIs by our rules. */
export function checkClientMetadataDocument(url: string, body: unknown, policy: FetchPolicy): ClientMetadataDocument {
  const parsed = clientMetadataDocument.safeParse(body);
  if (!parsed.success) throw new InvalidClient('client metadata document malformed');
  const defect = findTextDefect(body); // E1: nothing PostgreSQL cannot store
  if (defect) throw new InvalidClient(`client metadata document ${defect.path} ${defect.problem}`);
  const doc = parsed.data;
  if (doc.client_id !== url) throw new InvalidClient('client metadata document client_id differs from its URL');
  if ((doc.token_endpoint_auth_method ?? 'none') !== 'none') throw new InvalidClient('client metadata document: only public clients');
  if (doc.grant_types?.some((g) => g !== 'authorization_code' && g !== 'refresh_token')) throw new InvalidClient('client metadata document grant_types');
  if (doc.response_types?.some((r) => r !== 'code')) throw new InvalidClient('client metadata document response_types');
  // O16: the same canonical rules as registration; plain http only where the development setting allows it.
  if (!doc.redirect_uris.every((u) => isAllowedRedirectUri(u, { allowHttp: policy.allowPrivateNetwork }))) {
    throw new InvalidClient('client metadata document redirect_uris');
  }
  // O15: the name without controls or bidi characters (the consent page still marks it unverified).
  const name = doc.client_name === undefined ? undefined : cleanClientName(doc.client_name) ?? undefined;
  return { ...doc, client_name: name };
}

function readCapped(res: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const declared = Number(res.headers['content-length'] ?? 0);
    if (declared > MAX_DOCUMENT_BYTES) { res.destroy(); return reject(new InvalidClient('client metadata document too large')); }
    const chunks: Buffer[] = [];
    let size = 0;
    res.on('data', (c: Buffer) => {
      size += c.length;
      if (size > MAX_DOCUMENT_BYTES) { res.destroy(); reject(new InvalidClient('client metadata document too large')); }
      else chunks.push(c);
    });
    res.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    res.on('error', reject);
  });
}

/** Fetches and checks the document at `url`. Throws InvalidClient for every failure. */
export async function fetchClientMetadataDocument(url: string, policy: FetchPolicy): Promise<ClientMetadataDocument> {
  if (!isClientIdUrl(url, policy)) throw new InvalidClient('client_id is not an acceptable metadata document URL');
  const u = new URL(url);
  const pinned = await resolvePermittedAddress(u.hostname, policy);
  const request = u.protocol === 'https:' ? httpsRequest : httpRequest;
  const body = await new Promise<string>((resolve, reject) => {
    const req = request(url, {
      method: 'GET',
      headers: { accept: 'application/json', 'user-agent': 'commerce-mcp-authorization-server' },
      timeout: FETCH_TIMEOUT_MS,
      // Pin the connection to the address checked above (no second resolution, no rebinding).
      lookup: (_host, options, callback) => {
        if ((options as { all?: boolean }).all) (callback as unknown as (e: null, a: { address: string; family: number }[]) => void)(null, [pinned]);
        else callback(null, pinned.address, pinned.family);
      },
      agent: false,
    }, (res) => {
      if (res.statusCode !== 200) { res.destroy(); return reject(new InvalidClient(`client metadata document status ${res.statusCode}`)); }
      const type = String(res.headers['content-type'] ?? '');
      if (!/^application\/(?:[\w.+-]*\+)?json\b/i.test(type)) { res.destroy(); return reject(new InvalidClient('client metadata document content-type')); }
      readCapped(res).then(resolve, reject);
    });
    const deadline = setTimeout(() => req.destroy(new InvalidClient('client metadata document fetch timed out')), FETCH_TIMEOUT_MS);
    req.on('close', () => clearTimeout(deadline));
    req.on('timeout', () => req.destroy(new InvalidClient('client metadata document fetch timed out')));
    req.on('error', (e) => reject(e instanceof InvalidClient ? e : new InvalidClient(`client metadata document fetch failed: ${e.message}`)));
    req.end();
  });
  let json: unknown;
  try { json = JSON.parse(body); } catch { throw new InvalidClient('client metadata document is not JSON'); }
  return checkClientMetadataDocument(url, json, policy);
}
