// The one place that sets the request's identity for row-level security (nothing else calls set_config;
// on the SQL side only app.enter_with_access_token, migrations/023, which the MCP endpoints' token
// check calls, enters a context, the same way). Transaction-local settings (set_config(..., true))
// vanish at COMMIT/ROLLBACK, so a pooled connection never carries one request's identity into the
// next (R6); inCallTransaction below owns that end for the calls it runs on a reserved connection.
import { performance } from 'node:perf_hooks';
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

/** COMMIT answered ROLLBACK: a statement of the transaction failed (its error may have been caught). */
export class TransactionRolledBack extends Error {
  constructor() {
    super('the transaction was rolled back: one of its statements failed');
  }
}

/** A statement made after the call's transaction has ended (or begun to end) on its connection. */
export class TransactionEnded extends Error {
  readonly code = 'CONNECTION_CLOSED'; // for the caller, as good as a lost connection: never sent
  constructor() {
    super('statement after the end of its transaction');
  }
}

/**
 * One MCP call's RLS transaction, its statements pipelined (docs/HOT-PATH.md "Flights").
 * `sql.begin` waits for BEGIN's answer before it runs its callback — a round trip for nothing.
 * Here the call reserves a connection, and BEGIN, the callback's statements and COMMIT are written
 * without waiting on each other: postgres.js sends every statement on a reserved connection at
 * once, and PostgreSQL answers them in order. So BEGIN leaves with the call's first statement,
 * and COMMIT with its last.
 *
 * Owning the transaction means owning its end on every path (R6: a pooled connection never carries
 * an open transaction, nor a request's context, to the next user):
 *   - success: COMMIT; an answer other than COMMIT (PostgreSQL turns COMMIT into ROLLBACK when a
 *     statement failed, even one whose error the callback caught) throws TransactionRolledBack;
 *   - any error, and a callback that finishes after the deadline: ROLLBACK, then the error;
 *   - the connection is released only once COMMIT or ROLLBACK has its answer, so every statement
 *     before it has been answered too; from the moment the end is decided the handle refuses new
 *     statements (TransactionEnded), so nothing a stray branch of the callback sends afterwards
 *     runs outside the transaction;
 *   - a lost connection (its ROLLBACK fails): not released; the pool takes it back when it closes,
 *     and the patched driver (scripts/patch-postgres.mjs) rejects whatever was queued on the handle
 *     and refuses statements on it from then on.
 * BEGIN's own answer is awaited before COMMIT: should it have failed, the work is rolled back.
 */
export function inCallTransaction<T>(sql: Sql, tenantId: string, work: (tx: Tx) => Promise<T>): Promise<T> {
  return admitted(sql, tenantId, async () => {
    const started = performance.now();
    const connection = await sql.reserve();
    let ending = false;
    // COMMIT or ROLLBACK answered: the connection is idle, outside any transaction, and may go back
    // to the pool. When the last statement failed instead, the connection is broken (ROLLBACK fails
    // only with it): it is not released, and the pool takes it back when it closes — releasing it
    // before that would hand a dying connection to the next call.
    let ended = false;
    const rollBack = () => connection`rollback`.then(() => true, () => false);
    const tx = callHandle(connection, () => ending);
    try {
      const begun = connection`begin`;
      begun.catch(() => {});
      let result: T;
      try {
        result = await work(tx);
        await begun;
        if (performance.now() - started > TRANSACTION_DEADLINE_MS) throw new DatabaseBusy('the call outlived its deadline');
      } catch (error) {
        ending = true;
        ended = await rollBack();
        throw error;
      }
      ending = true;
      let committed: postgres.RowList<postgres.Row[]>;
      try {
        committed = await connection`commit`;
        ended = true;
      } catch (error) {
        ended = await rollBack(); // a COMMIT refused by the server has ended the transaction; this says so
        throw error;
      }
      if (committed.command !== 'COMMIT') throw new TransactionRolledBack();
      return result;
    } finally {
      if (ended) connection.release();
    }
  });
}

/**
 * The callback's view of the reserved connection: statements (and savepoints, as `sql.begin`'s
 * transaction has them) until the transaction's end is decided, TransactionEnded after.
 */
function callHandle(connection: postgres.ReservedSql, ended: () => boolean): Tx {
  let savepoints = 0;
  const tx: Tx = new Proxy(connection, {
    apply(target, self, args) {
      if (ended()) throw new TransactionEnded();
      return Reflect.apply(target, self, args);
    },
    get(target, property, receiver) {
      if (property === 'savepoint') return savepoint;
      if (property === 'unsafe') {
        return (...args: Parameters<Sql['unsafe']>) => {
          if (ended()) throw new TransactionEnded();
          return target.unsafe(...args);
        };
      }
      return Reflect.get(target, property, receiver);
    },
  }) as unknown as Tx;
  async function savepoint<U>(nameOrWork: string | ((sp: Tx) => U | Promise<U>), maybeWork?: (sp: Tx) => U | Promise<U>): Promise<U> {
    const work = typeof nameOrWork === 'function' ? nameOrWork : maybeWork!;
    const name = `s${savepoints++}${typeof nameOrWork === 'string' ? `_${nameOrWork.replace(/[^a-z0-9_]/gi, '')}` : ''}`;
    await tx`savepoint ${connection(name)}`;
    try {
      return await work(tx);
    } catch (error) {
      await tx`rollback to ${connection(name)}`;
      throw error;
    }
  }
  return tx;
}
