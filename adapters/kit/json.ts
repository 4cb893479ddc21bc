import { DomainError, invalidArgument } from '../../src/domain/errors';

/** A JSON object as a provider sends it, before any field is trusted. */
export type JsonObject = Record<string, unknown>;

/** Bodies larger than this are refused unread: no provider answer or webhook we handle comes near it. */
export const MAX_JSON_CHARS = 4 * 1024 * 1024;

const LONG_INTEGER = /^-?\d{16,}$/;
const NUMBER = /^-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?/;

/**
 * Parses a provider's JSON body. Integers beyond 2^53 are kept exact as their decimal strings (providers send int64
 * ids as JSON numbers, which JSON.parse would silently round). Throws only DomainError INVALID_ARGUMENT naming
 * `field`: for text that is not JSON, and for text over `maxChars` (so a hostile body costs no more than its read).
 */
export function parseJson(text: string, options: { field?: string; maxChars?: number } = {}): unknown {
  const field = options.field ?? 'body';
  const maxChars = options.maxChars ?? MAX_JSON_CHARS;
  if (text.length > maxChars) throw invalidArgument([{ field, rule: `must be at most ${maxChars} characters` }]);
  try {
    return JSON.parse(quoteLongIntegers(text));
  } catch {
    throw invalidArgument([{ field, rule: 'is not JSON' }]);
  }
}

/** The text with every integer token too long for a double turned into a JSON string; strings are left alone. */
function quoteLongIntegers(text: string): string {
  const parts: string[] = [];
  let copied = 0;
  let i = 0;
  while (i < text.length) {
    const ch = text[i]!;
    if (ch === '"') {
      i = endOfString(text, i);
    } else if (ch === '-' || (ch >= '0' && ch <= '9')) {
      const token = NUMBER.exec(text.slice(i, i + 400))?.[0] ?? ch;
      if (LONG_INTEGER.test(token) && !Number.isSafeInteger(Number(token))) {
        parts.push(text.slice(copied, i), `"${token}"`);
        copied = i + token.length;
      }
      i += token.length;
    } else {
      i += 1;
    }
  }
  parts.push(text.slice(copied));
  return parts.join('');
}

/** Index just past the closing quote of the string starting at `start` (or the end of text when unterminated). */
function endOfString(text: string, start: number): number {
  let i = start + 1;
  while (i < text.length) {
    const ch = text[i];
    if (ch === '\\') i += 2;
    else if (ch === '"') return i + 1;
    else i += 1;
  }
  return text.length;
}

/** `prefix.key`, or `key` alone at the top. */
function fieldName(prefix: string, key: string): string {
  return prefix ? `${prefix}.${key}` : key;
}

/** Absent, null and "" all mean "not sent": providers use each of them for an unset field. */
function unset(value: unknown): value is undefined | null | '' {
  return value === undefined || value === null || value === '';
}

function wrong(prefix: string, key: string, rule: string): DomainError {
  return invalidArgument([{ field: fieldName(prefix, key), rule }]);
}

/** Quotes a provider's value in a rule, short and printable (it may be hostile). */
function quoted(value: unknown): string {
  const text = typeof value === 'string' ? value : jsonText(value);
  return `'${text.slice(0, 64).replace(/[^\x20-\x7e]/g, '?')}'`;
}

/** The value as JSON text; a value too deeply nested to stringify (RangeError) by its kind, so a refusal stays one. */
function jsonText(value: unknown): string {
  try {
    return JSON.stringify(value) ?? String(value);
  } catch {
    return Array.isArray(value) ? '[...]' : '{...}';
  }
}

/** The value as a JSON object, or INVALID_ARGUMENT naming `field`. */
export function asObject(value: unknown, field: string): JsonObject {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw invalidArgument([{ field, rule: 'must be a JSON object' }]);
  }
  return value as JsonObject;
}

/** The value as a JSON array, or INVALID_ARGUMENT naming `field`. */
export function asArray(value: unknown, field: string): unknown[] {
  if (!Array.isArray(value)) throw invalidArgument([{ field, rule: 'must be a JSON array' }]);
  return value;
}

/** A string field; numbers are read as their decimal text (ids may come as JSON numbers). Unset = undefined. */
export function optStr(o: JsonObject, key: string, prefix: string): string | undefined {
  const value = o[key];
  if (unset(value)) return undefined;
  if (typeof value === 'string') return value;
  if (typeof value === 'number' && Number.isFinite(value)) return String(value);
  throw wrong(prefix, key, 'must be a string');
}

/** A string field that must be set. */
export function str(o: JsonObject, key: string, prefix: string): string {
  const value = optStr(o, key, prefix);
  if (value === undefined) throw wrong(prefix, key, 'is required');
  return value;
}

