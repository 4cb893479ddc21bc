import {
  arr,
  asObject,
  bool,
  int,
  isoDate,
  obj,
  optBigInt,
  optBool,
  optEpochMs,
  optEpochSeconds,
  optInt,
  optIsoDate,
  optObj,
  optStr,
  parseJson,
  str,
} from '../../adapters/kit/json';
import { DomainError } from '../../src/domain/errors';

/** The INVALID_ARGUMENT a call throws, or fails the test. */
function refusal(read: () => unknown): DomainError {
  try {
    read();
  } catch (error) {
    expect(error).toBeInstanceOf(DomainError);
    expect((error as DomainError).code).toBe('INVALID_ARGUMENT');
    return error as DomainError;
  }
  throw new Error('expected a refusal');
}

describe('kit parseJson', () => {
  it('keeps integers beyond 2^53 exact as strings, and leaves strings and small numbers alone', () => {
    expect(
      parseJson('{"id":572677246926464036,"s":"1234567890123456789","n":42,"f":1.5,"l":[-9007199254740993]}'),
    ).toEqual({ id: '572677246926464036', s: '1234567890123456789', n: 42, f: 1.5, l: ['-9007199254740993'] });
  });

  it.each([
    ['not JSON', '{"a":'],
    ['empty', ''],
    ['a bare word', 'success'],
    ['a runaway number', `[${'9'.repeat(1000)}]`],
  ])('refuses %s with INVALID_ARGUMENT naming the field, never another error', (_, text) => {
    const error = refusal(() => parseJson(text, { field: 'response' }));
    expect(error.violations[0]?.field).toBe('response');
  });

  it('parses deep nesting without overflowing the stack', () => {
    expect(Array.isArray(parseJson('['.repeat(200_000) + ']'.repeat(200_000)))).toBe(true);
  });

  it('refuses a body over its size bound unread', () => {
    const error = refusal(() => parseJson(`{"a":"${'x'.repeat(200)}"}`, { maxChars: 100 }));
    expect(error.violations[0]).toEqual({ field: 'body', rule: 'must be at most 100 characters' });
  });
});

describe('kit JSON readers', () => {
  const o = {
    id: 572677246926464000,
    name: 'x',
    empty: '',
    none: null,
    n: '12',
    big: '123456789012345678901',
    yes: 'true',
    zero: 0,
    at: '2025-10-28T06:54:56Z',
    secs: 1761634496,
    ms: '1761634496500',
    nested: { a: 1 },
    list: [1, 2],
    hostile: '\u0000'.repeat(500),
  };

  it('reads strings; numbers as their text; "" and null as unset', () => {
    expect(str(o, 'name', 'sub')).toBe('x');
    expect(optStr(o, 'id', 'sub')).toBe('572677246926464000');
    expect(optStr(o, 'empty', 'sub')).toBeUndefined();
    expect(optStr(o, 'none', 'sub')).toBeUndefined();
    expect(refusal(() => str(o, 'missing', 'sub')).violations[0]).toEqual({
      field: 'sub.missing',
      rule: 'is required',
    });
    expect(refusal(() => optStr(o, 'nested', 'sub')).violations[0]?.field).toBe('sub.nested');
  });

  it('reads integers from numbers and numeric strings, and bounds them', () => {
    expect(int(o, 'n', 'x')).toBe(12);
    expect(optInt(o, 'none', 'x')).toBeUndefined();
    expect(optBigInt(o, 'big', 'x')).toBe(123456789012345678901n);
    expect(refusal(() => optInt(o, 'big', 'x')).violations[0]).toEqual({ field: 'x.big', rule: 'is out of range' });
    expect(refusal(() => int(o, 'name', 'x')).message).toBe("x.name: 'x' is not an integer");
  });

  it('quotes a hostile value short and printable', () => {
    const rule = refusal(() => optInt(o, 'hostile', '')).violations[0]!;
    expect(rule.field).toBe('hostile');
    expect(rule.rule.length).toBeLessThan(100);
    expect(rule.rule).not.toContain('\u0000');
  });

  it('reads flags from booleans, "true"/"false" and 1/0', () => {
    expect(bool(o, 'yes', 'x')).toBe(true);
    expect(bool(o, 'zero', 'x')).toBe(false);
    expect(bool(o, 'missing', 'x')).toBe(false);
    expect(optBool(o, 'missing', 'x')).toBeUndefined();
    expect(refusal(() => bool(o, 'name', 'x')).violations[0]).toEqual({ field: 'x.name', rule: 'must be a boolean' });
  });

  it('reads nested objects and lists', () => {
    expect(obj(o, 'nested', 'x')).toEqual({ a: 1 });
    expect(optObj(o, 'none', 'x')).toBeUndefined();
    expect(arr(o, 'list', 'x')).toEqual([1, 2]);
    expect(arr(o, 'missing', 'x')).toEqual([]);
    expect(refusal(() => obj(o, 'list', 'x')).violations[0]).toEqual({
      field: 'x.list',
      rule: 'must be a JSON object',
    });
    expect(refusal(() => arr(o, 'nested', 'x')).violations[0]).toEqual({
      field: 'x.nested',
      rule: 'must be a JSON array',
    });
    expect(refusal(() => asObject('[]', 'body')).violations[0]?.field).toBe('body');
  });

  it('reads RFC 3339 times and Unix seconds or milliseconds, within years 1970–9999', () => {
    expect(isoDate(o, 'at', 'x')).toEqual(new Date('2025-10-28T06:54:56Z'));
    expect(optIsoDate({ t: '2025-10-28T08:54:56+02:00' }, 't', 'x')).toEqual(new Date('2025-10-28T06:54:56Z'));
    expect(refusal(() => isoDate({ t: '28/10/2025' }, 't', 'x')).violations[0]?.field).toBe('x.t');
    expect(optEpochSeconds(o, 'secs', 'x')).toEqual(new Date(1761634496_000));
    expect(optEpochMs(o, 'ms', 'x')).toEqual(new Date(1761634496_500));
    expect(refusal(() => optEpochSeconds({ t: '99999999999999' }, 't', 'x')).violations[0]?.field).toBe('x.t');
    expect(refusal(() => optEpochMs({ t: -1 }, 't', 'x')).violations[0]?.field).toBe('x.t');
  });
});
