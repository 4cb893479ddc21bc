import type { Money } from '../../src/domain/money';
import { isoCurrencyDigits } from '../kit/currencies';

/**
 * Azotte's `amountMilpieces`: an integer = major units × 100 (README 11; the worked example 1499 EUR = 14.99 wins over
 * the "1/1000 minor-unit" wording). Both directions are exact bigint arithmetic; a result that is not whole is
 * undefined, and the caller says what that means (a price we cannot send, an amount we cannot read).
 */

function scale(currency: string): bigint | undefined {
  const digits = isoCurrencyDigits(currency.toUpperCase());
  return digits === undefined ? undefined : 10n ** BigInt(digits);
}

/** Minor units → milpieces (`minor × 100 / 10^digits`), or undefined when not whole or the currency is unknown. */
export function toMilpieces(amountMinor: bigint, currency: string): bigint | undefined {
  const unit = scale(currency);
  if (unit === undefined) return undefined;
  const scaled = amountMinor * 100n;
  return scaled % unit === 0n ? scaled / unit : undefined;
}

/** Milpieces → minor units (`m × 10^digits / 100`), or undefined when not whole or the currency is unknown. */
export function fromMilpieces(milpieces: bigint, currency: string): bigint | undefined {
  const unit = scale(currency);
  if (unit === undefined) return undefined;
  const scaled = milpieces * unit;
  return scaled % 100n === 0n ? scaled / 100n : undefined;
}

/** Milpieces as our Money, or undefined (see fromMilpieces). */
export function moneyOfMilpieces(milpieces: bigint, currency: string): Money | undefined {
  const amountMinor = fromMilpieces(milpieces, currency);
  return amountMinor === undefined ? undefined : { currency: currency.toUpperCase(), amountMinor };
}
