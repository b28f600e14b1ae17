// A cookie-keeping browser that connects from a chosen source address. On Linux every address of
// 127.0.0.0/8 is the loopback interface, so one host can play many clients against a loopback
// target — with no forwarded-for header, whatever proxies the service trusts (O13: guesses for one
// account from many addresses). Plain node:http (fetch cannot choose its source address).
import { request as httpRequest, type IncomingHttpHeaders } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { keepCookies } from './http.js';

export interface AddressedResponse {
  status: number;
  headers: IncomingHttpHeaders;
  body: string;
  location: string | undefined;
  retryAfter: string | undefined;
  setCookies: string[];
}

export class AddressedBrowser {
  cookies = new Map<string, string>();

  constructor(readonly origin: string, readonly localAddress: string, readonly timeoutMs = 30_000) {}

  request(method: 'GET' | 'POST', path: string, form?: Record<string, string>, headers: Record<string, string> = {}): Promise<AddressedResponse> {
    const url = new URL(path, this.origin);
    const send = url.protocol === 'https:' ? httpsRequest : httpRequest;
    const body = form ? new URLSearchParams(form).toString() : undefined;
    const all: Record<string, string> = { ...headers };
    if (this.cookies.size) all.cookie = [...this.cookies].map(([k, v]) => `${k}=${v}`).join('; ');
    if (body !== undefined) {
      all['content-type'] = 'application/x-www-form-urlencoded';
      all.origin ??= this.origin;
    }
    return new Promise((resolve, reject) => {
      const req = send(url, { method, headers: all, localAddress: this.localAddress, agent: false }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('error', reject);
        res.on('end', () => {
          const setCookies = res.headers['set-cookie'] ?? [];
          keepCookies(this.cookies, setCookies);
          const retry = res.headers['retry-after'];
          resolve({
            status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString('utf8'),
            location: res.headers.location, retryAfter: Array.isArray(retry) ? retry[0] : retry, setCookies,
          });
        });
      });
      req.setTimeout(this.timeoutMs, () => req.destroy(new Error(`timed out after ${this.timeoutMs} ms`)));
      req.on('error', reject);
      if (body !== undefined) req.write(body);
      req.end();
    });
  }

  get(path: string): Promise<AddressedResponse> { return this.request('GET', path); }
  post(path: string, form: Record<string, string>, headers: Record<string, string> = {}): Promise<AddressedResponse> { return this.request('POST', path, form, headers); }
}

/** The n-th address of a private loopback block (127.0.<block>.<n>), for one role's clients. */
export function loopbackAddress(block: number, n: number): string {
  return `127.0.${block}.${n}`;
}
