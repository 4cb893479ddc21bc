import { integer, optionalString } from '../../kit/emulator/body-readers';
import type { Body } from '../../kit/emulator/http-io';
import { invalidParameter } from './errors';

// The generic readers come from the kit (their 400s name the field, as Subotiz's do); Subotiz's own rules below.
export type { Body } from '../../kit/emulator/http-io';
export { parseBody } from '../../kit/emulator/http-io';
export { integer, oneOf, optionalString, optionalUrl, requiredString } from '../../kit/emulator/body-readers';

/** An email address (loosely: something@domain.tld), or undefined. */
export function optionalEmail(body: Body, field: string): string | undefined {
  const value = optionalString(body, field, 254);
  if (value !== undefined && !/^[^\s@]+@[^\s@]+\.[^\s@]+$/.test(value)) {
    throw invalidParameter(field, `'${value}' is not an email address`);
  }
  return value;
}

/** Subotiz's metadata limits: string values, keys ≤ 40 bytes, values ≤ 500 bytes, the whole JSON ≤ 1024 bytes. */
export function metadata(body: Body, field = 'metadata'): Record<string, string> {
  const value = body[field];
  if (value === undefined || value === null) return {};
  if (typeof value !== 'object' || Array.isArray(value)) throw invalidParameter(field, 'must be an object');
  const result: Record<string, string> = {};
  for (const [key, entry] of Object.entries(value as Record<string, unknown>)) {
    if (Buffer.byteLength(key) > 40) throw invalidParameter(`${field}.${key}`, 'key must be at most 40 bytes');
    if (typeof entry !== 'string') throw invalidParameter(`${field}.${key}`, 'must be a string');
    if (Buffer.byteLength(entry) > 500) throw invalidParameter(`${field}.${key}`, 'must be at most 500 bytes');
    result[key] = entry;
  }
  if (Buffer.byteLength(JSON.stringify(result)) > 1024) throw invalidParameter(field, 'must be at most 1024 bytes');
  return result;
}

/** `page` (from 1) and `page_size` (1–100, default 20) of a list request. */
export function pageParams(query: URLSearchParams): { page: number; pageSize: number } {
  return {
    page: integer(query.get('page') ?? '1', 'page', 1),
    pageSize: integer(query.get('page_size') ?? '20', 'page_size', 1, 100),
  };
}

/** One page of `items` as Subotiz answers lists: `{list, total}`. */
export function paginate<T>(items: T[], query: URLSearchParams, toJson: (item: T) => unknown) {
  const { page, pageSize } = pageParams(query);
  const list = items.slice((page - 1) * pageSize, page * pageSize).map(toJson);
  return { list, total: items.length };
}
