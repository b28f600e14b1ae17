// Which database failures mean "unavailable right now" (F1, F2): the client gets 503 with
// Retry-After, never a 500, and the detail stays in the log.
import { DatabaseBusy } from './context.js';

const CONNECTION_CODES = new Set([
  'ECONNREFUSED', 'ECONNRESET', 'EPIPE', 'ETIMEDOUT', 'CONNECT_TIMEOUT', 'CONNECTION_CLOSED', 'CONNECTION_ENDED',
  'CONNECTION_DESTROYED',
]);

/** SQLSTATE classes 08 (connection), 57P (operator intervention: shutdown, cannot connect now), 53 (resources). */
export function isDatabaseUnavailable(error: unknown): boolean {
  if (error instanceof DatabaseBusy) return true;
  const code = (error as { code?: unknown } | null)?.code;
  if (typeof code !== 'string') return false;
  return CONNECTION_CODES.has(code) || code.startsWith('08') || code.startsWith('57P') || code.startsWith('53') || code === '57014';
}
