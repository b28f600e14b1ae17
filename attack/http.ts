// HTTP for the attack suite: every request bounded by a timeout, redirects never followed (the
// suite reads `Location` itself), and a minimal cookie-keeping browser for the login and consent forms.
import { request as httpRequest, type IncomingHttpHeaders } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { Readable } from 'node:stream';

export interface HttpConfig {
  timeoutMs: number;
  /**
   * The local address connections are made from, when set: against a loopback target each row gets
   * a loopback address of its own (127.x.y.z), so one attack's per-IP throttling does not bleed into
   * the next. A real source address, not a forwarded header: the service believes X-Forwarded-For
   * from nobody unless its operator says so (L4).
   */
  sourceAddress?: string;
}

/** Our token shapes (src/authz/tokens.ts): what L1 looks for in the service log. */
export const TOKEN_SHAPE = /cmcp_(?:at|rt|code|secret|csrf|confirm)_[A-Za-z0-9_-]{16,}/g;
const MAX_RECEIVED = 10_000;

/**
 * What passed through the suite's plumbing that made something on the deployment: the run context
 * listens (`onEvent`) and records it for the clean-up (attack/context.ts, attack/ledger.ts).
 */
export type HttpEvent =
  | { type: 'tool'; url: string; name: string; args: Record<string, unknown>; structured: Record<string, unknown> | undefined; isError: boolean }
  | { type: 'sign-in'; url: string; login: string }
  | { type: 'registered'; url: string; clientId: string };

export class Http {
  /** Secrets the service handed the suite (cookie values, codes in redirects, tokens in JSON): L1 looks for each in the log. */
  readonly received = new Set<string>();
  /** Told of every tool call, sign-in form post and client registration made through this instance. */
  onEvent: ((event: HttpEvent) => void) | undefined;

  constructor(readonly config: HttpConfig) {}

  async fetch(url: string | URL, init: RequestInit & { timeoutMs?: number } = {}): Promise<Response> {
    const { timeoutMs, ...rest } = init;
    const signal = init.signal ?? AbortSignal.timeout(timeoutMs ?? this.config.timeoutMs);
    const res = this.config.sourceAddress
      ? await fetchFrom(this.config.sourceAddress, url, { ...rest, signal })
      : await fetch(url, { ...rest, redirect: 'manual', signal });
    this.#remember(res.headers);
    return res;
  }

  #keep(value: string | undefined): void {
    if (value && value.length >= 16 && this.received.size < MAX_RECEIVED) this.received.add(value);
  }

  #remember(headers: Headers): void {
    for (const c of headers.getSetCookie()) this.#keep(/^[^=]*=([^;]*)/.exec(c)?.[1]);
    const location = headers.get('location');
    if (location?.includes('code=')) this.#keep(new URL(location, 'http://x.invalid').searchParams.get('code') ?? undefined);
  }

  async json(url: string | URL, init: RequestInit & { timeoutMs?: number } = {}): Promise<{ status: number; headers: Headers; body: Record<string, unknown>; text: string }> {
    const res = await this.fetch(url, init);
    const text = await res.text();
    if (text.includes('cmcp_')) for (const m of text.matchAll(TOKEN_SHAPE)) this.#keep(m[0]);
    let body: Record<string, unknown> = {};
    try { body = JSON.parse(text) as Record<string, unknown>; } catch { /* not JSON: the caller looks at text */ }
    // RFC 7591 §3.2.1: a registration answers 201 with the new client_id (whoever sent it).
    if (init.method === 'POST' && res.status === 201 && typeof body.client_id === 'string') this.onEvent?.({ type: 'registered', url: String(url), clientId: body.client_id });
    return { status: res.status, headers: res.headers, body, text };
  }

  /** A form POST (application/x-www-form-urlencoded). */
  form(url: string, form: Record<string, string>, headers: Record<string, string> = {}) {
    return this.json(url, {
      method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers }, body: new URLSearchParams(form).toString(),
    });
  }
}

/**
 * fetch's contract (a web Response, redirects not followed, aborted by `signal`) over node:http, whose
 * requests can choose their local address (fetch in Node 20 cannot without the undici package).
 */
