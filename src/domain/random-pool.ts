import { randomBytes } from 'node:crypto';

/**
 * Crypto-random bytes drawn from a pool refilled 4 KiB at a time. Ids and trace ids need a few random bytes per
 * request; one crypto call per byte (ulid's default) or per id was a measurable share of a CreateCustomer's CPU.
 * The bytes are as random as `randomBytes`' own; only the number of calls changes.
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

/** `bytes` random bytes as lower-case hex. */
export function randomHex(bytes: number): string {
  let hex = '';
  for (let i = 0; i < bytes; i++) hex += HEX[randomByte()];
  return hex;
}

const HEX = Array.from({ length: 256 }, (_, b) => b.toString(16).padStart(2, '0'));
