// Rate limits for the authorization server (O11, A4), in one module. The limiters come from the
// service's RateLimits, so they count in the store every instance shares (F5); without one (unit
// use) they are per process. If the shared store cannot answer, requests fail closed with 503.
// Guessing one account's password has its own throttle with progressive delays and device cookies
// (sign-in-throttle.ts, O13); here is only the per-address cap on sign-in attempts of any account.
import { RateLimiterMemory, RateLimiterRes, type RateLimiterAbstract } from 'rate-limiter-flexible';
import type { RateLimits } from '../ratelimit/limits.js';
import { TemporarilyUnavailable, TooManyRequests } from './errors.js';

export interface ThrottleLimits {
  loginPerIpPerMinute: number;
  tokenPerIpPerMinute: number;
  clientAuthFailuresPerClient: number; // per 15 minutes
  registrationsPerIpPerHour: number;
}

export const DEFAULT_LIMITS: ThrottleLimits = {
  loginPerIpPerMinute: 30,
  tokenPerIpPerMinute: 120,
  clientAuthFailuresPerClient: 10,
  registrationsPerIpPerHour: 20,
};

function retryAfter(e: unknown): number {
  if (e instanceof RateLimiterRes) return Math.ceil(e.msBeforeNext / 1000);
  throw new TemporarilyUnavailable(5, `rate-limit store unavailable: ${(e as Error)?.message}`);
}

type LimiterFactory = (keyPrefix: string, points: number, durationSeconds: number) => RateLimiterAbstract;

const memory: LimiterFactory = (keyPrefix, points, duration) => new RateLimiterMemory({ keyPrefix, points, duration });

export class Throttles {
  readonly #loginIp: RateLimiterAbstract;
  readonly #tokenIp: RateLimiterAbstract;
  readonly #clientAuth: RateLimiterAbstract;
  readonly #register: RateLimiterAbstract;

  constructor(shared?: RateLimits, limits: ThrottleLimits = DEFAULT_LIMITS) {
    const make: LimiterFactory = shared
      ? (keyPrefix, points, durationSeconds) => shared.limiter(keyPrefix, { points, durationSeconds })
      : memory;
    this.#loginIp = make('login_ip', limits.loginPerIpPerMinute, 60);
    this.#tokenIp = make('token_ip', limits.tokenPerIpPerMinute, 60);
    this.#clientAuth = make('client_auth', limits.clientAuthFailuresPerClient, 900);
    this.#register = make('register_ip', limits.registrationsPerIpPerHour, 3600);
  }

  async #take(limiter: RateLimiterAbstract, key: string, what: string): Promise<void> {
    try { await limiter.consume(key); } catch (e) { throw new TooManyRequests(retryAfter(e), `${what} limit for ${key}`); }
  }

  async #ensureNotLocked(limiter: RateLimiterAbstract, key: string, what: string): Promise<void> {
    const res = await limiter.get(key).catch((e: unknown) => { retryAfter(e); return null; });
    if (res && res.remainingPoints <= 0) throw new TooManyRequests(Math.ceil(res.msBeforeNext / 1000), `${what} locked for ${key}`);
  }

  /** Every login attempt counts against the IP. */
  loginAttempt(ip: string): Promise<void> { return this.#take(this.#loginIp, ip, 'login per IP'); }

  tokenRequest(ip: string): Promise<void> { return this.#take(this.#tokenIp, ip, 'token per IP'); }
  clientAuthOpen(clientKey: string): Promise<void> { return this.#ensureNotLocked(this.#clientAuth, clientKey, 'client auth'); }
  async clientAuthFailed(clientKey: string): Promise<void> { await this.#clientAuth.penalty(clientKey, 1).catch(retryAfter); }

  registration(ip: string): Promise<void> { return this.#take(this.#register, ip, 'registration per IP'); }
}
