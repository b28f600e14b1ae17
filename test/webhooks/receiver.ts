// A webhook receiver on loopback for the tests: verifies each message's Standard Webhooks signature,
// counts every raw delivery (and how many of one id are in flight at once), and dedupes by
// webhook-id as a real receiver must. What it answers is up to the test.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { verifySignature } from '../../src/webhooks/signature.js';

export interface RawDelivery { id: string; answered: number; verified: boolean; body: string; timestamp: number }

export class Receiver {
  readonly raw: RawDelivery[] = [];
  /** First verified, accepted message per webhook-id (the dedupe). */
  readonly accepted = new Map<string, { type: string; timestamp: string; data: Record<string, unknown> }>();
  readonly #inFlight = new Map<string, number>();
  maxInFlightPerId = 0;
  secret: string | undefined;
  /** The status to answer (2xx accepts); default 200. */
  answer: (id: string, nth: number) => number = () => 200;
  /** Milliseconds to hold each request before answering (to widen any race between instances). */
  holdMs = 0;
  #server: Server | undefined;
  url = '';

  async start(): Promise<this> {
    this.#server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const body = Buffer.concat(chunks);
        const id = String(req.headers['webhook-id'] ?? '');
        const timestamp = Number(req.headers['webhook-timestamp'] ?? 0);
        const verified = this.secret !== undefined && verifySignature(this.secret, {
          id, timestamp: req.headers['webhook-timestamp'] as string | undefined, signature: req.headers['webhook-signature'] as string | undefined,
        }, body, 300, Math.floor(Date.now() / 1000)).ok;
        const inFlight = (this.#inFlight.get(id) ?? 0) + 1;
        this.#inFlight.set(id, inFlight);
        this.maxInFlightPerId = Math.max(this.maxInFlightPerId, inFlight);
        const nth = this.raw.filter((r) => r.id === id).length + 1;
        const status = verified ? this.answer(id, nth) : 401;
        setTimeout(() => {
          this.#inFlight.set(id, (this.#inFlight.get(id) ?? 1) - 1);
          this.raw.push({ id, answered: status, verified, body: body.toString('utf8'), timestamp });
          if (status >= 200 && status < 300 && !this.accepted.has(id)) this.accepted.set(id, JSON.parse(body.toString('utf8')));
          res.writeHead(status, { 'content-type': 'text/plain' }).end('ok');
        }, this.holdMs);
      });
    });
    await new Promise<void>((resolve) => this.#server!.listen(0, '127.0.0.1', resolve));
    this.url = `http://127.0.0.1:${(this.#server.address() as AddressInfo).port}/hooks`;
    return this;
  }

  rawCount(id: string): number {
    return this.raw.filter((r) => r.id === id).length;
  }

  /** Raw deliveries of `id` that were answered with a failure. */
  failures(id: string): number {
    return this.raw.filter((r) => r.id === id && (r.answered < 200 || r.answered >= 300)).length;
  }

  async stop(): Promise<void> {
    await new Promise<void>((resolve) => { this.#server?.closeAllConnections(); this.#server?.close(() => resolve()); });
  }
}

/** Polls `condition` until it holds, at most `bound` ms (a bound on waiting, never an assertion on time). */
export async function eventually(condition: () => boolean | Promise<boolean>, what: string, bound = 60_000): Promise<void> {
  const until = Date.now() + bound;
  while (!(await condition())) {
    if (Date.now() > until) throw new Error(`not within ${bound} ms: ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}
