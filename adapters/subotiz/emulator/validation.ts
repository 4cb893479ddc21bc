import { invalidParameter } from './errors';

/** A parsed JSON request body. */
export type Body = Record<string, unknown>;

/** Parses a request body; an empty body is `{}`. Anything but a JSON object is a 400 naming `body`. */
export function parseBody(raw: string): Body {
  if (raw.trim() === '') return {};
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw);
  } catch {
    throw invalidParameter('body', 'is not valid JSON');
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw invalidParameter('body', 'must be a JSON object');
  }
  return parsed as Body;
}

/** A present, non-empty string field of at most `max` characters. */
export function requiredString(body: Body, field: string, max = 255, label = field): string {
  const value = optionalString(body, field, max, label);
  if (value === undefined) throw invalidParameter(label, 'is required');
  return value;
}

/** A string field; absent, null or "" is undefined. */
export function optionalString(body: Body, field: string, max = 255, label = field): string | undefined {
  const value = body[field];
  if (value === undefined || value === null || value === '') return undefined;
  if (typeof value !== 'string') throw invalidParameter(label, 'must be a string');
  if (value.length > max) throw invalidParameter(label, `must be at most ${max} characters`);
  return value;
}

/** One of `allowed`, or `fallback` when absent. */
export function oneOf<T extends string>(body: Body, field: string, allowed: readonly T[], fallback: T): T {
  const value = optionalString(body, field) ?? fallback;
  if (!(allowed as readonly string[]).includes(value)) {
    throw invalidParameter(field, `must be one of ${allowed.join(', ')} (got '${value}')`);
  }
  return value as T;
}

/** A whole number ≥ `min`, given as a JSON number or a digit string (Subotiz sends counters both ways). */
export function integer(value: unknown, field: string, min: number, max = Number.MAX_SAFE_INTEGER): number {
  const parsed = typeof value === 'string' && /^-?\d+$/.test(value) ? Number(value) : value;
  if (typeof parsed !== 'number' || !Number.isSafeInteger(parsed) || parsed < min || parsed > max) {
    throw invalidParameter(field, `must be an integer between ${min} and ${max}`);
  }
  return parsed;
}

/** An http(s) URL, or undefined. */
export function optionalUrl(body: Body, field: string): string | undefined {
  const value = optionalString(body, field, 2048);
  if (value === undefined) return undefined;
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw invalidParameter(field, `'${value}' is not a URL`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw invalidParameter(field, 'must be an http(s) URL');
  return value;
}

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
