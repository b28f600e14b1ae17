// Brings the database up for the service: embedded or external, migrated, with the runtime pool.
import postgres from 'postgres';
import type { Config } from '../config.js';
import type { Logger } from '../log.js';
import { startEmbeddedPostgres, type EmbeddedDatabase } from './embedded.js';
import { migrate } from './migrate.js';
import { ensureAppRoleExternal, provisionDatabase } from './roles.js';
import { admitTransactions, type Sql } from './context.js';

export interface Database {
  /** The application role's pool: not superuser, not BYPASSRLS, owns nothing. */
  sql: Sql;
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

export async function openDatabase(config: Config, log: Logger): Promise<Database> {
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
  const sql = openAppPool(appUrl, config.database.poolMax);
  return {
    sql,
    ownerUrl,
    appUrl,
    embedded,
    async close() {
      await sql.end({ timeout: 5 });
      await embedded?.stop();
    },
  };
}
