// The one place that sets the request's identity for row-level security (STYLE.md principle 7).
// Transaction-local settings (set_config(..., true)) vanish at COMMIT/ROLLBACK, so a pooled
// connection never carries one request's identity into the next (R6).
import type postgres from 'postgres';

export type Actor =
  | { kind: 'auth'; tenantId: string } // authorization server steps and the resource servers' token check
  | { kind: 'customer'; tenantId: string; customerId: string }
  | { kind: 'staff'; tenantId: string; staffId: string; role: string };

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

/** Runs `work` in one transaction whose RLS context is `actor`. */
export async function withContext<T>(sql: Sql, actor: Actor, work: (tx: Tx) => Promise<T>): Promise<T> {
  return (await sql.begin(async (tx) => {
    await setRequestContext(tx, actor);
    return work(tx);
  })) as T;
}
