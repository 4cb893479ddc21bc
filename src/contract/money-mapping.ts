import type { Money } from '../domain/money';
import { formatDecimal, MoneyInput } from '../domain/money';
import type { Money as MoneyMessage } from '../gen/billing/v1/common';

export function toMoneyMessage(money: Money): MoneyMessage {
  return {
    currencyCode: money.currency,
    amountMinor: money.amountMinor,
    amountDecimal: formatDecimal(money.amountMinor, money.currency),
  };
}

export function fromMoneyMessage(message: MoneyMessage | undefined): MoneyInput | undefined {
  if (!message) return undefined;
  return { currency: message.currencyCode, amountMinor: message.amountMinor, amountDecimal: message.amountDecimal };
}
