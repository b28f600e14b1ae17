// Where MCP call budgets are counted: fixed windows, charged all or nothing. The PostgreSQL store
// (migrations/013_budget_windows.sql) is the one every instance shares (F5): one statement checks
// and charges every budget of a call under row locks, so it stays exact however many instances
// run. The memory store does the same in one process (a single instance only).
import type { Sql } from '../db/context.js';

/** One budget a call spends: its key, what the call costs, what the window allows, how long it lasts. */
export interface Charge {
  key: string;
  cost: number;
  cap: number;
  windowMs: number;
}

/** A budget's state after the call: points spent in its window (with this call if charged). */
export interface WindowState {
  key: string;
  spent: number;
  resetsInMs: number;
}

export interface Spent {
  /** Every budget was charged (true) or none was (false). */
  charged: boolean;
  states: WindowState[];
}

export interface BudgetWindows {
  spend(charges: readonly Charge[]): Promise<Spent>;
}

export class PostgresWindows implements BudgetWindows {
  readonly #sql: Sql;
  #lastSweep = Date.now();

  constructor(sql: Sql) {
    this.#sql = sql;
  }

  async spend(charges: readonly Charge[]): Promise<Spent> {
    const keys = charges.map((c) => c.key);
    const windows = charges.map((c) => c.windowMs);
    let rows = await this.#spendOnce(charges);
    // No rows: a budget has no bucket yet. Created in a statement of their own (holding no lock, in
    // one key order, so two callers cannot deadlock), then asked again; a sweep racing with us can
    // only make this happen once more.
    for (let attempt = 0; rows.length === 0; attempt++) {
      if (attempt === 3) throw new Error('budget buckets could not be created');
      await this.#sql`insert into mcp_budget_windows (key, points, ends_at)
        select w.k, 0, (extract(epoch from clock_timestamp()) * 1000)::bigint + w.win
          from unnest(${keys}::text[], ${windows}::bigint[]) as w(k, win) order by w.k desc
        on conflict (key) do nothing`;
      rows = await this.#spendOnce(charges);
    }
    this.#sweepNowAndThen();
    const byKey = new Map(rows.map((r) => [r.budget_key, r]));
    return {
      charged: rows[0]!.charged,
      states: charges.map((c) => {
        const r = byKey.get(c.key);
        if (!r) throw new Error(`budget ${c.key} missing from the store's answer`);
        return { key: c.key, spent: r.spent, resetsInMs: Number(r.resets_in_ms) };
      }),
    };
  }

  /** One call of the statement; a deadlock (which should not happen: one lock order) rolled it back, so it is asked again. */
  async #spendOnce(charges: readonly Charge[], attempt = 0): Promise<{ budget_key: string; spent: number; resets_in_ms: string; charged: boolean }[]> {
    try {
      return await this.#statement(charges);
    } catch (error) {
      if ((error as { code?: string }).code === '40P01' && attempt < 2) return this.#spendOnce(charges, attempt + 1);
      throw error;
    }
  }

  #statement(charges: readonly Charge[]) {
    return this.#sql.unsafe<{ budget_key: string; spent: number; resets_in_ms: string; charged: boolean }[]>(
      'select budget_key, spent, resets_in_ms, charged from app.spend_budgets($1::text[], $2::int[], $3::int[], $4::bigint[])',
      [charges.map((c) => c.key), charges.map((c) => c.cost), charges.map((c) => c.cap), charges.map((c) => c.windowMs)] as never[],
      { prepare: true },
    );
  }

  /** Ended windows are deleted once a minute, off the hot path; a failure only leaves rows for later. */
  #sweepNowAndThen(): void {
    const now = Date.now();
    if (now - this.#lastSweep < 60_000) return;
    this.#lastSweep = now;
    this.sweep().catch(() => {});
  }

  /**
   * Deletes windows that ended more than `graceMs` ago (by the database's clock). Never waits for a
   * row a call holds (skip locked), so it cannot deadlock with one. Returns how many went.
   */
  async sweep(graceMs = 60_000): Promise<number> {
    const rows = await this.#sql`delete from mcp_budget_windows where key in (
      select key from mcp_budget_windows
       where ends_at < (extract(epoch from clock_timestamp()) * 1000)::bigint - ${graceMs}
       limit 10000 for update skip locked)`;
    return rows.count;
  }
}

/** Per process: for one instance only (RATE_LIMIT_STORE=memory). Synchronous, so all or nothing too. */
export class MemoryWindows implements BudgetWindows {
  readonly #windows = new Map<string, { points: number; endsAt: number }>();

  spend(charges: readonly Charge[]): Promise<Spent> {
    const now = Date.now();
    if (this.#windows.size > 100_000) {
      for (const [k, w] of this.#windows) if (w.endsAt <= now) this.#windows.delete(k);
    }
    const current = charges.map((c) => {
      const w = this.#windows.get(c.key);
      return w && w.endsAt > now ? w : { points: 0, endsAt: now + c.windowMs };
    });
    const charged = charges.every((c, i) => current[i]!.points + c.cost <= c.cap);
    if (charged) charges.forEach((c, i) => this.#windows.set(c.key, { points: current[i]!.points + c.cost, endsAt: current[i]!.endsAt }));
    return Promise.resolve({
      charged,
      states: charges.map((c, i) => ({ key: c.key, spent: current[i]!.points + (charged ? c.cost : 0), resetsInMs: current[i]!.endsAt - now })),
    });
  }
}
