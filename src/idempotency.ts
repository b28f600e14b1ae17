// What an idempotency key (and a confirmation) is bound to: the tool and its arguments, hashed in a
// canonical form so that key order or an undefined field never makes one request look like two.
import { createHash } from 'node:crypto';

/** JSON with object keys sorted and undefined fields dropped, at every depth. */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value && typeof value === 'object') {
    const o = value as Record<string, unknown>;
    return `{${Object.keys(o).filter((k) => o[k] !== undefined).sort().map((k) => `${JSON.stringify(k)}:${canonicalJson(o[k])}`).join(',')}}`;
  }
  return JSON.stringify(value);
}

export function requestHash(tool: string, args: unknown): string {
  return createHash('sha256').update(`${tool}\n${canonicalJson(args)}`).digest('hex');
}
