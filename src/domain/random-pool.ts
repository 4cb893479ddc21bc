import { randomBytes } from 'node:crypto';

/**
 * Crypto-random bytes drawn from a pool refilled 4 KiB at a time. Every id takes 16 random bytes; one crypto call
 * per byte (ulid's default) was a measurable share of a CreateCustomer's CPU. The bytes are as random as
 * `randomBytes`' own; only the number of calls changes.
 */
const POOL_BYTES = 4096;
let pool = randomBytes(POOL_BYTES);
let next = 0;

export function randomByte(): number {
  if (next === pool.length) {
    pool = randomBytes(POOL_BYTES);
    next = 0;
  }
  return pool[next++]!;
}
