// Where MCP call budgets are counted: fixed windows, charged all or nothing. The PostgreSQL store
// (migrations/013_budget_windows.sql, 022_budget_leases.sql) is the one every instance shares (F5):
// each instance leases slices of every budget under row locks and spends them in memory, so the
// total accepted stays exact however many instances run, and most calls make no trip to the store.
// The memory store counts in one process (a single instance only).
import { performance } from 'node:perf_hooks';
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
  /** Points of a budget this process holds and has not spent (leased slices; 0 for a store without). */
  held(key: string): number;
  /** Gives back what this process holds (at shutdown). */
  release(): Promise<void>;
}

/** A slice of one budget's window this instance holds: leased from the shared store, spent here. */
interface Lease {
  key: string;
  /** The cap and window it was leased under: a call under another cap (a tenant changed its budgets) does not use it. */
  cap: number;
  windowMs: number;
  /** Points leased and not yet spent by a call. */
  held: number;
  /** Points leased in the window by every instance, as the store last said (for the headers). */
  leased: number;
  /** When the window ends by the store's clock (ms since the epoch): identifies the window. */
  endsAt: number;
  /** When this process stops using it (performance.now()): never after the store's window ends. */
  usableUntil: number;
}

interface LeaseRow {
  budget_key: string;
  granted: number;
  leased: number;
  ends_at: string;
  resets_in_ms: string;
  ok: boolean;
}

/** How many points to ask for beyond a call's need: a tenth of the cap (the store gives less near the end of a window). */
export function sliceOf(c: Charge): number {
  return Math.max(c.cost, Math.ceil(c.cap / 10));
}

/**
 * The shared store with leased slices (migrations/022_budget_leases.sql; docs/HOT-PATH.md). A call
 * spends points this instance holds; only when a budget's slice runs short does it ask the store,
 * in one statement, for every budget it is short of — all or nothing. The store never leases more
 * than a window's cap in all, and a slice is used only inside the window it came from (its end is
 * measured from before the request was sent), so across all instances at most the cap is
 * accepted (F5). A budget whose cap changed gives its slice back before leasing under the new cap.
 */
export class PostgresWindows implements BudgetWindows {
  readonly #sql: Sql;
  readonly #leases = new Map<string, Lease>();
  /** Leases being asked for, per budget: a call short of one waits for it rather than asking again. */
  readonly #asking = new Map<string, Promise<unknown>>();
  #lastSweep = Date.now();

  constructor(sql: Sql) {
    this.#sql = sql;
  }

  /** Points of `key` this instance holds unspent in a current window (the tests' accounting: leased = accepted + held). */
  held(key: string): number {
    const l = this.#leases.get(key);
    return l && l.usableUntil > performance.now() ? l.held : 0;
  }

