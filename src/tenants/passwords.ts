// Password hashing for staff and customers (docs/DESIGN.md §2: a memory-hard KDF). Argon2id with the
// OWASP Password Storage Cheat Sheet's first recommended setting: m = 19 MiB, t = 2, p = 1.
// The parameters are encoded in each PHC string, so raising them later leaves old hashes verifiable
// (`needsRehash` tells the login step when to upgrade one).
import { hash, verify, type Algorithm, type Options } from '@node-rs/argon2';

// `Algorithm` is a `const enum` in the package's types and an empty object at run time, so the
// value is spelled out: 2 is Argon2id.
const ARGON2ID = 2 as Algorithm.Argon2id;

export const PASSWORD_HASH_OPTIONS: Readonly<Options> = Object.freeze({
  algorithm: ARGON2ID,
  memoryCost: 19_456, // KiB
  timeCost: 2,
  parallelism: 1,
});

/** Hashes a password into a PHC string (`$argon2id$v=19$m=19456,t=2,p=1$salt$hash`), random salt. */
export async function hashPassword(plain: string): Promise<string> {
  return hash(plain, PASSWORD_HASH_OPTIONS);
}

/**
 * True when `plain` matches `storedHash`. A malformed or foreign hash is a mismatch, never an
 * exception, so a corrupted row cannot turn a login into a 500.
 */
export async function verifyPassword(storedHash: string, plain: string): Promise<boolean> {
  try {
    return await verify(storedHash, plain);
  } catch {
    return false;
  }
}

/** True when the stored hash was made with weaker parameters than today's. */
export function needsRehash(storedHash: string): boolean {
  const match = /^\$argon2id\$v=19\$m=(\d+),t=(\d+),p=(\d+)\$/.exec(storedHash);
  if (!match) return true;
  const [, m, t] = match;
  return Number(m) < PASSWORD_HASH_OPTIONS.memoryCost! || Number(t) < PASSWORD_HASH_OPTIONS.timeCost!;
}
