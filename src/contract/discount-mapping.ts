import type { Discount } from '../domain/discount';
import type * as pb from '../gen/billing/v1/subscription';
import { toMoneyMessage } from './money-mapping';

export function toDiscountMessage(d: Discount): pb.Discount {
  return {
    code: d.code,
    description: d.description,
    amountOff: d.amountOff ? toMoneyMessage(d.amountOff) : undefined,
    percentOffBasisPoints: d.percentOffBasisPoints ?? 0,
    cycles: d.cycles ?? 0,
    subscriptionId: d.subscriptionId,
    customerId: d.customerId,
  };
}
