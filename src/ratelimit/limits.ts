// Rate limits (docs/DESIGN.md §4): per access token (the primary budget), per tenant and per client on
// MCP calls; the authorization server's per-IP and per-account throttles (src/authz/throttle.ts)
// draw their limiters from here too. Counted in the
// shared PostgreSQL store so limits hold across instances (F5); an in-memory first line only sheds
// keys already known to be over their budget. If the store is unreachable, calls fail closed.
import { RateLimiterMemory, RateLimiterPostgres, RateLimiterRes, type RateLimiterAbstract } from 'rate-limiter-flexible';
import { z } from 'zod';
import type { Sql } from '../db/context.js';
import { pgStyleClient } from './store.js';

export interface Budget {
  points: number;
  durationSeconds: number;
}

export interface Budgets {
  token: Budget;
  tenant: Budget;
  client: Budget;
}

export const DEFAULT_BUDGETS: Budgets = {
  token: { points: 120, durationSeconds: 60 },
  tenant: { points: 6000, durationSeconds: 60 },
  client: { points: 2000, durationSeconds: 60 },
};

export type LimitScope = keyof Budgets;

const budget = z.object({ points: z.number().int().min(1).max(1_000_000), durationSeconds: z.number().int().min(1).max(86_400) }).strict();
const overridesSchema = z.object({ token: budget, tenant: budget, client: budget }).partial().strict();

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
}

export class RateLimits {
  readonly budgets: Budgets;
  readonly #limiters = new Map<string, RateLimiterAbstract>();
  readonly #client;
  readonly #store;

  constructor(sql: Sql, { store, budgets = {} }: RateLimitsOptions) {
    this.budgets = { ...DEFAULT_BUDGETS, ...budgets };
    this.#client = pgStyleClient(sql);
    this.#store = store;
  }

  /** One limiter per (scope, budget): tenants may override budgets, so there can be several. */
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

  async #consume(scope: LimitScope, key: string, weight: number, budget: Budget = this.budgets[scope]): Promise<Decision> {
    try {
      const res = await this.limiter(scope, budget).consume(key, weight);
      return { allowed: true, scope, limit: budget.points, windowSeconds: budget.durationSeconds, remaining: res.remainingPoints, resetSeconds: Math.ceil(res.msBeforeNext / 1000) };
    } catch (rejection) {
      if (rejection instanceof RateLimiterRes) {
        const resetSeconds = Math.max(1, Math.ceil(rejection.msBeforeNext / 1000));
        return { allowed: false, scope, limit: budget.points, windowSeconds: budget.durationSeconds, remaining: 0, resetSeconds, retryAfterSeconds: resetSeconds };
      }
      throw new RateLimitStoreUnavailable(`rate-limit store unavailable: ${(rejection as Error)?.message}`);
    }
  }

  /**
   * An MCP call: the token's budget first (the primary one), then its tenant's and client's.
   * Returns the most restrictive decision; a refusal names the budget that refused.
   */
  async consumeCall(call: { tenantId: string; tokenId: string; clientId: string; weight: number; overrides?: Partial<Budgets> }): Promise<Decision> {
    const b = { ...this.budgets, ...call.overrides };
    if (this.#store === 'off') return { allowed: true, scope: 'token', limit: b.token.points, windowSeconds: b.token.durationSeconds, remaining: b.token.points, resetSeconds: 0 };
    const t = `t:${call.tenantId}`;
    const decisions = await Promise.all([
      this.#consume('token', `${t}:token:${call.tokenId}`, call.weight, b.token),
      this.#consume('tenant', t, call.weight, b.tenant),
      this.#consume('client', `${t}:client:${call.clientId}`, call.weight, b.client),
    ]);
    return decisions.find((d) => !d.allowed) ?? decisions.reduce((a, d) => (d.remaining < a.remaining ? d : a));
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
