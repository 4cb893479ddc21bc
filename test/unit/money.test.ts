import { DomainError } from '../../src/domain/errors';
import { formatDecimal, parseDecimal, resolveMoney } from '../../src/domain/money';

describe('money in minor units', () => {
  it.each([
    ['30.00', 'EUR', 3000n],
    ['30', 'EUR', 3000n],
    ['0.5', 'USD', 50n],
    ['1500', 'JPY', 1500n],
    ['1500.000', 'JPY', 1500n],
    ['1.250', 'KWD', 1250n],
    ['-2.05', 'EUR', -205n],
    ['92233720368547758.07', 'USD', 9223372036854775807n],
  ])('parses %s %s to %s minor units', (value, currency, minor) => {
    expect(parseDecimal(value, currency, 'amount')).toBe(minor);
  });

  it.each([
    ['9.999', 'EUR'],
    ['1.5', 'JPY'],
    ['0.0001', 'KWD'],
  ])('refuses %s %s as more precise than the currency allows', (value, currency) => {
    expect(() => parseDecimal(value, currency, 'price.amount_decimal')).toThrow(/more decimal places than/);
  });

  it.each(['', 'abc', '1,50', '1.2.3', '١٢'])('refuses %p as not a decimal number', (value) => {
    expect(() => parseDecimal(value, 'EUR', 'amount')).toThrow(DomainError);
  });

  it('quotes at most 40 printable characters of a refused value, and refuses a megabyte of digits unread', () => {
    const refusal = (value: string, currency = 'EUR') => {
      try {
        parseDecimal(value, currency, 'payment.amount');
      } catch (error) {
        return (error as DomainError).message;
      }
      throw new Error('expected a refusal');
    };
    expect(refusal(`\u0000${'x'.repeat(100_000)}`)).toContain(`'?${'x'.repeat(39)}…' is not a decimal number`);
    expect(refusal('9'.repeat(1_000_000)).length).toBeLessThan(200);
    expect(refusal('1.00', `EUR${'\n'.repeat(1_000)}`).length).toBeLessThan(200);
  });

  it('refuses an unknown currency, naming the field', () => {
    expect(() => parseDecimal('1.00', 'EURO', 'price.currency_code')).toThrow('price.currency_code');
  });

  it.each([
    [3000n, 'EUR', '30.00'],
    [5n, 'USD', '0.05'],
    [1500n, 'JPY', '1500'],
    [1250n, 'KWD', '1.250'],
    [-205n, 'EUR', '-2.05'],
    [0n, 'EUR', '0.00'],
  ])('formats %s %s as %s', (minor, currency, text) => {
    expect(formatDecimal(minor, currency)).toBe(text);
  });

  it('resolves a caller amount given as decimal, minor units, or both when they agree', () => {
    expect(resolveMoney({ currency: 'EUR', amountMinor: 0n, amountDecimal: '19.99' }, 'price')).toEqual({
      currency: 'EUR',
      amountMinor: 1999n,
    });
    expect(resolveMoney({ currency: 'EUR', amountMinor: 1999n, amountDecimal: '' }, 'price')).toEqual({
      currency: 'EUR',
      amountMinor: 1999n,
    });
    expect(resolveMoney({ currency: 'EUR', amountMinor: 1999n, amountDecimal: '19.99' }, 'price').amountMinor).toBe(
      1999n,
    );
    expect(() => resolveMoney({ currency: 'EUR', amountMinor: 1000n, amountDecimal: '19.99' }, 'price')).toThrow(
      'price.amount_minor',
    );
    expect(() => resolveMoney(undefined, 'price')).toThrow('price: is required');
  });

  it('refuses a decimal amount beyond 10^12 minor units, which minor units alone could not reach either', () => {
    expect(
      resolveMoney({ currency: 'EUR', amountMinor: 0n, amountDecimal: '10000000000.00' }, 'price').amountMinor,
    ).toBe(10n ** 12n);
    expect(() => resolveMoney({ currency: 'EUR', amountMinor: 0n, amountDecimal: '10000000000.01' }, 'price')).toThrow(
      'price.amount_decimal: must be at most 1000000000000 minor units of EUR',
    );
    expect(() =>
      resolveMoney({ currency: 'JPY', amountMinor: 0n, amountDecimal: '-99999999999999999999' }, 'amount'),
    ).toThrow('amount.amount_decimal');
  });
});
