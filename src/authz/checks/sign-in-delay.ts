// How many password guesses a sign-in may have evaluated, and when (docs/ATTACK-CATALOGUE.md O11, O13; OWASP
// Authentication Cheat Sheet "Protect against automated attacks", Credential Stuffing Prevention
// Cheat Sheet "Device cookies"). Pure: the caller reads the counters under lock and writes back what
// this decides. Nothing here ever refuses for good: every refusal carries the time it ends.

/** Free attempts, then a delay doubling from `baseSeconds` up to `capSeconds`; forgotten after `windowSeconds` of quiet. */
export interface DelayPolicy {
  free: number;
  baseSeconds: number;
  capSeconds: number;
  windowSeconds: number;
}

export interface SignInPolicy {
  /** Per (account, address): one address guessing one account. */
  pair: DelayPolicy;
  /** Per account, over every address: only browsers without a valid device cookie wait here. */
  account: DelayPolicy;
  /** Per device cookie: a stolen cookie gets `free` guesses per window, then counts as no cookie. */
  device: { free: number; windowSeconds: number };
}

export const DEFAULT_SIGN_IN_POLICY: SignInPolicy = {
  pair: { free: 5, baseSeconds: 30, capSeconds: 900, windowSeconds: 3600 },
  account: { free: 10, baseSeconds: 15, capSeconds: 300, windowSeconds: 3600 },
  device: { free: 5, windowSeconds: 3600 },
};

export interface Counter {
  attempts: number;
  notBefore: Date;
  expiresAt: Date;
}

/** The wait before the next attempt, once `attempts` were let through: 0 while free, then base·2^k, capped. */
export function delayAfter(attempts: number, p: DelayPolicy): number {
  if (attempts < p.free) return 0;
  return Math.min(p.capSeconds, p.baseSeconds * 2 ** Math.min(30, attempts - p.free));
}

function live(c: Counter | undefined, now: Date): Counter | undefined {
  return c && c.expiresAt > now ? c : undefined;
}

function counted(c: Counter | undefined, now: Date, p: DelayPolicy): Counter {
  const attempts = (live(c, now)?.attempts ?? 0) + 1;
  return {
    attempts,
    notBefore: new Date(now.getTime() + delayAfter(attempts, p) * 1000),
    expiresAt: new Date(now.getTime() + p.windowSeconds * 1000),
  };
}

export type SignInDecision =
  | { admit: true; via: 'device'; device: Counter }
  | { admit: true; via: 'browser'; pair: Counter; account: Counter }
  | { admit: false; retryAfterSeconds: number };

/**
 * One sign-in attempt. A browser holding a valid device cookie for this account is judged by that
 * cookie's counter alone (so strangers guessing the account from elsewhere never slow it); once the
 * cookie has used its free attempts it is judged like any other browser: by its (account, address)
 * pair and by the account's counter, both of which must be open. What is let through is counted
 * before the password is checked, so concurrent attempts cannot all slip under a limit.
 */
export function decideSignIn(state: { device?: Counter | undefined; hasDevice: boolean; pair?: Counter | undefined; account?: Counter | undefined }, now: Date, policy: SignInPolicy): SignInDecision {
  if (state.hasDevice) {
    const device = live(state.device, now);
    if ((device?.attempts ?? 0) < policy.device.free) {
      return { admit: true, via: 'device', device: { attempts: (device?.attempts ?? 0) + 1, notBefore: now, expiresAt: new Date(now.getTime() + policy.device.windowSeconds * 1000) } };
    }
  }
  const waits = [live(state.pair, now), live(state.account, now)]
    .filter((c): c is Counter => c !== undefined && c.notBefore > now)
    .map((c) => c.notBefore.getTime() - now.getTime());
  if (waits.length) return { admit: false, retryAfterSeconds: Math.max(1, Math.ceil(Math.max(...waits) / 1000)) };
  return { admit: true, via: 'browser', pair: counted(state.pair, now, policy.pair), account: counted(state.account, now, policy.account) };
}
