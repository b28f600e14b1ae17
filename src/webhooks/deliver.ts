// One delivery attempt (docs/WEBHOOKS.md "Delivery"): a POST of the signed message to a target
// checked like client metadata documents are (target-url.ts), connected to the address that was
// checked (no second DNS answer), no redirects followed (a 3xx is a failure), 5 s for the whole
// exchange, at most 4 KB of the answer read. Never throws: the outcome says what happened.
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import type { FetchPolicy } from '../authz/checks/client-metadata-document.js';
import { checkTarget } from './target-url.js';

export const DELIVERY_TIMEOUT_MS = 5_000;
const MAX_RESPONSE_BYTES = 4 * 1024;

export type AttemptOutcome = { ok: true; status: number } | { ok: false; status: number | null; error: string };

export async function postSigned(url: string, headers: Record<string, string>, body: string, policy: FetchPolicy): Promise<AttemptOutcome> {
  const target = await checkTarget(url, policy);
  if (!target.ok) return { ok: false, status: null, error: `target refused: ${target.reason}` };
  const pinned = target.address;
  const request = target.url.protocol === 'https:' ? httpsRequest : httpRequest;
  return new Promise<AttemptOutcome>((resolve) => {
    let settled = false;
    const done = (o: AttemptOutcome) => { if (!settled) { settled = true; clearTimeout(deadline); resolve(o); } };
    const req = request(target.url, {
      method: 'POST',
      headers: { ...headers, 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(body)), 'user-agent': 'commerce-mcp-webhooks' },
      timeout: DELIVERY_TIMEOUT_MS,
      lookup: (_host, options, callback) => {
        if ((options as { all?: boolean }).all) (callback as unknown as (e: null, a: { address: string; family: number }[]) => void)(null, [pinned]);
        else callback(null, pinned.address, pinned.family);
      },
      agent: false,
    }, (res) => {
      const status = res.statusCode ?? 0;
      let size = 0;
      res.on('data', (c: Buffer) => { size += c.length; if (size > MAX_RESPONSE_BYTES) res.destroy(); });
      const finish = () => done(status >= 200 && status < 300 ? { ok: true, status } : { ok: false, status, error: `answered ${status}` });
      res.on('end', finish);
      res.on('close', finish);
      res.on('error', finish);
    });
    const deadline = setTimeout(() => { req.destroy(); done({ ok: false, status: null, error: 'timed out' }); }, DELIVERY_TIMEOUT_MS);
    req.on('timeout', () => { req.destroy(); done({ ok: false, status: null, error: 'timed out' }); });
    req.on('error', (e) => done({ ok: false, status: null, error: `connection failed: ${e.message}` }));
    req.end(body);
  });
}
