import { monotonicFactory } from 'ulid';
import { randomByte } from './random-pool';

/** Prefixes of our ids. Ids are time-sortable (ULID) so cursors can page by id. */
export type IdPrefix = 'cus' | 'sub' | 'pay' | 'ref' | 'inv' | 'plan' | 'evt' | 'ent' | 'use' | 'dlq' | 'cs';

// ulid draws one random fraction per character: from the pool, not one crypto call each.
const ulid = monotonicFactory(() => randomByte() / 256);

export function newId(prefix: IdPrefix): string {
  return `${prefix}_${ulid().toLowerCase()}`;
}
