// Rate limits (docs/DESIGN.md §4; attack catalogue A4, A9, A10, F5). An MCP call spends four budgets at once:
// its access token's, its subject's (the person, across all their tokens and clients), its client's
// and its tenant's, the last three counted apart per endpoint kind, so customer traffic never
// spends the staff's. All four are charged or none (src/ratelimit/windows.ts): a call refused by
// one budget spends nothing of the others. A subject's budget is at most a share of the client's
// and the tenant's, so one person cannot exhaust what the others share.
//
// The authorization server's per-IP and per-account throttles (src/authz/throttle.ts) draw their
// limiters from here too (rate-limiter-flexible on the shared table rate_limit_buckets).
// Everything is counted in the shared PostgreSQL store so limits hold across instances (F5): each
// instance leases slices of a budget there and spends them here (src/ratelimit/windows.ts); an
// in-memory first line sheds calls already known to be over a budget. If the store is
// unreachable, calls fail closed.
import { RateLimiterMemory, RateLimiterPostgres, type RateLimiterAbstract } from 'rate-limiter-flexible';
import { z } from 'zod';
import type { Sql } from '../db/context.js';
import { pgStyleClient } from './store.js';
import { MemoryWindows, PostgresWindows, type BudgetWindows, type Charge, type Spent } from './windows.js';

export interface Budget {
  points: number;
  durationSeconds: number;
}

export interface Budgets {
  token: Budget;
  subject: Budget;
  client: Budget;
  tenant: Budget;
}

export const DEFAULT_BUDGETS: Budgets = {
  token: { points: 120, durationSeconds: 60 },
  subject: { points: 500, durationSeconds: 60 },
  client: { points: 2000, durationSeconds: 60 },
  tenant: { points: 6000, durationSeconds: 60 },
};

/** One subject may spend at most this share (percent) of its client's and its tenant's budget. */
export const DEFAULT_SUBJECT_SHARE_PERCENT = 25;

export type LimitScope = keyof Budgets;
export type TrafficKind = 'customer' | 'staff';

/** The order budgets are reported in: the caller's own first, the shared ones last. */
const SCOPES: readonly LimitScope[] = ['token', 'subject', 'client', 'tenant'];

const budget = z.object({ points: z.number().int().min(1).max(1_000_000), durationSeconds: z.number().int().min(1).max(86_400) }).strict();
const overridesSchema = z.object({ token: budget, subject: budget, client: budget, tenant: budget }).partial().strict();

/** A tenant's budgets (tenant_settings.rate_limits); anything malformed is ignored, not trusted. */
export function budgetOverrides(json: unknown): Partial<Budgets> {
  const parsed = overridesSchema.safeParse(json);
  return parsed.success ? parsed.data : {};
}

export type Decision =
  | { allowed: true; scope: LimitScope; limit: number; windowSeconds: number; remaining: number; resetSeconds: number }
  | { allowed: false; scope: LimitScope; limit: number; windowSeconds: number; remaining: 0; resetSeconds: number; retryAfterSeconds: number };

/** Thrown when the shared store cannot answer: callers answer 503 (fail closed). */
export class RateLimitStoreUnavailable extends Error {}

export interface RateLimitsOptions {
  store: 'postgres' | 'memory' | 'off';
  budgets?: Partial<Budgets>;
  subjectSharePercent?: number;
}

export interface Call {
  tenantId: string;
  kind: TrafficKind;
  tokenId: string;
  subjectId: string;
  clientId: string;
  weight: number;
  overrides?: Partial<Budgets>;
}

interface ScopedCharge extends Charge {
  scope: LimitScope;
  budget: Budget;
}

/**
 * Catalogue A9: a subject's budget, bounded by a share of each budget it shares with others (its
 * client's and its tenant's), compared as rates so windows of different lengths compare fairly.
 */
