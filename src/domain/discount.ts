import type { Money } from './money';

/** A discount a provider applied to a subscription (a campaign, a promotion code): `billing.discount.applied`. */
export interface Discount {
  code: string;
  description: string;
  /** A fixed amount off, or a share in basis points (10000 = 100 %); never a float. */
  amountOff?: Money;
  percentOffBasisPoints?: number;
  /** How many billing cycles it lasts, when the provider says. */
  cycles?: number;
  subscriptionId: string;
  customerId: string;
}
