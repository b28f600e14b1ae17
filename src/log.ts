import { pino, type Logger } from 'pino';
import type { Config } from './config.js';

export function createLogger(config: Pick<Config, 'logLevel'>): Logger {
  return pino({
    level: config.logLevel,
    base: { service: 'commerce-mcp' },
    timestamp: pino.stdTimeFunctions.isoTime,
    // Never log credentials, even by accident.
    redact: ['req.headers.authorization', 'req.headers.cookie', '*.password', '*.client_secret', '*.access_token', '*.refresh_token', '*.code'],
  });
}
export type { Logger };
