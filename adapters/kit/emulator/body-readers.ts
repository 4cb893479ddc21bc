import { invalidInput } from './errors';
import type { Body } from './http-io';

// Readers for control and API bodies. Each failure is a 400 whose message starts with the field name.

/** A present, non-empty string field of at most `max` characters. */
export function requiredString(body: Body, field: string, max = 255, label = field): string {
  const value = optionalString(body, field, max, label);
  if (value === undefined) throw invalidInput(label, 'is required');
  return value;
}

/** A string field; absent, null or "" is undefined. */
export function optionalString(body: Body, field: string, max = 255, label = field): string | undefined {
  const value = body[field];
  if (value === undefined || value === null || value === '') return undefined;
  if (typeof value !== 'string') throw invalidInput(label, 'must be a string');
  if (value.length > max) throw invalidInput(label, `must be at most ${max} characters`);
  return value;
}

/** One of `allowed`, or `fallback` when absent (no fallback: the field is required). */
export function oneOf<T extends string>(body: Body, field: string, allowed: readonly T[], fallback?: T): T {
  const value = optionalString(body, field) ?? fallback;
  if (value === undefined) throw invalidInput(field, `is required (one of ${allowed.join(', ')})`);
  if (!(allowed as readonly string[]).includes(value)) {
    throw invalidInput(field, `must be one of ${allowed.join(', ')} (got '${value.slice(0, 64)}')`);
  }
  return value as T;
}

/** A whole number between `min` and `max`, given as a JSON number or a digit string. */
export function integer(value: unknown, field: string, min: number, max = Number.MAX_SAFE_INTEGER): number {
  const parsed = typeof value === 'string' && /^-?\d{1,16}$/.test(value) ? Number(value) : value;
  if (typeof parsed !== 'number' || !Number.isSafeInteger(parsed) || parsed < min || parsed > max) {
    throw invalidInput(field, `must be an integer between ${min} and ${max}`);
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
    throw invalidInput(field, `'${value.slice(0, 64)}' is not a URL`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw invalidInput(field, 'must be an http(s) URL');
  return value;
}
