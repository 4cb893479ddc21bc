import { currencyExponent } from '../../src/domain/currencies';
import { invalidArgument } from '../../src/domain/errors';
import { formatDecimal, Money, parseDecimal } from '../../src/domain/money';

/**
 * Paytiko's money: decimal text in major units with exactly the currency's digits (EUR "9.99", JPY "1000"), except
 * `pricePerUnit`, a JSON number. No float arithmetic happens on either side: numbers are written from, and read
 * back through, their decimal text.
 */

/** Minor units as Paytiko's decimal text ("19.98"). */
export function toAmountText(amountMinor: bigint, currency: string): string {
  return formatDecimal(amountMinor, currency);
}

/**
 * The one reader of Paytiko amounts: decimal text (a JSON number is read through its own text) in `currency`, into
 * minor units. More decimal places than the currency has is refused, naming `field`.
 */
export function fromAmountText(value: unknown, currency: string, field: string): Money {
  const code = currency.toUpperCase();
  if (currencyExponent(code) === undefined) {
    throw invalidArgument([{ field, rule: `currency '${code.slice(0, 8)}' is not an ISO 4217 code` }]);
  }
  const text = typeof value === 'number' && Number.isFinite(value) ? numberText(value) : value;
  if (typeof text !== 'string' || text.trim() === '') throw invalidArgument([{ field, rule: 'is required' }]);
  return { currency: code, amountMinor: parseDecimal(text, code, field) };
}

/** Significant digits a double carries exactly through its shortest decimal text. */
const MAX_EXACT_DIGITS = 15;

/**
 * `pricePerUnit` as the JSON number whose text is exactly the decimal text of `amountMinor`, or undefined when the
 * value has more significant digits than a double keeps (we then refuse rather than send a rounded price).
 */
export function toPriceNumber(amountMinor: bigint, currency: string): number | undefined {
  const text = toAmountText(amountMinor, currency);
  const digits = text.replace(/^-/, '').replace('.', '').replace(/^0+/, '');
  if (digits.length > MAX_EXACT_DIGITS) return undefined;
  const value = Number(text);
  return parseDecimal(numberText(value), currency, 'pricePerUnit') === amountMinor ? value : undefined;
}

/** A double's decimal text without exponent notation (JSON may carry 1e-7; its text must stay a decimal). */
function numberText(value: number): string {
  const text = String(value);
  if (!/e/i.test(text)) return text;
  return value.toFixed(20).replace(/\.?0+$/, '');
}
