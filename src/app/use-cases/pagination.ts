import { invalidArgument } from '../../domain/errors';

export const DEFAULT_PAGE_SIZE = 50;
export const MAX_PAGE_SIZE = 500;

/** A validated page request: opaque token in, position out. */
export interface Page {
  size: number;
  after?: string;
}

/**
 * What a list pages by: `id` for our ids and storefront slugs (`cus_01j...`, `eu-web`), `sequence` for the event
 * log's numeric positions. A decoded position must have its list's shape before it reaches SQL: a forged token is
 * the caller's error, not a database one.
 */
export type PositionKind = 'id' | 'sequence';

const POSITION_SHAPE: Record<PositionKind, RegExp> = {
  id: /^[a-z0-9][a-z0-9_-]{0,63}$/,
  // Below 2^53 and without leading zeros: exact as a JS number and within PostgreSQL bigint.
  sequence: /^(0|[1-9][0-9]{0,14})$/,
};

const TOKEN = /^[A-Za-z0-9_-]{1,200}$/;
const PREFIX = 'p1:';

/** Validates page size and decodes the opaque page token (base64url of the last position seen). */
export function readPage(pageSize: number, pageToken: string, kind: PositionKind = 'id'): Page {
  if (!Number.isInteger(pageSize) || pageSize < 0 || pageSize > MAX_PAGE_SIZE) {
    throw invalidArgument([{ field: 'page_size', rule: `must be between 0 and ${MAX_PAGE_SIZE}` }]);
  }
  const size = pageSize || DEFAULT_PAGE_SIZE;
  if (!pageToken) return { size };
  const decoded = TOKEN.test(pageToken) ? Buffer.from(pageToken, 'base64url').toString('utf8') : '';
  const after = decoded.startsWith(PREFIX) ? decoded.slice(PREFIX.length) : '';
  if (!POSITION_SHAPE[kind].test(after)) {
    throw invalidArgument([{ field: 'page_token', rule: 'is not a token this API issued' }]);
  }
  return { size, after };
}

/** Cuts the extra item the store fetched and returns the token for the next page ('' on the last page). */
export function pageOf<T>(
  items: T[],
  page: Page,
  positionOf: (item: T) => string,
): { items: T[]; nextPageToken: string } {
  if (items.length <= page.size) return { items, nextPageToken: '' };
  const kept = items.slice(0, page.size);
  const last = positionOf(kept[kept.length - 1]!);
  return { items: kept, nextPageToken: Buffer.from(`${PREFIX}${last}`, 'utf8').toString('base64url') };
}
