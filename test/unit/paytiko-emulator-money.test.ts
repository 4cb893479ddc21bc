import {
  currencyDigits,
  isKnownCurrency,
  lineTotal,
  parseAmount,
  parseUnitPrice,
  prorate,
} from '../../adapters/paytiko/emulator/money';
import { formatMinorUnits as formatAmount } from '../../adapters/kit/currencies';
import { currencyExponent } from '../../src/domain/currencies';

describe('Paytiko emulator money (decimal text, never floats)', () => {
  it('reads and writes amounts in the currency digits', () => {
    expect(parseAmount('9.99', 'EUR', 'f')).toBe(999n);
    expect(parseAmount('10', 'EUR', 'f')).toBe(1000n);
    expect(formatAmount(1000n, 'EUR')).toBe('10.00');
    expect(formatAmount(-321n, 'EUR')).toBe('-3.21');
    expect(formatAmount(1000n, 'JPY')).toBe('1000');
    expect(() => parseAmount('1.5', 'JPY', 'pricingInfo.totalAmount')).toThrow(/pricingInfo.totalAmount/);
    expect(() => parseAmount(9.99, 'EUR', 'f')).toThrow(/decimal string/);
  });

  it('uses the ISO 4217 digits the service uses, where the Node build’s ICU data differs (HUF 2, IQD 3)', () => {
    for (const code of ['HUF', 'IDR', 'COP', 'PKR', 'IRR', 'IQD', 'EUR', 'JPY', 'BHD', 'CLF']) {
      expect({ code, digits: currencyDigits(code) }).toEqual({ code, digits: currencyExponent(code) });
    }
    expect(parseAmount('1000.00', 'HUF', 'pricingInfo.totalAmount')).toBe(100000n);
    expect(formatAmount(100000n, 'HUF')).toBe('1000.00');
    expect(lineTotal(parseUnitPrice(1000, 'p'), 3, 'HUF')).toBe(300000n);
    expect(parseAmount('1.500', 'IQD', 'pricingInfo.totalAmount')).toBe(1500n);
    expect(formatAmount(1500n, 'IQD')).toBe('1.500');
    expect(() => parseAmount('1.5000', 'IQD', 'pricingInfo.totalAmount')).toThrow(/at most 3 decimals for IQD/);
    expect(isKnownCurrency('HUF')).toBe(true);
    expect(isKnownCurrency('EUX')).toBe(false);
    expect(isKnownCurrency('eur')).toBe(false);
  });

  it('multiplies pricePerUnit by quantity exactly through its decimal text', () => {
    expect(lineTotal(parseUnitPrice(9.99, 'p'), 2, 'EUR')).toBe(1998n);
    expect(lineTotal(parseUnitPrice(0.1, 'p'), 3, 'EUR')).toBe(30n);
    expect(lineTotal(parseUnitPrice(0.333, 'p'), 3, 'EUR')).toBeUndefined();
    expect(lineTotal(parseUnitPrice(0.335, 'p'), 20, 'EUR')).toBe(670n);
  });

  it('rounds proration half away from zero', () => {
    expect(prorate(1000n, 1n, 2n)).toBe(500n);
    expect(prorate(5n, 1n, 2n)).toBe(3n);
    expect(prorate(-5n, 1n, 2n)).toBe(-3n);
    expect(prorate(999n, 1n, 3n)).toBe(333n);
  });
});
