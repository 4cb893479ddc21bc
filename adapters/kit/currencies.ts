import { currencyExponent } from '../../src/domain/currencies';

/**
 * ISO 4217 codes and their minor-unit digits, for emulators (they may import the kit, never src/): the service's own
 * table, not the Node build's ICU data (which gives HUF, IDR, COP 0 digits where ISO says 2, and IQD 0 where it says
 * 3), so an emulator refuses or writes an amount exactly as the service reads it. Undefined for an unknown code.
 */
export function isoCurrencyDigits(code: string): number | undefined {
  return currencyExponent(code);
}

/** Minor units as a decimal string with the currency's ISO digits ("9.99", "-3.21", "1000"): the service's formatter. */
export { formatDecimal as formatMinorUnits } from '../../src/domain/money';
