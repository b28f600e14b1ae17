// The whole service on a test database, on ephemeral ports, stopped when the test file ends.
import { loadConfig, type Config } from '../../src/config.js';
import { createLogger } from '../../src/log.js';
import { startService, type RunningService } from '../../src/service.js';
import { createTestDatabase, onCleanup, type TestDatabase } from './database.js';

export interface TestService extends RunningService {
  database: TestDatabase;
}

export async function startTestService(env: Record<string, string> = {}): Promise<TestService> {
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
  const service = await startService(config, createLogger(config));
  onCleanup(() => service.close());
  return Object.assign(service, { database });
}
