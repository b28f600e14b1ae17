// NDJSON framing over a byte stream, without buffering the stream: a line is at most
// `maxLineBytes` (a longer one is skipped up to its newline and reported, never held in memory),
// the body at most `maxBodyBytes` (then BodyTooLarge; what came before is already applied).
// Iterating pulls from the source, so a slow consumer slows the upload (backpressure).

export class BodyTooLarge extends Error {
  constructor(readonly limit: number) {
    super(`body larger than ${limit} bytes`);
  }
}

export type Line = { no: number; text: string } | { no: number; tooLong: true };

export interface FramingLimits {
  maxLineBytes: number;
  maxBodyBytes: number;
}

import { Readable } from 'node:stream';

const NEWLINE = 0x0a;

function decode(parts: Buffer[], size: number, first: boolean): string {
  let text = (parts.length === 1 ? parts[0]! : Buffer.concat(parts, size)).toString('utf8');
  if (text.endsWith('\r')) text = text.slice(0, -1);
  if (first && text.startsWith('\uFEFF')) text = text.slice(1);
  return text;
}

/** The lines of `source`, numbered from 1; `digest` sees every byte of the body. */
export async function* ndjsonLines(source: AsyncIterable<Buffer | string>, limits: FramingLimits, digest?: { update(chunk: Buffer): unknown }): AsyncGenerator<Line> {
  // Stopping early (the body cap) must not destroy a request stream: its socket still carries our answer.
  const iterable = source instanceof Readable ? source.iterator({ destroyOnReturn: false }) : source;
  let parts: Buffer[] = [];
  let size = 0;
  let skipping = false;
  let no = 0;
  let total = 0;
  for await (const raw of iterable as AsyncIterable<Buffer | string>) {
    const chunk = typeof raw === 'string' ? Buffer.from(raw) : raw;
    total += chunk.length;
    if (total > limits.maxBodyBytes) throw new BodyTooLarge(limits.maxBodyBytes);
    digest?.update(chunk);
    let start = 0;
    for (;;) {
      const nl = chunk.indexOf(NEWLINE, start);
      const piece = chunk.subarray(start, nl === -1 ? chunk.length : nl);
      if (!skipping) {
        if (size + piece.length > limits.maxLineBytes) {
          skipping = true;
          parts = [];
          size = 0;
        } else if (piece.length) {
          // A copy: a view would keep the whole (possibly large) read buffer alive.
          parts.push(nl === -1 ? Buffer.from(piece) : piece);
          size += piece.length;
        }
      }
      if (nl === -1) break;
      no++;
      yield skipping ? { no, tooLong: true } : { no, text: decode(parts, size, no === 1) };
      skipping = false;
      parts = [];
      size = 0;
      start = nl + 1;
    }
  }
  if (skipping || size > 0) {
    no++;
    yield skipping ? { no, tooLong: true } : { no, text: decode(parts, size, no === 1) };
  }
}
