import type { Invoice } from '../domain/invoice';
import type { Money } from '../domain/money';
import type { Payment, Refund } from '../domain/payment';
import type { ObservedSubscription } from '../domain/subscription-lifecycle';

/**
 * A provider's objects as the core sees them: already in our vocabulary (statuses, Money in minor units). Only
 * `adapters/<provider>/mapping.ts` knows how the provider spells them. `orderId` is our id (subscription or
 * payment) that we gave the provider at checkout, when the provider echoes it back.
 */

/** A checkout's status: hosted ones are OPEN until paid; server-to-server ones PROCESSING, maybe ACTION_REQUIRED. */
export type CheckoutStatus = 'OPEN' | 'PROCESSING' | 'ACTION_REQUIRED' | 'COMPLETE' | 'EXPIRED' | 'FAILED';

/** What the customer must do next: go to a page (hosted, 3-D Secure), or have the caller's page show HTML. */
export type NextAction = { redirectUrl: string } | { html: string };

/** A checkout the provider opened (or accepted for processing). */
export interface ProviderCheckout {
  sessionRef: string;
  status: CheckoutStatus;
  nextAction?: NextAction;
  /** Our order id as the provider recorded it (a replayed request returns the first call's order). */
  orderId: string;
  expireTime?: Date;
  /** When to ask again about a checkout still processing (the provider's Retry-After). */
  checkAt?: Date;
  /**
   * The provider's subscription, for providers that create it before the customer pays (it exists, INCOMPLETE at
   * their side, from the checkout on): remembered as the subscription's provider reference at once.
   */
  subscriptionRef?: string;
}

/** A checkout as the provider sees it now (polled, or asked about once our record of it has expired). */
export interface ProviderCheckoutState {
  ref: string;
  status: CheckoutStatus;
  nextAction?: NextAction;
  checkAt?: Date;
  orderId?: string;
  /** Set once complete: what the checkout created. */
  subscriptionRef?: string;
  paymentRef?: string;
  /** Why it failed, in the provider's words (scrubbed). */
  failure?: { code: string; message: string };
}

/** `observedAt`: when this state was true at the provider (its updated_at, else the event time). */
export interface ProviderSubscriptionState extends ObservedSubscription {
  ref: string;
  /** The reference this subscription had before the provider replaced it (an upgrade/downgrade that re-issues it). */
  previousRef?: string;
  orderId?: string;
  customerRef?: string;
  /**
   * The plan as the provider names it: its own price reference where it prices by reference; where prices travel
   * inline (features `pricing: inline`), our plan id, as the adapter echoes `PlanTerms.id` (only a plan of the same
   * storefront is ever taken from it).
   */
  planRef?: string;
  cycleIndex?: number;
  /** The saved payment method merchant-initiated renewals charge (a provider's payment token), when the provider shows it. */
  paymentMethodRef?: string;
  /**
   * What the provider showed with it: its recent invoices and their payments (for providers whose subscription
   * read includes them). Applied with the state, once each, so a renewal seen only by a fetch is recorded too.
   */
  invoices?: ProviderInvoiceState[];
  payments?: ProviderPaymentState[];
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
  /** The payment method saved by this payment, for merchant-initiated renewals (a provider's payment token). */
  paymentMethodRef?: string;
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
  /**
   * Our refund id as the provider echoes it (the `refundId` we sent with the refund), when it does: a refund the
   * provider reports before CreateRefund has recorded its reference is still found as ours by it.
   */
  refundId?: string;
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