export function boundedSubjectBudget(b: Budgets, sharePercent: number): Budget {
  const shareOf = (shared: Budget) =>
    Math.floor((shared.points * sharePercent * b.subject.durationSeconds) / (100 * shared.durationSeconds));
  return { points: Math.max(1, Math.min(b.subject.points, shareOf(b.client), shareOf(b.tenant))), durationSeconds: b.subject.durationSeconds };
}

/** docs/DESIGN.md §4, catalogue A9/A10: the budgets one MCP call spends, each under its own key. */
export function callCharges(call: Call, b: Budgets, sharePercent: number): ScopedCharge[] {
  const t = `t:${call.tenantId}`;
  const k = `${t}:${call.kind}`;
  const keyed: Record<LimitScope, [string, Budget]> = {
    token: [`${t}:token:${call.tokenId}`, b.token],
    subject: [`${k}:subject:${call.subjectId}`, boundedSubjectBudget(b, sharePercent)],
    client: [`${k}:client:${call.clientId}`, b.client],
    tenant: [k, b.tenant],
  };
  return SCOPES.map((scope) => {
    const [key, budget] = keyed[scope];
    return { scope, key, budget, cost: call.weight, cap: budget.points, windowMs: budget.durationSeconds * 1000 };
  });
}

/**
 * The decision from the store's answer. Allowed: the budget with the least left (for the headers).
 * Refused: of the budgets the call did not fit, the one that resets last, so that Retry-After is
 * a time at which the call can fit again.
 */
export function decide(charges: readonly ScopedCharge[], spent: Spent): Decision {
  const seconds = (ms: number) => Math.max(1, Math.ceil(ms / 1000));
  const rows = charges.map((c, i) => ({ c, s: spent.states[i]! }));
  if (!spent.charged) {
    const over = rows.filter(({ c, s }) => s.spent + c.cost > c.cap);
    const worst = (over.length ? over : rows).reduce((a, r) => (r.s.resetsInMs > a.s.resetsInMs ? r : a));
    const resetSeconds = seconds(worst.s.resetsInMs);
    return { allowed: false, scope: worst.c.scope, limit: worst.c.cap, windowSeconds: worst.c.budget.durationSeconds, remaining: 0, resetSeconds, retryAfterSeconds: resetSeconds };
  }
  const least = rows.reduce((a, r) => (r.c.cap - r.s.spent < a.c.cap - a.s.spent ? r : a));
  return {
    allowed: true, scope: least.c.scope, limit: least.c.cap, windowSeconds: least.c.budget.durationSeconds,
    remaining: Math.max(0, least.c.cap - least.s.spent), resetSeconds: Math.ceil(least.s.resetsInMs / 1000),
  };
}

/**
 * The first line in front of the shared store: budgets this process saw spent, until their window
 * ends. Points spent in a window only grow, on every instance, so a call that would not fit what was
 * already seen spent is refused without a database trip, exactly as the store would refuse it.
 */
class KnownSpent {
  readonly #known = new Map<string, { spent: number; until: number }>();

  refusal(charges: readonly ScopedCharge[], now: number): Spent | undefined {
    let over = false;
    const states = charges.map((c) => {
      const k = this.#known.get(c.key);
      if (!k || k.until <= now) return { key: c.key, spent: 0, resetsInMs: 0 };
      if (k.spent + c.cost > c.cap) over = true;
      return { key: c.key, spent: k.spent, resetsInMs: k.until - now };
    });
    return over ? { charged: false, states } : undefined;
  }

