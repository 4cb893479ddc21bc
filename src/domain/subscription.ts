/** Lifecycle states of a subscription (see subscription-lifecycle.ts for the allowed moves). */
export const SUBSCRIPTION_STATUSES = [
  'INCOMPLETE',
  'INCOMPLETE_EXPIRED',
  'TRIALING',
  'ACTIVE',
  'PAST_DUE',
  'UNPAID',
  'PAUSED',
  'CANCELED',
  'COMPLETED',
] as const;

export type SubscriptionStatus = (typeof SUBSCRIPTION_STATUSES)[number];

/** A customer's subscription to a plan, pinned to the provider it was created with. */
export interface Subscription {
  id: string;
  storefrontId: string;
  customerId: string;
  planId: string;
  quantity: number;
  /** Pinned at creation; every later call and webhook routes by it. */
  provider: string;
  providerRef?: string;
  status: SubscriptionStatus;
  currentPeriodStart?: Date;
  currentPeriodEnd?: Date;
  trialEnd?: Date;
  cancelAtPeriodEnd: boolean;
  canceledAt?: Date;
  endedAt?: Date;
  /** When the provider state we last applied was true at the provider; older observations are stale. */
  providerObservedAt?: Date;
  /**
   * That state came from a webhook (in the provider's own order of reports), not from a fetch or the answer to our
   * own call: the next report of its key's sequence then follows it, even when both fall in one instant.
   */
  providerObservedInReport?: boolean;
  checkoutSessionRef?: string;
  checkoutUrl?: string;
  checkoutExpiresAt?: Date;
  /** The provider's saved payment method that merchant-initiated renewals charge (learned after the first payment). */
  paymentMethodRef?: string;
  version: number;
  createdAt: Date;
  updatedAt: Date;
}

/** States in which the customer may use what the plan grants. */
export function grantsAccess(status: SubscriptionStatus): boolean {
  return status === 'TRIALING' || status === 'ACTIVE' || status === 'PAST_DUE';
}

/** States nothing leaves. */
export function isTerminal(status: SubscriptionStatus): boolean {
  return status === 'CANCELED' || status === 'COMPLETED' || status === 'INCOMPLETE_EXPIRED';
}
