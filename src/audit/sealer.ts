// The audit sealer (migrations/021_audit_sealer.sql, docs/HOT-PATH.md): links committed, unsealed
// audit entries into their tenants' hash chains shortly after commit. Every instance runs one; the
// advisory lock inside app.audit_seal lets only one seal at a time, so the chain stays linear.
// Errors (PostgreSQL down) are logged and the next cycle tries again: an unsealed entry keeps its
// row, so nothing committed loses its place.
import postgres from 'postgres';
import type { Logger } from '../log.js';

/** How often the sealer looks for unsealed entries. */
export const SEAL_INTERVAL_MS = 150;
/**
 * How old an entry is before the running sealer links it (migrations/025): younger entries sit on
 * the pages the requests are inserting into, and updating them there costs the requests and the
 * sealer both. `audit verify`, a clean shutdown and the tests seal everything committed.
 */
export const SEAL_MIN_AGE_MS = 1000;
const BATCH = 5000;

/** Seals what is committed now, or committed at least `minAgeMs` ago (repeating while full batches come back); returns the number sealed. */
export async function sealAudit(sql: postgres.Sql, minAgeMs = 0): Promise<number> {
  let total = 0;
  for (;;) {
    const [row] = await sql<{ n: number }[]>`select app.audit_seal(${BATCH}, ${minAgeMs}) as n`;
    total += row!.n;
    if (row!.n < BATCH) return total;
  }
}

export function openSealerPool(appUrl: string): postgres.Sql {
  return postgres(appUrl, {
    max: 1, idle_timeout: 30, connect_timeout: 5, fetch_types: false, onnotice: () => {},
    connection: { application_name: 'commerce-mcp-audit-sealer', statement_timeout: 30000, lock_timeout: 3000 },
  });
}

export class AuditSealer {
  #timer: NodeJS.Timeout | undefined;
  #running: Promise<void> | undefined;
  #stopped = false;
  constructor(readonly sql: postgres.Sql, readonly log: Logger, readonly intervalMs = SEAL_INTERVAL_MS) {}

  start(): void {
    if (this.#timer || this.#stopped) return;
    this.#timer = setInterval(() => {
      if (this.#running) return;
      this.#running = sealAudit(this.sql, SEAL_MIN_AGE_MS)
        .then(() => undefined, (error: unknown) => { this.log.warn({ err: error }, 'audit sealing failed; retrying'); })
        .finally(() => { this.#running = undefined; });
    }, this.intervalMs);
    this.#timer.unref();
  }

  /** Stops the timer and seals once more, so a clean shutdown leaves nothing unsealed. */
  async stop(): Promise<void> {
    this.#stopped = true;
    if (this.#timer) clearInterval(this.#timer);
    this.#timer = undefined;
    await this.#running;
    await sealAudit(this.sql).catch((error: unknown) => { this.log.warn({ err: error }, 'final audit sealing failed'); });
  }
}
