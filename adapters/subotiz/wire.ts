import { invalidArgument } from '../../src/domain/errors';

/** A JSON object as Subotiz sends it, before any field is trusted. */
export type WireObject = Record<string, unknown>;

const UNSAFE_INTEGER = /^-?\d{16,}$/;

/**
 * JSON.parse that keeps integers beyond 2^53 exact by reading them as strings. Subotiz ids are int64 and sometimes
 * arrive as JSON numbers (`"id": 572677246926464036`), which a plain JSON.parse would silently round.
 */
export function parseSubotizJson(text: string): unknown {
  let out = '';
  let i = 0;
  while (i < text.length) {
    const ch = text[i]!;
    if (ch === '"') {
      const end = endOfString(text, i);
      out += text.slice(i, end);
      i = end;
    } else if (ch === '-' || (ch >= '0' && ch <= '9')) {
      const token = /^-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?/.exec(text.slice(i, i + 400))?.[0] ?? ch;
      const exact = UNSAFE_INTEGER.test(token) && !Number.isSafeInteger(Number(token));
      out += exact ? `"${token}"` : token;
      i += token.length;
    } else {
      out += ch;
      i += 1;
    }
  }
  return JSON.parse(out);
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

/** The value as a JSON object, or INVALID_ARGUMENT naming `field`. */
export function asObject(value: unknown, field: string): WireObject {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw invalidArgument([{ field, rule: 'must be a JSON object' }]);
  }
  return value as WireObject;
}

/** A string field; numbers are read as their decimal text (ids may come as JSON numbers). "" and null = undefined. */
export function optionalString(obj: WireObject, key: string, prefix: string): string | undefined {
  const value = obj[key];
  if (value === undefined || value === null || value === '') return undefined;
  if (typeof value === 'string') return value;
  if (typeof value === 'number' && Number.isFinite(value)) return String(value);
  throw invalidArgument([{ field: `${prefix}.${key}`, rule: 'must be a string' }]);
}

/** A string field that must be present. */
export function requiredString(obj: WireObject, key: string, prefix: string): string {
  const value = optionalString(obj, key, prefix);
  if (value === undefined) throw invalidArgument([{ field: `${prefix}.${key}`, rule: 'is required' }]);
  return value;
}

/** An integer sent as a number or a numeric string (`"cycle_index":"1"`). "" and null = undefined. */
export function optionalInt(obj: WireObject, key: string, prefix: string): number | undefined {
  const value = optionalBigInt(obj, key, prefix);
  if (value === undefined) return undefined;
  if (value > BigInt(Number.MAX_SAFE_INTEGER) || value < BigInt(Number.MIN_SAFE_INTEGER)) {
    throw invalidArgument([{ field: `${prefix}.${key}`, rule: 'is out of range' }]);
  }
  return Number(value);
}

/** Like optionalInt, for counters that may exceed 2^53 (usage quantities). */
export function optionalBigInt(obj: WireObject, key: string, prefix: string): bigint | undefined {
  const value = obj[key];
  if (value === undefined || value === null || value === '') return undefined;
  if (typeof value === 'number' && Number.isSafeInteger(value)) return BigInt(value);
  if (typeof value === 'string' && /^\s*-?\d+\s*$/.test(value)) return BigInt(value.trim());
  throw invalidArgument([{ field: `${prefix}.${key}`, rule: `'${String(value)}' is not an integer` }]);
}

/** A flag sent as a boolean, "true"/"false" or 1/0. Absent = false. */
export function flag(obj: WireObject, key: string, prefix: string): boolean {
  const value = obj[key];
  if (value === undefined || value === null || value === '') return false;
  if (value === true || value === 'true' || value === 1 || value === '1') return true;
  if (value === false || value === 'false' || value === 0 || value === '0') return false;
  throw invalidArgument([{ field: `${prefix}.${key}`, rule: 'must be a boolean' }]);
}

const RFC3339 = /^\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}:\d{2}(?:\.\d+)?(?:[Zz]|[+-]\d{2}:\d{2})$/;

/** An RFC 3339 time. "" and null = unset. */
export function optionalTime(obj: WireObject, key: string, prefix: string): Date | undefined {
  const value = obj[key];
  if (value === undefined || value === null || value === '') return undefined;
  if (typeof value === 'string' && RFC3339.test(value)) {
    const time = new Date(value.replace(' ', 'T'));
    if (!Number.isNaN(time.getTime())) return time;
  }
  throw invalidArgument([{ field: `${prefix}.${key}`, rule: `'${String(value)}' is not an RFC 3339 time` }]);
}

/** Unix seconds sent as a number or numeric string. */
export function optionalUnixSeconds(obj: WireObject, key: string, prefix: string): Date | undefined {
  const seconds = optionalInt(obj, key, prefix);
  return seconds === undefined ? undefined : new Date(seconds * 1000);
}

/** `{code, message}` (last_payment_error, failure_reason), or undefined when null. */
export function optionalFailure(
  obj: WireObject,
  key: string,
  prefix: string,
): { code: string; message: string } | undefined {
  const value = obj[key];
  if (value === undefined || value === null || value === '') return undefined;
  const failure = asObject(value, `${prefix}.${key}`);
  return {
    code: optionalString(failure, 'code', `${prefix}.${key}`) ?? '',
    message: optionalString(failure, 'message', `${prefix}.${key}`) ?? '',
  };
}
