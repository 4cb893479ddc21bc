import { Money } from './money';

export type IntervalUnit = 'DAY' | 'WEEK' | 'MONTH' | 'YEAR';
export type PlanStatus = 'ACTIVE' | 'ARCHIVED';

/** What a storefront sells, with its references at each provider. */
export interface Plan {
  id: string;
  storefrontId: string;
  name: string;
  price: Money;
  interval: { unit: IntervalUnit; count: number };
  trialDays: number;
  featureKeys: string[];
  providerRefs: Record<string, string>;
  status: PlanStatus;
  createdAt: Date;
  archivedAt?: Date;
}

/** Longest interval we accept per unit: a provider bills at least once a year or so. */
export const MAX_INTERVAL_COUNT: Record<IntervalUnit, number> = { DAY: 365, WEEK: 52, MONTH: 12, YEAR: 3 };
