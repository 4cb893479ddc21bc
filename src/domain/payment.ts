import type { Money } from './money';

export type PaymentStatus = 'REQUIRES_PAYMENT_METHOD' | 'PROCESSING' | 'SUCCEEDED' | 'FAILED' | 'CLOSED';
export type RefundState = 'NONE' | 'PARTIALLY_REFUNDED' | 'REFUNDED';
export type RefundStatus = 'PENDING' | 'SUCCEEDED' | 'FAILED';
/** What a payment pays: a subscription's first charge, a renewal, or a one-time checkout. */
export type PaymentKind = 'initial' | 'recurring' | 'one_time';

/** Why a payment or refund failed, as the provider said it. */
export interface Failure {
  code: string;
  message: string;
}

/** A payment: the provider's charge (its trade, transaction or order), in our vocabulary. */
export interface Payment {
  id: string;
  storefrontId: string;
  customerId: string;
  subscriptionId?: string;
  invoiceId?: string;
  kind: PaymentKind;
  provider: string;
  providerRef?: string;
  amount: Money;
  status: PaymentStatus;
  refundState: RefundState;
  refundedMinor: bigint;
  failure?: Failure;
  /** One-time payments: the hosted checkout that collects it, and when that checkout stops taking payment. */
  checkoutSessionRef?: string;
  checkoutExpiresAt?: Date;
  createdAt: Date;
  updatedAt: Date;
}

/** A refund of (part of) a payment. */
export interface Refund {
  id: string;
  paymentId: string;
  amount: Money;
  reason: string;
  status: RefundStatus;
  providerRef?: string;
  failure?: Failure;
  createdAt: Date;
  updatedAt: Date;
}

/** The refund state a payment is in once `refundedMinor` of it has been refunded. */
export function refundStateOf(amountMinor: bigint, refundedMinor: bigint): RefundState {
  if (refundedMinor <= 0n) return 'NONE';
  return refundedMinor >= amountMinor ? 'REFUNDED' : 'PARTIALLY_REFUNDED';
}

/** What a payment's refunds in `status` add up to (each refund counted once). */
export function refundsTotal(refunds: readonly Refund[], status: RefundStatus): bigint {
  return refunds.filter((r) => r.status === status).reduce((sum, r) => sum + r.amount.amountMinor, 0n);
}
