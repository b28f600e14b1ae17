// What every endpoint module is handed: created once at start-up, passed down explicitly.
import type { Config } from './config.js';
import type { Sql } from './db/context.js';
import type { Logger } from './log.js';
import type { Metrics } from './ops/metrics.js';
import type { RateLimits } from './ratelimit/limits.js';
import type { TenantDirectory } from './tenants/directory.js';

export interface Services {
  config: Config;
  sql: Sql;
  log: Logger;
  tenants: TenantDirectory;
  metrics: Metrics;
  rateLimits: RateLimits;
}
