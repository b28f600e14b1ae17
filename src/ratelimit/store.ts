// rate-limiter-flexible speaks to PostgreSQL through a pg-style `query({ text, values })` client;
// this adapter lets it use our `postgres` pool instead of a second driver and pool.
import type { Sql } from '../db/context.js';

export interface PgStyleClient {
  query(q: { text: string; values?: unknown[]; name?: string }): Promise<{ rows: Record<string, unknown>[]; rowCount: number }>;
}

export function pgStyleClient(sql: Sql): PgStyleClient {
  return {
    async query({ text, values = [] }) {
      const rows = await sql.unsafe(text, values as never[], { prepare: true });
      return { rows: [...rows] as Record<string, unknown>[], rowCount: rows.count };
    },
  };
}
