import { currencyExponent } from './currencies';
import { DomainError, invalidArgument } from './errors';

/** An amount in a currency's minor units. Never a float. */
export interface Money {
  currency: string;
  amountMinor: bigint;
}

const DECIMAL = /^(-?)(\d+)(?:\.(\d+))?$/;
const MAX_DECIMAL_CHARS = 64;

/** The largest amount a caller may give, in minor units either way (the contract's input limit). */
export const MAX_AMOUNT_MINOR = 10n ** 12n;

/**
 * Parses a decimal string in major units ("30.00") into minor units using the currency's exponent.
 * More decimal places than the currency allows is an error naming `field` (trailing zeros are fine).
 */
export function parseDecimal(value: string, currency: string, field: string): bigint {
  const exponent = requireExponent(currency, field);
  // Far past any amount (MAX_AMOUNT_MINOR has 13 digits), and BigInt of a provider's megabyte of digits takes 0.3 s.
  const match = value.length <= MAX_DECIMAL_CHARS ? DECIMAL.exec(value.trim()) : null;
  if (!match) throw invalidArgument([{ field, rule: `'${quoted(value)}' is not a decimal number` }]);
  const [, sign, whole, fraction = ''] = match;
  const significant = fraction.replace(/0+$/, '');
  if (significant.length > exponent) {
    throw invalidArgument([
      { field, rule: `${quoted(value)} has more decimal places than ${currency} allows (${exponent})` },
    ]);
  }
  const minor = BigInt(whole! + significant.padEnd(exponent, '0'));
  return sign === '-' ? -minor : minor;
}

/** Formats minor units as a decimal string in major units ("30.00", "1500" for JPY, "1.250" for KWD). */
export function formatDecimal(amountMinor: bigint, currency: string): string {
  const exponent = currencyExponent(currency) ?? 2;
  const negative = amountMinor < 0n;
  const digits = (negative ? -amountMinor : amountMinor).toString().padStart(exponent + 1, '0');
  const whole = digits.slice(0, digits.length - exponent);
  const fraction = exponent > 0 ? `.${digits.slice(digits.length - exponent)}` : '';
  return `${negative ? '-' : ''}${whole}${fraction}`;
}

/** A value in an error: a provider's amount is the provider's to choose, so at most 40 printable characters. */
function quoted(value: string): string {
  const printable = value.replace(/[^\x20-\x7e]/g, '?');
  return printable.length > 40 ? `${printable.slice(0, 40)}…` : printable;
}

function requireExponent(currency: string, field: string): number {
  const exponent = currencyExponent(currency);
  if (exponent === undefined) {
    throw new DomainError('INVALID_ARGUMENT', `${field}: currency '${quoted(currency)}' is not an ISO 4217 code`, [
      { field, rule: 'currency must be an ISO 4217 code' },
    ]);
  }
  return exponent;
}

/** Money as a caller may give it: minor units, or a decimal string in major units. */
export interface MoneyInput {
  currency: string;
  amountMinor: bigint;
  amountDecimal: string;
}

/**
 * Resolves a caller's money to minor units. `amountDecimal` wins when given; if both are given they must agree.
 * Names `${field}.currency_code` / `${field}.amount_decimal` in errors.
 */
export function resolveMoney(input: MoneyInput | undefined, field: string): Money {
  if (!input) throw invalidArgument([{ field, rule: 'is required' }]);
  const currencyField = `${field}.currency_code`;
  if (!input.currency) throw invalidArgument([{ field: currencyField, rule: 'is required' }]);
  requireExponent(input.currency, currencyField);
  if (!input.amountDecimal) return { currency: input.currency, amountMinor: input.amountMinor };
  const fromDecimal = parseDecimal(input.amountDecimal, input.currency, `${field}.amount_decimal`);
  // The edge bounds amount_minor; a decimal must not reach past the same bound (int64, PostgreSQL's bigint).
  if (fromDecimal > MAX_AMOUNT_MINOR || fromDecimal < -MAX_AMOUNT_MINOR) {
    throw invalidArgument([
      {
        field: `${field}.amount_decimal`,
        rule: `must be at most ${MAX_AMOUNT_MINOR} minor units of ${input.currency}`,
      },
    ]);
  }
  if (input.amountMinor !== 0n && input.amountMinor !== fromDecimal) {
    throw invalidArgument([{ field: `${field}.amount_minor`, rule: 'disagrees with amount_decimal' }]);
  }
  return { currency: input.currency, amountMinor: fromDecimal };
}
