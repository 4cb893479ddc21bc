import type { BillingInterval } from './types';

// The emulator's own records: money in bigint minor units, times in epoch ms (always whole seconds), ids as the
// numeric strings Subotiz sends. wire.ts turns them into Subotiz's JSON.

/** A {code, message} pair as Subotiz reports payment and refund failures. */
export interface Failure {
  code: string;
  message: string;
}

/** A price with its amount parsed. */
export interface PriceRecord {
  priceId: string;
  amountMinor: bigint;
  currency: string;
  interval: BillingInterval;
  intervalCount: number;
  trialDays: number;
  totalCycles: number;
}

/** Fields every object owned by a merchant carries; other merchants cannot see it. */
export interface Owned {
  id: string;
  accessNo: string;
  subMerchantId: string;
}

export type SessionStatus = 'open' | 'complete' | 'expire';

export interface SessionRecord extends Owned {
  orderId: string;
  payerId: string | null;
  customerId: string | null;
  email: string | null;
  mode: 'checkout' | 'payment';
  priceId: string | null;
  quantity: number;
  amountMinor: bigint;
  currency: string;
  integrationMethod: 'hosted' | 'embedded';
  /** Embedded checkouts may stay on the merchant's page (`if_required`) instead of redirecting (`always`). */
  redirectOnCompletion: 'always' | 'if_required';
  returnUrl: string | null;
  cancelUrl: string | null;
  metadata: Record<string, string>;
  status: SessionStatus;
  tradeId: string | null;
  subscriptionId: string | null;
  createdAt: number;
  expiresAt: number;
}

export interface CustomerRecord extends Owned {
  payerId: string | null;
  email: string | null;
  createdAt: number;
}

export type TradeStatus = 'requires_payment_method' | 'processing' | 'payment_failed' | 'succeeded' | 'closed';
export type PaymentMode = 'subscription' | 'recurring_payment' | 'onetime_payment';

export interface TradeRecord extends Owned {
  customerId: string | null;
  orderId: string;
  subscriptionId: string | null;
  invoiceId: string | null;
  sessionId: string | null;
  amountMinor: bigint;
  currency: string;
  status: TradeStatus;
  paymentMode: PaymentMode;
  paymentToken: string | null;
  paidAt: number | null;
  refundedMinor: bigint;
  lastPaymentError: Failure | null;
  metadata: Record<string, string>;
  createdAt: number;
}

export type SubscriptionStatus =
  'init' | 'trial' | 'active' | 'paused' | 'past_due' | 'unpaid' | 'canceled' | 'incomplete';

/** A renewal invoice whose charge failed and is being retried. */
export interface Dunning {
  invoiceId: string;
  tradeId: string;
  failures: number;
  nextRetryAt: number;
}

export interface SubscriptionRecord extends Owned {
  customerId: string;
  email: string | null;
  status: SubscriptionStatus;
  /** The price as it was at checkout: later edits to the price do not reprice running subscriptions. */
  price: PriceRecord;
  quantity: number;
  cycleIndex: number;
  /** Start of paid cycle 1 (trial end, or the checkout time without a trial); every period is computed from it. */
  billingAnchor: number;
  periodStart: number;
  periodEnd: number;
  trialEnd: number | null;
  trialNoticeSent: boolean;
  isCanceling: boolean;
  cancelAt: number | null;
  cancelReason: string;
  orderId: string;
  sourceTradeId: string;
  paymentToken: string;
  dunning: Dunning | null;
  createdAt: number;
  updatedAt: number;
}

export type InvoiceStatus = 'open' | 'success' | 'failed' | 'refunded' | 'partially_refunded';
export type InvoiceType = 'initial' | 'trial' | 'renewal' | 'upgrade' | 'refund';

export interface InvoiceRecord extends Owned {
  subscriptionId: string;
  customerId: string;
  tradeId: string;
  orderId: string;
  amountMinor: bigint;
  currency: string;
  status: InvoiceStatus;
  invoiceType: InvoiceType;
  cycleIndex: number;
  cycleStart: number;
  cycleEnd: number;
  paidAt: number | null;
  refundedMinor: bigint;
  createdAt: number;
  updatedAt: number;
}

export type RefundStatus = 'pending' | 'succeeded' | 'failed';

export interface RefundRecord extends Owned {
  tradeId: string;
  amountMinor: bigint;
  currency: string;
  status: RefundStatus;
  reason: string;
  /** The merchant's own keys (e.g. its refund id), so it can find the refund again after a lost answer. */
  metadata: Record<string, string> | null;
  failureReason: Failure | null;
  /** Set at creation when a refund failure was armed, applied when the refund settles. */
  willFail: Failure | null;
  finishedAt: number | null;
  createdAt: number;
}

export interface UsageRecord {
  id: string;
  accessNo: string;
  subscriptionId: string;
  quantity: number;
  timestamp: number;
  idempotencyKey: string;
}
