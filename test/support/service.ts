// The whole service on a test database, on ephemeral ports, stopped when the test file ends.
import { loadConfig, type Config } from '../../src/config.js';
import type { DestinationStream } from 'pino';
import { createLogger } from '../../src/log.js';
import { startService, type RunningService } from '../../src/service.js';
import { createTestDatabase, onCleanup, type TestDatabase } from './database.js';

export interface TestService extends RunningService {
  database: TestDatabase;
}

/** `logDestination` receives the service's log lines (L1 reads them); by default the log goes to stdout at TEST_LOG_LEVEL. */
export async function startTestService(env: Record<string, string> = {}, options: { logDestination?: DestinationStream } = {}): Promise<TestService> {
  const database = await createTestDatabase();
  const config: Config = loadConfig({
    NODE_ENV: 'test',
    HOST: '127.0.0.1',
    PORT: '0',
    INTERNAL_HOST: '127.0.0.1',
    INTERNAL_PORT: '0',
    DATABASE_URL: database.ownerUrl,
    APP_DATABASE_URL: database.appUrl,
    SEED_DEMO: 'false',
    LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'silent',
    ...env,
  });
  const service = await startService(config, createLogger(config, options.logDestination));
  onCleanup(() => service.close());
  return Object.assign(service, { database });
}

/** For files that make hundreds of calls with one token and client: budgets have their own tests (test/ratelimit). */
export const GENEROUS_BUDGETS = {
  RATE_LIMIT_TOKEN_PER_MINUTE: '1000000',
  RATE_LIMIT_SUBJECT_PER_MINUTE: '1000000',
  RATE_LIMIT_CLIENT_PER_MINUTE: '1000000',
  RATE_LIMIT_TENANT_PER_MINUTE: '1000000',
} as const;

/** Another instance of the service on the same database (scale-out: F5), with its own ports. */
export async function startAnotherInstance(first: TestService, env: Record<string, string> = {}): Promise<RunningService> {
  const config = loadConfig({
    NODE_ENV: 'test', HOST: '127.0.0.1', PORT: '0', INTERNAL_HOST: '127.0.0.1', INTERNAL_PORT: '0',
    DATABASE_URL: first.database.ownerUrl, APP_DATABASE_URL: first.database.appUrl, SEED_DEMO: 'false',
    LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'silent', ...env,
  });
  const service = await startService(config, createLogger(config));
  onCleanup(() => service.close());
  return service;
}