  /** Remembers the budgets that are full or refused this call, measured from when it was sent. */
  learn(charges: readonly ScopedCharge[], spent: Spent, sentAt: number): void {
    if (this.#known.size > 10_000) {
      for (const [key, k] of this.#known) if (k.until <= sentAt) this.#known.delete(key);
      if (this.#known.size > 10_000) this.#known.clear();
    }
    charges.forEach((c, i) => {
      const s = spent.states[i]!;
      if (s.spent >= c.cap || (!spent.charged && s.spent + c.cost > c.cap)) this.#known.set(c.key, { spent: s.spent, until: sentAt + s.resetsInMs });
    });
  }
}

export class RateLimits {
  readonly budgets: Budgets;
  readonly subjectSharePercent: number;
  readonly #limiters = new Map<string, RateLimiterAbstract>();
  readonly #client;
  readonly #store;
  readonly #windows: BudgetWindows;
  readonly #known = new KnownSpent();

  constructor(sql: Sql, { store, budgets = {}, subjectSharePercent = DEFAULT_SUBJECT_SHARE_PERCENT }: RateLimitsOptions) {
    this.budgets = { ...DEFAULT_BUDGETS, ...budgets };
    this.subjectSharePercent = subjectSharePercent;
    this.#client = pgStyleClient(sql);
    this.#store = store;
    this.#windows = store === 'postgres' ? new PostgresWindows(sql) : new MemoryWindows();
  }

  /** One limiter per (scope, budget) for the authorization server's throttles. */
  limiter(scope: string, budget: Budget): RateLimiterAbstract {
    const id = `${scope}:${budget.points}:${budget.durationSeconds}`;
    let limiter = this.#limiters.get(id);
    if (!limiter) {
      const common = { keyPrefix: scope, points: budget.points, duration: budget.durationSeconds };
      limiter = this.#store !== 'postgres'
        ? new RateLimiterMemory(common)
        : new RateLimiterPostgres({
            ...common,
            storeClient: this.#client,
            storeType: 'client',
            tableName: 'rate_limit_buckets',
            tableCreated: true,
            clearExpiredByTimeout: false,
            // First line: a key known to be over budget is refused here without a database trip.
            inMemoryBlockOnConsumed: budget.points + 1,
          });
      this.#limiters.set(id, limiter);
    }
    return limiter;
  }

  /** Points of a budget key this instance holds leased and unspent (tests account leased = accepted + held). */
  held(key: string): number {
    return this.#windows.held(key);
  }

  /** At shutdown: the slices this instance holds go back to the shared store. */
  async release(): Promise<void> {
    if (this.#store === 'postgres') await this.#windows.release();
  }

  /**
   * An MCP call: its token's, subject's, client's and tenant's budgets, charged together or not at
   * all. Returns the decision; a refusal names the budget that refused.
   */
  async consumeCall(call: Call): Promise<Decision> {
    const b = { ...this.budgets, ...call.overrides };
    if (this.#store === 'off') return { allowed: true, scope: 'token', limit: b.token.points, windowSeconds: b.token.durationSeconds, remaining: b.token.points, resetSeconds: 0 };
    const charges = callCharges(call, b, this.subjectSharePercent);
    const sentAt = Date.now();
    const known = this.#known.refusal(charges, sentAt);
    if (known) return decide(charges, known);
    let spent: Spent;
    try {
      spent = await this.#windows.spend(charges);
    } catch (error) {
      throw new RateLimitStoreUnavailable(`rate-limit store unavailable: ${(error as Error)?.message}`);
    }
    this.#known.learn(charges, spent, sentAt);
    return decide(charges, spent);
  }
}

/** How a refusal names the budget, in words an agent can pass on. */
export function budgetName(scope: LimitScope, kind: TrafficKind): string {
  switch (scope) {
    case 'token': return 'access token';
    case 'subject': return `${kind === 'customer' ? 'customer' : 'staff member'} (across all their tokens and clients)`;
    case 'client': return 'client';
    case 'tenant': return `shop's ${kind} traffic`;
  }
}

/** RateLimit headers (draft-ietf-httpapi-ratelimit-headers) and Retry-After for a decision. */
export function rateLimitHeaders(d: Decision): Record<string, string> {
  const headers: Record<string, string> = {
    'RateLimit-Policy': `${d.limit};w=${d.windowSeconds}`,
    RateLimit: `limit=${d.limit}, remaining=${d.remaining}, reset=${d.resetSeconds}`,
  };
  if (!d.allowed) headers['Retry-After'] = String(d.retryAfterSeconds);
  return headers;
}
