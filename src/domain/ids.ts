import { monotonicFactory } from 'ulid';

/** Prefixes of our ids. Ids are time-sortable (ULID) so cursors can page by id. */
export type IdPrefix = 'cus' | 'sub' | 'pay' | 'ref' | 'inv' | 'plan' | 'evt' | 'ent' | 'use' | 'dlq' | 'cs';

const ulid = monotonicFactory();

export function newId(prefix: IdPrefix): string {
  return `${prefix}_${ulid().toLowerCase()}`;
}
