// The service log: JSON lines (pino). L1: no credential may reach it. Three layers, cheapest first:
// the request log (src/http/request-log.ts) writes only what it names (request id, method, path, status),
// never headers, query strings or bodies; errors lose the properties where libraries keep request
// data (a body-parser error carries the raw body); and, as a last line, any string shaped like one
// of our secrets (cmcp_at_…, cmcp_rt_…, cmcp_code_…) is masked as the line is written.
import { pino, type DestinationStream, type Logger, type LoggerOptions } from 'pino';
import type { Config } from './config.js';

/** Our secrets carry a kind prefix (src/authz/tokens.ts, confirmation tokens): the part after it is masked. */
const SECRET_SHAPE = /(cmcp_(?:at|rt|code|secret|csrf|confirm)_)[A-Za-z0-9_-]+/g;

/** Masks every secret-shaped string in `text`. */
export function maskSecrets(text: string): string {
  // A test of one substring first: almost every line has none, and then costs no regex at all.
  return text.includes('cmcp_') ? text.replace(SECRET_SHAPE, '$1[redacted]') : text;
}

/** Properties where libraries keep what a request carried (body-parser: `body`; HTTP clients: headers). */
const REQUEST_DATA = ['body', 'headers', 'rawHeaders', 'parameters', 'query', 'cookies', 'config', 'request', 'response'] as const;

function serializeError(err: unknown): unknown {
  const out = pino.stdSerializers.err(err as Error) as unknown;
  if (out && typeof out === 'object') for (const key of REQUEST_DATA) delete (out as Record<string, unknown>)[key];
  return out;
}

/** The service's logger; `destination` defaults to standard output (tests pass a buffer to read the log). */
export function createLogger(config: Pick<Config, 'logLevel'>, destination?: DestinationStream): Logger {
  const options: LoggerOptions = {
    level: config.logLevel,
    base: { service: 'commerce-mcp' },
    timestamp: pino.stdTimeFunctions.isoTime,
    serializers: { err: serializeError },
    // Never log credentials, even by accident: objects a caller hands to the log.
    redact: ['*.password', '*.client_secret', '*.access_token', '*.refresh_token', '*.code', '*.csrf', '*.authorization', '*.cookie'],
    hooks: { streamWrite: maskSecrets },
  };
  return destination ? pino(options, destination) : pino(options);
}
export type { Logger };
