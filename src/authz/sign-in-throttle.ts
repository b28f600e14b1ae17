// The sign-in throttle (docs/ATTACK-CATALOGUE.md O11, O13): counters in PostgreSQL (sign_in_throttles, 014), so
// every instance sees the same ones; the decision is checks/sign-in-delay.ts. An attempt is let
// through (and counted) before its password is checked, under row locks, so a burst of concurrent
// guesses gets no more than the policy allows; a success gives its count back. A refusal is always a
// delay with Retry-After — never a lock that a stranger can hold on someone else's account.
import { createHash } from 'node:crypto';
import type { Sql } from '../db/context.js';
import { DEFAULT_SIGN_IN_POLICY, decideSignIn, type Counter, type SignInPolicy } from './checks/sign-in-delay.js';
import { TooManyRequests } from './errors.js';

export interface SignInAttempt {
  /** The account as typed (tenant, kind and normalised email), whether it exists or not. */
  account: string;
  ip: string;
  /** The nonce of a valid device cookie for this account, if the browser has one. */
  deviceNonce: string | null;
}

/** What was let through: the caller reports a success with it. */
export type Admission = { via: 'device'; device: string } | { via: 'browser'; pair: string; account: string };

/** The row key of a counter: a SHA-256, so the table holds no email, address or cookie in clear. */
export function signInThrottleKey(kind: 'pair' | 'account' | 'device', ...parts: string[]): string {
  return `${kind}:${createHash('sha256').update([kind, ...parts].join('\n')).digest('hex')}`;
}

interface Row { key: string; attempts: number; not_before: Date; expires_at: Date; now: Date }

export class SignInThrottle {
  #admissions = 0;

  constructor(readonly sql: Sql, readonly policy: SignInPolicy = DEFAULT_SIGN_IN_POLICY) {}

  /** Lets the attempt through to the password check, or throws TooManyRequests with the wait. */
  async admit(attempt: SignInAttempt): Promise<Admission> {
    const k = {
      pair: signInThrottleKey('pair', attempt.account, attempt.ip),
      account: signInThrottleKey('account', attempt.account),
      device: attempt.deviceNonce ? signInThrottleKey('device', attempt.account, attempt.deviceNonce) : undefined,
    };
    const keys = [k.pair, k.account, ...(k.device ? [k.device] : [])];
    if (++this.#admissions % 256 === 0) await this.sql`delete from sign_in_throttles where expires_at < now() - interval '1 day'`;
    return this.sql.begin(async (tx) => {
      await tx`insert into sign_in_throttles (key) select unnest(${tx.array(keys)}::text[]) on conflict (key) do nothing`;
      const rows = await tx<Row[]>`
        select key, attempts, not_before, expires_at, clock_timestamp() as now from sign_in_throttles
        where key = any(${tx.array(keys)}::text[]) order by key for update`;
      const at = (name: string | undefined): Counter | undefined => {
        const r = rows.find((x) => x.key === name);
        return r && { attempts: r.attempts, notBefore: r.not_before, expiresAt: r.expires_at };
      };
      const now = rows[0]?.now ?? new Date();
      const decision = decideSignIn({ hasDevice: Boolean(k.device), device: at(k.device), pair: at(k.pair), account: at(k.account) }, now, this.policy);
      if (!decision.admit) throw new TooManyRequests(decision.retryAfterSeconds, 'sign-in delayed');
      const write = (name: string, c: Counter) =>
        tx`update sign_in_throttles set attempts = ${c.attempts}, not_before = ${c.notBefore}, expires_at = ${c.expiresAt} where key = ${name}`;
      if (decision.via === 'device') {
        await write(k.device!, decision.device);
        return { via: 'device', device: k.device! } as const;
      }
      await write(k.pair, decision.pair);
      await write(k.account, decision.account);
      return { via: 'browser', pair: k.pair, account: k.account } as const;
    });
  }

  /**
   * The right password. Through a device cookie: the attempt is given back (the browser gets a new
   * cookie anyway, so the old one keeps whatever failures a thief spent on it). As a plain browser:
   * its (account, address) counter starts again, and the account's gets this attempt back — not
   * more, or the person signing in would hand the strangers a fresh allowance.
   */
  async succeeded(a: Admission): Promise<void> {
    if (a.via === 'device') {
      await this.sql`update sign_in_throttles set attempts = greatest(attempts - 1, 0) where key = ${a.device}`;
      return;
    }
    await this.sql.begin(async (tx) => {
      await tx`delete from sign_in_throttles where key = ${a.pair}`;
      await tx`update sign_in_throttles set attempts = greatest(attempts - 1, 0) where key = ${a.account}`;
    });
  }
}