async function fetchFrom(localAddress: string, url: string | URL, init: RequestInit & { signal: AbortSignal }): Promise<Response> {
  // Request normalises the body (string, form, bytes) and its content type the way fetch would.
  const request = new Request(url, { ...init, redirect: 'manual' });
  const body = request.body ? Buffer.from(await request.arrayBuffer()) : undefined;
  const headers: Record<string, string> = { accept: '*/*', 'user-agent': 'commerce-mcp-attack-suite' };
  request.headers.forEach((value, name) => { headers[name] = value; });
  if (body) headers['content-length'] = String(body.length);
  const u = new URL(request.url);
  const send = u.protocol === 'https:' ? httpsRequest : httpRequest;
  const signal = init.signal;
  return new Promise<Response>((resolve, reject) => {
    const req = send(u, { method: request.method, headers, localAddress, family: 4, agent: false }, (res) => {
      const h = new Headers();
      for (let i = 0; i + 1 < res.rawHeaders.length; i += 2) h.append(res.rawHeaders[i]!, res.rawHeaders[i + 1]!);
      const status = res.statusCode ?? 0;
      const empty = [101, 103, 204, 205, 304].includes(status) || request.method === 'HEAD';
      if (empty) res.resume();
      resolve(new Response(empty ? null : (Readable.toWeb(res) as ReadableStream<Uint8Array>), { status, statusText: res.statusMessage, headers: h }));
    });
    const abort = () => req.destroy(signal.reason instanceof Error ? signal.reason : new Error('aborted'));
    if (signal.aborted) abort();
    else signal.addEventListener('abort', abort, { once: true });
    req.on('close', () => signal.removeEventListener('abort', abort));
    req.on('error', reject);
    req.end(body);
  });
}

export interface RawResponse {
  status: number;
  headers: IncomingHttpHeaders;
  body: string;
}

/**
 * A request through node:http directly, for what fetch will not send (a foreign Host header) and
 * bodies that must be streamed. Bounded by `timeoutMs`; the body read is capped at 1 MB.
 */
export function rawRequest(url: string, options: { method?: string; headers?: Record<string, string>; body?: string | Buffer; timeoutMs: number }): Promise<RawResponse> {
  const u = new URL(url);
  const send = u.protocol === 'https:' ? httpsRequest : httpRequest;
  return new Promise((resolve, reject) => {
    const req = send(u, { method: options.method ?? 'GET', headers: options.headers, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      let size = 0;
      res.on('data', (c: Buffer) => { size += c.length; if (size <= 1 << 20) chunks.push(c); });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString('utf8') }));
      res.on('error', reject);
    });
    req.setTimeout(options.timeoutMs, () => req.destroy(new Error(`timed out after ${options.timeoutMs} ms`)));
    req.on('error', reject);
    if (options.body !== undefined) req.write(options.body);
    req.end();
  });
}

/** Files `Set-Cookie` answers into a jar by name; an expired or emptied cookie leaves it. */
export function keepCookies(jar: Map<string, string>, setCookies: readonly string[]): void {
  for (const c of setCookies) {
    const [pair = ''] = c.split(';');
    const i = pair.indexOf('=');
    if (i <= 0) continue;
    const name = pair.slice(0, i);
    const value = pair.slice(i + 1);
    if (/max-age=0|expires=thu, 01 jan 1970/i.test(c) || value === '') jar.delete(name);
    else jar.set(name, value);
  }
}

/** A minimal browser: a cookie jar by name, same-origin form posts, no automatic redirects. */
export class Browser {
  cookies = new Map<string, string>();
  constructor(readonly http: Http, readonly origin: string) {}

  async fetch(url: string, init: RequestInit = {}): Promise<Response> {
    const headers = new Headers(init.headers);
    if (this.cookies.size) headers.set('cookie', [...this.cookies].map(([k, v]) => `${k}=${v}`).join('; '));
    const res = await this.http.fetch(new URL(url, this.origin), { ...init, headers });
    keepCookies(this.cookies, res.headers.getSetCookie());
    return res;
  }

  post(url: string, form: Record<string, string>, extraHeaders: Record<string, string> = {}): Promise<Response> {
    // A sign-in form (authorization server or console): the account's throttle counters move.
    if (typeof form.email === 'string' && typeof form.password === 'string') {
      this.http.onEvent?.({ type: 'sign-in', url: new URL(url, this.origin).toString(), login: form.email });
    }
    return this.fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', origin: this.origin, ...extraHeaders },
      body: new URLSearchParams(form).toString(),
    });
  }
}

export function formAction(html: string): string | undefined {
  const m = /<form[^>]*method="post"[^>]*action="([^"]+)"/i.exec(html) ?? /<form[^>]*action="([^"]+)"[^>]*method="post"/i.exec(html);
  return m?.[1]?.replace(/&amp;/g, '&');
}

export function csrfOf(html: string): string | undefined {
  return /name="csrf" value="([^"]+)"/.exec(html)?.[1];
}

/** The visible text of an HTML page, for comparing error messages. */
export function pageText(html: string): string {
  return html.replace(/<style[\s\S]*?<\/style>/gi, '').replace(/<[^>]+>/g, ' ').replace(/\s+/g, ' ').trim();
}

export function isLoopbackUrl(url: string): boolean {
  const h = new URL(url).hostname.replace(/^\[|\]$/g, '');
  return h === 'localhost' || h === '::1' || /^127\./.test(h);
}