/** An integer of any size, sent as a number or a numeric string (`"cycle_index":"1"`). Unset = undefined. */
export function optBigInt(o: JsonObject, key: string, prefix: string): bigint | undefined {
  const value = o[key];
  if (unset(value)) return undefined;
  if (typeof value === 'number' && Number.isSafeInteger(value)) return BigInt(value);
  if (typeof value === 'string' && /^\s*-?\d{1,40}\s*$/.test(value)) return BigInt(value.trim());
  throw wrong(prefix, key, `${quoted(value)} is not an integer`);
}

/** A safe integer, sent as a number or a numeric string. Unset = undefined. */
export function optInt(o: JsonObject, key: string, prefix: string): number | undefined {
  const value = optBigInt(o, key, prefix);
  if (value === undefined) return undefined;
  if (value > BigInt(Number.MAX_SAFE_INTEGER) || value < BigInt(Number.MIN_SAFE_INTEGER)) {
    throw wrong(prefix, key, 'is out of range');
  }
  return Number(value);
}

/** A safe integer that must be set. */
export function int(o: JsonObject, key: string, prefix: string): number {
  const value = optInt(o, key, prefix);
  if (value === undefined) throw wrong(prefix, key, 'is required');
  return value;
}

/** A flag sent as a boolean, "true"/"false" or 1/0. Unset = undefined. */
export function optBool(o: JsonObject, key: string, prefix: string): boolean | undefined {
  const value = o[key];
  if (unset(value)) return undefined;
  if (value === true || value === 'true' || value === 1 || value === '1') return true;
  if (value === false || value === 'false' || value === 0 || value === '0') return false;
  throw wrong(prefix, key, 'must be a boolean');
}

/** A flag whose absence means false. */
export function bool(o: JsonObject, key: string, prefix: string): boolean {
  return optBool(o, key, prefix) ?? false;
}

/** A nested object. null = undefined. */
export function optObj(o: JsonObject, key: string, prefix: string): JsonObject | undefined {
  const value = o[key];
  if (value === undefined || value === null) return undefined;
  return asObject(value, fieldName(prefix, key));
}

/** A nested object that must be present. */
export function obj(o: JsonObject, key: string, prefix: string): JsonObject {
  const value = optObj(o, key, prefix);
  if (value === undefined) throw wrong(prefix, key, 'is required');
  return value;
}

/** A list; absent or null = empty (providers omit empty lists). */
export function arr(o: JsonObject, key: string, prefix: string): unknown[] {
  const value = o[key];
  if (value === undefined || value === null) return [];
  return asArray(value, fieldName(prefix, key));
}

const RFC3339 = /^\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}:\d{2}(?:\.\d+)?(?:[Zz]|[+-]\d{2}:\d{2})$/;

/** An RFC 3339 time with its offset (`2025-10-28T06:54:56Z`). Unset = undefined. */
export function optIsoDate(o: JsonObject, key: string, prefix: string): Date | undefined {
  const value = o[key];
  if (unset(value)) return undefined;
  if (typeof value === 'string' && RFC3339.test(value)) {
    const time = new Date(value.replace(' ', 'T'));
    if (!Number.isNaN(time.getTime())) return time;
  }
  throw wrong(prefix, key, `${quoted(value)} is not an RFC 3339 time`);
}

/** An RFC 3339 time that must be set. */
export function isoDate(o: JsonObject, key: string, prefix: string): Date {
  const value = optIsoDate(o, key, prefix);
  if (value === undefined) throw wrong(prefix, key, 'is required');
  return value;
}

/** Years 1970–9999, the range our contract allows for timestamps. */
const MAX_EPOCH_MS = Date.UTC(9999, 11, 31, 23, 59, 59, 999);

function epoch(o: JsonObject, key: string, prefix: string, unitMs: number): Date | undefined {
  const value = optBigInt(o, key, prefix);
  if (value === undefined) return undefined;
  const ms = value * BigInt(unitMs);
  if (ms < 0n || ms > BigInt(MAX_EPOCH_MS)) throw wrong(prefix, key, 'is not a time between 1970 and 9999');
  return new Date(Number(ms));
}

/** Unix seconds, sent as a number or a numeric string. Unset = undefined. */
export function optEpochSeconds(o: JsonObject, key: string, prefix: string): Date | undefined {
  return epoch(o, key, prefix, 1000);
}

/** Unix milliseconds, sent as a number or a numeric string. Unset = undefined. */
export function optEpochMs(o: JsonObject, key: string, prefix: string): Date | undefined {
  return epoch(o, key, prefix, 1);
}
