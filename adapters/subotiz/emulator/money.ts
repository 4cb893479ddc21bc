import { invalidParameter } from './errors';

// Subotiz writes amounts in the currency's major unit with the currency's exponent of decimals. A small table is
// enough for an emulator: the zero- and three-decimal currencies we may meet, two decimals for everything else.
const EXPONENTS: Readonly<Record<string, number>> = { JPY: 0, KRW: 0, KWD: 3, BHD: 3, JOD: 3, OMR: 3, TND: 3 };

const DECIMAL = /^(\d+)(?:\.(\d+))?$/;

/** Number of decimals the currency's amounts carry on the wire. */
export function currencyExponent(currency: string): number {
  return EXPONENTS[currency] ?? 2;
}

/** Whether `value` looks like an ISO 4217 code (three upper-case letters). */
export function isCurrencyCode(value: string): boolean {
  return /^[A-Z]{3}$/.test(value);
}

/**
 * Parses a major-unit decimal string into minor units. Fewer decimals than the currency has are read as zeros ("10"
 * USD is 10.00), as the adapter reads ours, so a currency our small table and the service's full ISO table disagree
 * on still works for whole amounts; more precision than the currency has is refused. Errors name `field`.
 */
export function parseAmount(value: unknown, currency: string, field: string): bigint {
  if (typeof value !== 'string') throw invalidParameter(field, 'must be a decimal string such as "30.00"');
  const match = DECIMAL.exec(value);
  if (!match) throw invalidParameter(field, `'${value}' is not a non-negative decimal amount`);
  const exponent = currencyExponent(currency);
  const [, whole = '0', fraction = ''] = match;
  if (fraction.length > exponent) {
    throw invalidParameter(field, `'${value}' has more decimals than ${currency} allows (${exponent})`);
  }
  return BigInt(whole + fraction.padEnd(exponent, '0'));
}

/** Formats minor units as the wire string: "30.00" USD, "1500" JPY, "1.234" KWD. */
export function formatAmount(minor: bigint, currency: string): string {
  const exponent = currencyExponent(currency);
  const digits = minor.toString().padStart(exponent + 1, '0');
  if (exponent === 0) return digits;
  return `${digits.slice(0, -exponent)}.${digits.slice(-exponent)}`;
}
