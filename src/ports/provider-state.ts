import type { Invoice } from '../domain/invoice';
import type { Money } from '../domain/money';
import type { Payment, Refund } from '../domain/payment';
import type { ObservedSubscription } from '../domain/subscription-lifecycle';

/**
 * A provider's objects as the core sees them: already in our vocabulary (statuses, Money in minor units). Only
 * `adapters/<provider>/mapping.ts` knows how the provider spells them. `orderId` is our id (subscription or
 * payment) that we gave the provider at checkout, when the provider echoes it back.
 */

/** A hosted checkout the provider opened. */
export interface ProviderCheckout {
  sessionRef: string;
  url: string;
  /** Our order id as the provider recorded it (a replayed request returns the first call's order). */
  orderId: string;
  expireTime?: Date;
}

/** A hosted checkout as the provider sees it now (for checkouts whose outcome webhook never came). */
export interface ProviderCheckoutState {
  ref: string;
  status: 'OPEN' | 'COMPLETE' | 'EXPIRED';
  orderId?: string;
  /** Set once complete: what the checkout created. */
  subscriptionRef?: string;
  paymentRef?: string;
}

/** `observedAt`: when this state was true at the provider (its updated_at, else the event time). */
export interface ProviderSubscriptionState extends ObservedSubscription {
  ref: string;
  orderId?: string;
  customerRef?: string;
  planRef?: string;
  cycleIndex?: number;
}

export interface ProviderPaymentState extends Pick<Payment, 'kind' | 'amount' | 'status' | 'refundState' | 'failure'> {
  ref: string;
  orderId?: string;
  customerRef?: string;
  /** The provider's subscription this payment belongs to, when it says so. */
  subscriptionRef?: string;
  invoiceRef?: string;
  refundedAmount: Money;
  paidAt?: Date;
}

export interface ProviderInvoiceState extends Pick<
  Invoice,
  'amount' | 'type' | 'status' | 'cycleIndex' | 'periodStart' | 'periodEnd'
> {
  ref: string;
  subscriptionRef?: string;
  orderId?: string;
  customerRef?: string;
  paymentRef?: string;
}

export interface ProviderRefundState extends Pick<Refund, 'amount' | 'status' | 'reason' | 'failure'> {
  ref: string;
  paymentRef: string;
}

export interface ProviderUsageRecord {
  ref: string;
  quantity: bigint;
  timestamp: Date;
}

export interface ProviderUsage {
  totalQuantity: bigint;
  records: ProviderUsageRecord[];
}
