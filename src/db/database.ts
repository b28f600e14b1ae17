// Brings the database up for the service: embedded or external, migrated, with the runtime pool.
import postgres from 'postgres';
import type { Config } from '../config.js';
import type { Logger } from '../log.js';
import { findRunningServer } from './connection-file.js';
import { startEmbeddedPostgres, type EmbeddedDatabase } from './embedded.js';
import { migrate } from './migrate.js';
import { ensureAppRoleExternal, provisionDatabase } from './roles.js';
import { admitTransactions, type Sql } from './context.js';

export interface Database {
  /** The application role's pool: not superuser, not BYPASSRLS, owns nothing. */
  sql: Sql;
  /** The same role, for the shared rate-limit counters only. */
  rateLimitSql: Sql;
  ownerUrl: string;
  appUrl: string;
  embedded: EmbeddedDatabase | undefined;
  close(): Promise<void>;
}

export const EMBEDDED_DATABASE = 'commerce';

/** Opens the runtime pool with the settings every connection must have (F2: timeouts). */
export function openAppPool(appUrl: string, max: number): Sql {
  const sql = postgres(appUrl, {
    max,
    idle_timeout: 30,
    connect_timeout: 5,
    onnotice: () => {},
    connection: {
      application_name: 'commerce-mcp',
      statement_timeout: 5000,
      idle_in_transaction_session_timeout: 10000,
      lock_timeout: 3000,
    },
  });
  admitTransactions(sql, { poolMax: max, maxWaitMs: 2000 });
  return sql;
}

/**
 * The rate-limit counters' own small pool (docs/DESIGN.md §4). Its commits do not wait for the WAL
 * flush (synchronous_commit off): a crash may forget the last few increments of a budget, which
 * errs towards the caller for a moment; every request no longer pays an fsync for its counter.
 * Being separate, a counter update never waits for a connection that a transaction holds.
 */
export function openRateLimitPool(appUrl: string): Sql {
  return postgres(appUrl, {
    max: 8,
    idle_timeout: 30,
    connect_timeout: 5,
    onnotice: () => {},
    connection: { application_name: 'commerce-mcp-rate-limits', synchronous_commit: 'off', statement_timeout: 2000 },
  });
}

/**
 * The webhook delivery worker's own small pool (src/webhooks/worker.ts), so background delivery
 * never takes a request's connection. fetch_types is off: the worker reads no array columns, and
 * postgres.js's type query on (re)connect rejects unhandled when PostgreSQL stops mid-handshake —
 * a worker that keeps polling through a restart (F1) would meet exactly that.
 */
export function openWebhookPool(appUrl: string): Sql {
  return postgres(appUrl, {
    max: 3,
    idle_timeout: 30,
    connect_timeout: 5,
    fetch_types: false,
    onnotice: () => {},
    connection: { application_name: 'commerce-mcp-webhooks', statement_timeout: 5000, idle_in_transaction_session_timeout: 10000, lock_timeout: 3000 },
  });
}

/** The owner's side of the database: DATABASE_URL, or the embedded server started here; migrated. */
async function openOwnerSide(config: Config, log: Logger): Promise<{ ownerUrl: string; appUrl: string; embedded: EmbeddedDatabase | undefined }> {
  let embedded: EmbeddedDatabase | undefined;
  let ownerUrl: string;
  let appUrl: string;
  if (config.database.ownerUrl) {
    ownerUrl = config.database.ownerUrl;
    appUrl = config.database.appUrl ?? (await ensureAppRoleExternal(ownerUrl, config.database.appPassword));
  } else {
    embedded = await startEmbeddedPostgres(config.dataDir, config.database.embeddedPort, log);
    try {
      ({ ownerUrl, appUrl } = await provisionDatabase(embedded.superuserUrl, EMBEDDED_DATABASE, {
        owner: config.database.appPassword + '-owner',
        app: config.database.appPassword,
      }));
    } catch (error) {
      await embedded.stop();
      throw error;
    }
  }
  try {
    const { applied } = await migrate(ownerUrl);
    if (applied.length) log.info({ applied }, 'migrations applied');
  } catch (error) {
    await embedded?.stop();
    throw error;
  }
  return { ownerUrl, appUrl, embedded };
}

export async function openDatabase(config: Config, log: Logger): Promise<Database> {
  if (!config.database.ownerUrl) {
    // Said plainly, rather than as the embedded server's failure to start on a cluster in use.
    const running = await findRunningServer(config.dataDir);
    if (running) throw new Error(`the service already runs on ${config.dataDir} (pid ${running.pid}): stop it first, or use another DATA_DIR`);
  }
  const { ownerUrl, appUrl, embedded } = await openOwnerSide(config, log);
  const sql = openAppPool(appUrl, config.database.poolMax);
  const rateLimitSql = openRateLimitPool(appUrl);
  return {
    sql,
    rateLimitSql,
    ownerUrl,
    appUrl,
    embedded,
    async close() {
      await Promise.all([sql.end({ timeout: 5 }), rateLimitSql.end({ timeout: 1 })]);
      await embedded?.stop();
    },
  };
}

export interface OwnerDatabase {
  ownerUrl: string;
  /** Where the server came from: DATABASE_URL, the running service's (its connection file), or started here. */
  source: 'DATABASE_URL' | 'running service' | 'embedded';
  /** Stops the embedded server when this process started it. */
  close(): Promise<void>;
}

/**
 * The database for the owner commands (admin, actions, seed): DATABASE_URL when set; otherwise the
 * embedded server of the service running on DATA_DIR (its connection file), which has migrated it;
 * otherwise an embedded server of their own on DATA_DIR, for as long as the command runs.
 */
export async function openOwnerDatabase(config: Config, log: Logger): Promise<OwnerDatabase> {
  if (!config.database.ownerUrl) {
    const running = await findRunningServer(config.dataDir);
    if (running) return { ownerUrl: running.ownerUrl, source: 'running service', async close() {} };
  }
  const { ownerUrl, embedded } = await openOwnerSide(config, log);
  return {
    ownerUrl,
    source: embedded ? 'embedded' : 'DATABASE_URL',
    async close() {
      await embedded?.stop();
    },
  };
}
