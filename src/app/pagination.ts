import { invalidArgument } from '../domain/errors';

export const DEFAULT_PAGE_SIZE = 50;
export const MAX_PAGE_SIZE = 500;

/** A validated page request: opaque token in, position out. */
export interface Page {
  size: number;
  after?: string;
}

/** Validates page size and decodes the opaque page token (base64url of the last position seen). */
export function readPage(pageSize: number, pageToken: string): Page {
  if (pageSize < 0 || pageSize > MAX_PAGE_SIZE) {
    throw invalidArgument([{ field: 'page_size', rule: `must be between 0 and ${MAX_PAGE_SIZE}` }]);
  }
  const size = pageSize || DEFAULT_PAGE_SIZE;
  if (!pageToken) return { size };
  const after = Buffer.from(pageToken, 'base64url').toString('utf8');
  if (!after.startsWith('p1:'))
    throw invalidArgument([{ field: 'page_token', rule: 'is not a token this API issued' }]);
  return { size, after: after.slice(3) };
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
  return { items: kept, nextPageToken: Buffer.from(`p1:${last}`, 'utf8').toString('base64url') };
}