  async spend(charges: readonly Charge[], attempt = 0): Promise<Spent> {
    const now = performance.now();
    const stale: Lease[] = [];
    const taken: { lease: Lease; points: number }[] = [];
    const short: { charge: Charge; need: number; took: number }[] = [];
    // 1. Take what this instance holds, budget by budget.
    for (const c of charges) {
      let lease = this.#leases.get(c.key);
      if (lease && (lease.cap !== c.cap || lease.windowMs !== c.windowMs)) {
        stale.push(lease);
        this.#leases.delete(c.key);
        lease = undefined;
      }
      if (lease && lease.usableUntil <= now) {
        this.#leases.delete(c.key);
        lease = undefined;
      }
      const took = lease ? Math.min(lease.held, c.cost) : 0;
      if (lease && took > 0) {
        lease.held -= took;
        taken.push({ lease, points: took });
      }
      if (took < c.cost) short.push({ charge: c, need: c.cost - took, took });
    }
    const putBack = () => taken.forEach(({ lease, points }) => (lease.held += points));
    if (stale.length) {
      try {
        await this.#giveBack(stale);
      } catch (error) {
        putBack();
        throw error;
      }
    }
    if (short.length === 0) return { charged: true, states: charges.map((c) => this.#state(c, now)) };
    // 2. A lease of a budget we are short of is already being asked for: wait for it, then start again.
    const inFlight = short.map((s) => this.#asking.get(s.charge.key)).filter((p) => p !== undefined);
    if (inFlight.length && attempt < 3) {
      putBack();
      await Promise.allSettled(inFlight);
      return this.spend(charges, attempt + 1);
    }
    // 3. Ask the store for the rest, in one statement.
    const sentAt = performance.now();
    const asked = this.#lease(short.map(({ charge, need }) => ({ charge, need, want: Math.max(need, sliceOf(charge)) })));
    for (const s of short) this.#asking.set(s.charge.key, asked);
    let rows: LeaseRow[];
    try {
      rows = await asked;
    } catch (error) {
      putBack();
      throw error;
    } finally {
      for (const s of short) if (this.#asking.get(s.charge.key) === asked) this.#asking.delete(s.charge.key);
    }
    this.#sweepNowAndThen();
    const byKey = new Map(rows.map((r) => [r.budget_key, r]));
    const granted = rows.length > 0 && rows.every((r) => r.ok);
    if (!granted) putBack();
    // 4. Keep what was granted beyond the need; the answer's figures for every budget of the call.
    for (const { charge, need } of short) {
      const r = byKey.get(charge.key);
      if (!r) throw new Error(`budget ${charge.key} missing from the store's answer`);
      const endsAt = Number(r.ends_at);
      let lease = this.#leases.get(charge.key);
      if (!lease || lease.endsAt !== endsAt || lease.cap !== charge.cap) {
        lease = { key: charge.key, cap: charge.cap, windowMs: charge.windowMs, held: 0, leased: 0, endsAt, usableUntil: sentAt + Number(r.resets_in_ms) };
        this.#leases.set(charge.key, lease);
      }
      lease.leased = Math.max(lease.leased, r.leased);
      if (granted) lease.held += r.granted - need;
    }
    const states = charges.map((c) => {
      const s = short.find((x) => x.charge === c);
      if (granted || !s) return this.#state(c, now);
      // Refused: what this call could have had is what it took here plus what the store had left.
      const r = byKey.get(c.key)!;
      return { key: c.key, spent: r.leased - s.took, resetsInMs: Math.max(0, Number(r.resets_in_ms)) };
    });
    return { charged: granted, states };
  }

  /** A budget's figures for the headers: points leased in its window less what this instance still holds. */
  #state(c: Charge, now: number): WindowState {
    const l = this.#leases.get(c.key);
    if (!l) return { key: c.key, spent: 0, resetsInMs: c.windowMs };
    return { key: c.key, spent: Math.max(0, l.leased - l.held), resetsInMs: Math.max(0, l.usableUntil - now) };
  }

  /** The lease statement; creates missing buckets first (as 013 did: no lock held, one key order). */
  async #lease(asks: { charge: Charge; need: number; want: number }[]): Promise<LeaseRow[]> {
    let rows = await this.#leaseOnce(asks);
    for (let attempt = 0; rows.length === 0; attempt++) {
      if (attempt === 3) throw new Error('budget buckets could not be created');
      await this.#sql`insert into mcp_budget_windows (key, points, ends_at)
        select w.k, 0, (extract(epoch from clock_timestamp()) * 1000)::bigint + w.win
          from unnest(${asks.map((a) => a.charge.key)}::text[], ${asks.map((a) => a.charge.windowMs)}::bigint[]) as w(k, win) order by w.k desc
        on conflict (key) do nothing`;
      rows = await this.#leaseOnce(asks);
    }
    return rows;
  }

  /** One call of the statement; a deadlock (which should not happen: one lock order) rolled it back, so it is asked again. */
  async #leaseOnce(asks: { charge: Charge; need: number; want: number }[], attempt = 0): Promise<LeaseRow[]> {
    try {
      return await this.#sql.unsafe<LeaseRow[]>(
        'select budget_key, granted, leased, ends_at, resets_in_ms, ok from app.lease_budgets($1::text[], $2::int[], $3::int[], $4::int[], $5::bigint[])',
        [asks.map((a) => a.charge.key), asks.map((a) => a.need), asks.map((a) => a.want), asks.map((a) => a.charge.cap), asks.map((a) => a.charge.windowMs)] as never[],
        { prepare: true },
      );
    } catch (error) {
      if ((error as { code?: string }).code === '40P01' && attempt < 2) return this.#leaseOnce(asks, attempt + 1);
      throw error;
    }
  }

  /** Gives unspent points back to the window they came from. */
  async #giveBack(leases: Lease[]): Promise<void> {
    const live = leases.filter((l) => l.held > 0);
    if (!live.length) return;
    await this.#sql`select app.return_budget_leases(${live.map((l) => l.key)}::text[], ${live.map((l) => l.held)}::int[], ${live.map((l) => l.endsAt)}::bigint[])`;
    for (const l of live) l.held = 0;
  }

  /** At shutdown: every slice this instance holds goes back to its window. */
  async release(): Promise<void> {
    const all = [...this.#leases.values()];
    this.#leases.clear();
    await this.#giveBack(all);
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

  held(): number {
    return 0;
  }

  release(): Promise<void> {
    return Promise.resolve();
  }

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
