// The one place that sets the request's identity for row-level security (nothing else calls set_config).
// Transaction-local settings (set_config(..., true)) vanish at COMMIT/ROLLBACK, so a pooled
// connection never carries one request's identity into the next (R6).
import type postgres from 'postgres';

export type Actor =
  | { kind: 'auth'; tenantId: string } // authorization server steps and the resource servers' token check
  | { kind: 'customer'; tenantId: string; customerId: string }
  | { kind: 'staff'; tenantId: string; staffId: string; role: string }
  // The platform acting for one tenant on its own account: a carrier event whose signature
  // verified, the webhook delivery worker (migrations/017_carrier_events_webhooks.sql).
  | { kind: 'system'; tenantId: string }
  // an OAuth service client writing its tenant's uploaded data (src/ingest; migration 016)
  | { kind: 'service'; tenantId: string; clientId: string };

export type Sql = postgres.Sql;
export type Tx = postgres.TransactionSql;

/** Sets (or switches) the context of the current transaction. Only call inside `sql.begin`. */
export async function setRequestContext(tx: Tx, actor: Actor): Promise<void> {
  const subject = actor.kind === 'customer' ? actor.customerId : actor.kind === 'staff' ? actor.staffId : '';
  const role = actor.kind === 'staff' ? actor.role : '';
  await tx`select set_config('app.tenant_id', ${actor.tenantId}, true),
                  set_config('app.actor', ${actor.kind}, true),
                  set_config('app.subject_id', ${subject}, true),
                  set_config('app.staff_role', ${role}, true)`;
}

/** F2: the pool is full and stayed full for the bounded wait; callers answer 503 + Retry-After. */
export class DatabaseBusy extends Error {
  readonly retryAfterSeconds = 1;
  constructor(reason: string) {
    super(`database busy: ${reason}`);
  }
}

/**
 * Admission to the pool (F2): at most `capacity` transactions in flight, at most `tenantShare` of
 * them for one tenant (so one tenant's slow queries cannot take every connection), and a bounded
 * wait for a slot, after which the caller gets DatabaseBusy (503 + Retry-After).
 */
class AdmissionGate {
  inFlight = 0;
  readonly #perTenant = new Map<string, number>();
  readonly #waiting: { tenantId: string; admit: () => void }[] = [];
  constructor(readonly capacity: number, readonly tenantShare: number, readonly maxWaitMs: number) {}

  #admissible(tenantId: string): boolean {
    return this.inFlight < this.capacity && (this.#perTenant.get(tenantId) ?? 0) < this.tenantShare;
  }

  #take(tenantId: string): void {
    this.inFlight++;
    this.#perTenant.set(tenantId, (this.#perTenant.get(tenantId) ?? 0) + 1);
  }

  async enter(tenantId: string): Promise<void> {
    // Whoever waits is not admissible now (leave() admits the oldest that is), so no one is overtaken.
    if (this.#admissible(tenantId)) return this.#take(tenantId);
    await new Promise<void>((resolve, reject) => {
      const waiter = {
        tenantId,
        admit: () => {
          clearTimeout(timer);
          this.#take(tenantId);
          resolve();
        },
      };
      const timer = setTimeout(() => {
        this.#waiting.splice(this.#waiting.indexOf(waiter), 1);
        reject(new DatabaseBusy('no connection within the wait bound'));
      }, this.maxWaitMs);
      this.#waiting.push(waiter);
    });
  }

  leave(tenantId: string): void {
    this.inFlight--;
    const n = (this.#perTenant.get(tenantId) ?? 1) - 1;
    if (n <= 0) this.#perTenant.delete(tenantId);
    else this.#perTenant.set(tenantId, n);
    // Oldest first, skipping waiters whose tenant is at its share.
    for (let i = 0; i < this.#waiting.length && this.inFlight < this.capacity; i++) {
      const w = this.#waiting[i]!;
      if (!this.#admissible(w.tenantId)) continue;
      this.#waiting.splice(i--, 1);
      w.admit();
    }
  }
}

const gates = new WeakMap<Sql, AdmissionGate>();

/**
 * Bounds the transactions run on `sql` (set once, where the pool is opened). A fifth of the pool
 * stays outside transactions, for the short statements a request makes beside its transaction
 * (the shared rate-limit counters, readiness): a transaction never waits for a connection that
 * only another transaction could free. One tenant may hold 60% of the transaction slots.
 */
export function admitTransactions(sql: Sql, { poolMax, maxWaitMs }: { poolMax: number; maxWaitMs: number }): void {
  const capacity = Math.max(1, poolMax - Math.max(1, Math.ceil(poolMax * 0.2)));
  gates.set(sql, new AdmissionGate(capacity, Math.max(1, Math.ceil(capacity * 0.6)), maxWaitMs));
}

export function transactionCapacity(sql: Sql): { capacity: number; tenantShare: number } {
  const gate = gates.get(sql);
  return { capacity: gate?.capacity ?? Infinity, tenantShare: gate?.tenantShare ?? Infinity };
}

export function transactionsInFlight(sql: Sql): number {
  return gates.get(sql)?.inFlight ?? 0;
}

/**
 * No transaction of a request may take longer than this. statement_timeout bounds each statement
 * on the server; this bounds the whole exchange on our side, because postgres@3.4.9 can leave a
 * query queued on a connection that died under it (seen when PostgreSQL restarts under load, F1)
 * and never settle it. The caller answers 503; the transaction, if it ever reaches the server, is
 * still one transaction: all or nothing.
 */
export const TRANSACTION_DEADLINE_MS = 10_000;

/** Runs `work` (which opens one transaction on `sql`) once the pool admits it for `tenantId`. */
export async function admitted<T>(sql: Sql, tenantId: string, work: () => Promise<T>): Promise<T> {
  const gate = gates.get(sql);
  await gate?.enter(tenantId);
  let timer: NodeJS.Timeout | undefined;
  try {
    const deadline = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new DatabaseBusy('no answer from the database before the deadline')), TRANSACTION_DEADLINE_MS);
    });
    const running = work();
    running.catch(() => {}); // settled late (after the deadline) it has no one to tell
    return await Promise.race([running, deadline]);
  } finally {
    clearTimeout(timer);
    gate?.leave(tenantId);
  }
}

/** Runs `work` in one transaction whose RLS context is `actor`. */
export function withContext<T>(sql: Sql, actor: Actor, work: (tx: Tx) => Promise<T>): Promise<T> {
  return admitted(sql, actor.tenantId, async () =>
    (await sql.begin(async (tx) => {
      await setRequestContext(tx, actor);
      return work(tx);
    })) as T);
}
