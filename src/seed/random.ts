// A small seeded pseudo-random generator for the demo and volume data. The seed code never calls
// Math.random: the same seed string gives the same content on every machine, so demo logins, the
// story orders and the counts stay stable across fresh databases (and tests can compare them).
// Not for anything secret: ids, salts and passwords come from node:crypto.

/** cyrb53-style string hash folded to 32 bits: turns a seed string into a PRNG state. */
function hashSeed(seed: string): number {
  let h1 = 0xdeadbeef;
  let h2 = 0x41c6ce57;
  for (let i = 0; i < seed.length; i++) {
    const ch = seed.charCodeAt(i);
    h1 = Math.imul(h1 ^ ch, 2654435761);
    h2 = Math.imul(h2 ^ ch, 1597334677);
  }
  h1 = Math.imul(h1 ^ (h1 >>> 16), 2246822507) ^ Math.imul(h2 ^ (h2 >>> 13), 3266489909);
  h2 = Math.imul(h2 ^ (h2 >>> 16), 2246822507) ^ Math.imul(h1 ^ (h1 >>> 13), 3266489909);
  return (h1 ^ h2) >>> 0;
}

const DAY_MS = 86_400_000;
const HOUR_MS = 3_600_000;

/** mulberry32: 32-bit state, full period 2^32, fast and good enough for fixture data. */
export class SeededRandom {
  private state: number;

  constructor(seed: string | number) {
    this.state = typeof seed === 'number' ? seed >>> 0 : hashSeed(seed);
  }

  /** A float in [0, 1). */
  next(): number {
    this.state = (this.state + 0x6d2b79f5) >>> 0;
    let t = this.state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }

  /** An integer in [min, max], both inclusive. */
  int(min: number, max: number): number {
    return min + Math.floor(this.next() * (max - min + 1));
  }

  /** True with probability p. */
  chance(p: number): boolean {
    return this.next() < p;
  }

  pick<T>(items: readonly T[]): T {
    if (items.length === 0) throw new RangeError('pick from an empty list');
    return items[Math.floor(this.next() * items.length)] as T;
  }

  /** Picks by weight: `[[value, weight], ...]`. */
  weighted<T>(choices: readonly (readonly [T, number])[]): T {
    const total = choices.reduce((sum, [, w]) => sum + w, 0);
    let r = this.next() * total;
    for (const [value, weight] of choices) {
      r -= weight;
      if (r < 0) return value;
    }
    return choices[choices.length - 1]![0];
  }

  /** `count` distinct items, in random order. */
  sample<T>(items: readonly T[], count: number): T[] {
    return this.shuffle(items).slice(0, Math.min(count, items.length));
  }

  /** A shuffled copy (Fisher–Yates). */
  shuffle<T>(items: readonly T[]): T[] {
    const copy = items.slice();
    for (let i = copy.length - 1; i > 0; i--) {
      const j = Math.floor(this.next() * (i + 1));
      [copy[i], copy[j]] = [copy[j] as T, copy[i] as T];
    }
    return copy;
  }

  /** A point in time between `minDays` and `maxDays` days before `reference`, to the minute. */
  daysBefore(reference: Date, minDays: number, maxDays: number): Date {
    const offset = minDays * DAY_MS + this.next() * (maxDays - minDays) * DAY_MS;
    return truncateToMinute(new Date(reference.getTime() - offset));
  }

  /** A point in time between `minHours` and `maxHours` hours after `from`, to the minute. */
  hoursAfter(from: Date, minHours: number, maxHours: number): Date {
    const offset = minHours * HOUR_MS + this.next() * (maxHours - minHours) * HOUR_MS;
    return truncateToMinute(new Date(from.getTime() + offset));
  }
}

export function addDays(date: Date, days: number): Date {
  return new Date(date.getTime() + days * DAY_MS);
}

export function addHours(date: Date, hours: number): Date {
  return new Date(date.getTime() + hours * HOUR_MS);
}

export function truncateToMinute(date: Date): Date {
  return new Date(Math.floor(date.getTime() / 60_000) * 60_000);
}

/** `YYYY-MM-DD` in UTC, for `date` columns. */
export function isoDate(date: Date): string {
  return date.toISOString().slice(0, 10);
}
