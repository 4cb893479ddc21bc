import { isoCurrencyDigits } from '../../kit/currencies';
import { invalidField } from './problems';

// Money is bigint minor units inside the emulator; decimal text on the wire. `pricePerUnit` arrives as a JSON number
// and is read through its shortest decimal text (what the sender wrote), never used in float arithmetic.

const MAX_PRICE_DECIMALS = 8;

/** Whether `code` is a known ISO 4217 currency (upper case). */
export function isKnownCurrency(code: string): boolean {
  return isoCurrencyDigits(code) !== undefined;
}

/**
 * The currency's minor-unit digits (EUR 2, JPY 0, BHD 3, HUF 2, IQD 3), from ISO 4217 as the service reads it.
 * Callers check the code first; an unknown one is never stored, so 2 is only a guard.
 */
export function currencyDigits(currency: string): number {
  return isoCurrencyDigits(currency) ?? 2;
}

/** A decimal string ("9.99", "1000") with at most the currency's digits, as minor units; 400 on `field` otherwise. */
export function parseAmount(value: unknown, currency: string, field: string): bigint {
  if (typeof value !== 'string') throw invalidField(field, 'must be a decimal string such as "9.99"');
  const digits = currencyDigits(currency);
  const match = /^(-?)(\d{1,15})(?:\.(\d+))?$/.exec(value);
  if (!match) throw invalidField(field, 'must be a decimal string such as "9.99"');
  const fraction = match[3] ?? '';
  if (fraction.length > digits) throw invalidField(field, `must have at most ${digits} decimals for ${currency}`);
  const minor = BigInt(`${match[2]}${fraction.padEnd(digits, '0')}`);
  return match[1] === '-' ? -minor : minor;
}

/** A unit price read from its JSON number through its decimal text: `units / 10^scale`. */
export interface UnitPrice {
  text: string;
  units: bigint;
  scale: number;
}

/** Reads `pricePerUnit` (a JSON number > 0 with at most 8 decimals). */
export function parseUnitPrice(value: unknown, field: string): UnitPrice {
  if (typeof value !== 'number' || !Number.isFinite(value)) throw invalidField(field, 'must be a number');
  const text = String(value);
  const match = /^(\d{1,15})(?:\.(\d{1,8}))?$/.exec(text);
  if (!match) throw invalidField(field, `must be a plain decimal number with at most ${MAX_PRICE_DECIMALS} decimals`);
  const fraction = match[2] ?? '';
  const units = BigInt(`${match[1]}${fraction}`);
  if (units <= 0n) throw invalidField(field, 'must be greater than 0');
  return { text, units, scale: fraction.length };
}

/** pricePerUnit × quantity in the currency's minor units, or undefined when it is not a whole minor amount. */
export function lineTotal(price: UnitPrice, quantity: number, currency: string): bigint | undefined {
  const digits = currencyDigits(currency);
  const scaled = price.units * BigInt(quantity);
  if (price.scale <= digits) return scaled * 10n ** BigInt(digits - price.scale);
  const divisor = 10n ** BigInt(price.scale - digits);
  return scaled % divisor === 0n ? scaled / divisor : undefined;
}

/** `amount × numerator / denominator` rounded half away from zero (the wire contract's half-up). */
export function prorate(amount: bigint, numerator: bigint, denominator: bigint): bigint {
  const negative = amount < 0n;
  const product = (negative ? -amount : amount) * numerator;
  const rounded = (product * 2n + denominator) / (denominator * 2n);
  return negative ? -rounded : rounded;
}
