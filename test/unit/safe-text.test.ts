import { status } from '@grpc/grpc-js';
import { DomainError, invalidArgument, notFound } from '../../src/domain/errors';
import { toStatusError } from '../../src/grpc/error-status';
import { safeText, TEXT_LIMITS } from '../../src/grpc/safe-text';

const PRINTABLE_ASCII = /^[\x20-\x7e]*$/;

describe('text leaving the process in a status is printable ASCII and short', () => {
  it('escapes non-ASCII and control characters as \\uXXXX', () => {
    expect(safeText('café', 100)).toBe('caf\\u00e9');
    expect(safeText('a\nb\u0000c', 100)).toBe('a\\u000ab\\u0000c');
    expect(safeText('🎉', 100)).toBe('\\ud83c\\udf89');
  });

  it('cuts a quoted caller value to 64 characters and the whole text to its bound', () => {
    const text = safeText(`customer '${'x'.repeat(1_048_576)}' not found`, TEXT_LIMITS.details);
    expect(text).toBe(`customer '${'x'.repeat(61)}...' not found`);
    expect(safeText('y'.repeat(5000), 200)).toHaveLength(200);
    expect(safeText('é'.repeat(5000), 200)).toMatch(PRINTABLE_ASCII);
    expect(safeText('é'.repeat(5000), 200).length).toBeLessThanOrEqual(200);
  });

  it('accepts anything without throwing', () => {
    expect(safeText(undefined, 10)).toBe('');
    expect(safeText(42, 10)).toBe('42');
    expect(safeText(Object.create(null), 10)).toBe('');
  });

  it('turns a domain error quoting hostile input into ASCII trailers and bounded details', () => {
    const hostile = `é\u0000${'z'.repeat(1_048_576)}`;
    const statusError = toStatusError(
      invalidArgument([{ field: `types[0]`, rule: `'${hostile}' is not an event type` }]),
      'corr-1',
    );
    expect(statusError.code).toBe(status.INVALID_ARGUMENT);
    expect(statusError.details.length).toBeLessThanOrEqual(TEXT_LIMITS.details);
    const rule = String(statusError.metadata.get('error-rule')[0]);
    expect(rule).toMatch(PRINTABLE_ASCII);
    expect(rule.length).toBeLessThanOrEqual(TEXT_LIMITS.rule);
    expect(rule).toContain('\\u00e9\\u0000zzz');
    for (const [, value] of Object.entries(statusError.metadata.getMap()))
      expect(String(value)).toMatch(PRINTABLE_ASCII);
  });

  it('keeps a provider message with non-ASCII text readable and safe', () => {
    const statusError = toStatusError(
      new DomainError('UNAVAILABLE', 'Subotiz: Zahlungsanbieter nicht erreichbar – später'),
      'c',
    );
    expect(statusError.code).toBe(status.UNAVAILABLE);
    expect(statusError.details).toBe('Subotiz: Zahlungsanbieter nicht erreichbar \\u2013 sp\\u00e4ter');
  });

  it('names a missing object without echoing more than 64 characters of its id', () => {
    const statusError = toStatusError(notFound('customer', 'cus_' + 'a'.repeat(500), 'customer_id'), 'c');
    expect(statusError.details).toMatch(/^customer_id: customer 'cus_a{57}\.\.\.' not found$/);
    expect(statusError.metadata.get('error-field')).toEqual(['customer_id']);
  });

  it('leaks nothing of an unexpected error', () => {
    const statusError = toStatusError(new Error('password=hunter2'), 'corr-9');
    expect(statusError.code).toBe(status.INTERNAL);
    expect(statusError.details).toBe('internal error (correlation id corr-9)');
  });
});
