import { invalidArgument } from '../../src/domain/errors';
import { isCurrency } from '../../src/domain/currencies';
import type { InvoiceStatus, InvoiceType } from '../../src/domain/invoice';
import { formatDecimal, Money, parseDecimal } from '../../src/domain/money';
import type { PaymentStatus, RefundState, RefundStatus } from '../../src/domain/payment';
import type { SubscriptionStatus } from '../../src/domain/subscription';
import type {
  ProviderCheckoutState,
  ProviderInvoiceState,
  ProviderPaymentState,
  ProviderRefundState,
  ProviderSubscriptionState,
  ProviderUsageRecord,
  SubscriptionHint,
} from '../../src/ports/provider-adapter.port';
import {
  asObject,
  flag,
  optionalFailure,
  optionalInt,
  optionalBigInt,
  optionalString,
  optionalTime,
  optionalUnixSeconds,
  requiredString,
} from './wire';

/** The one place Subotiz's names meet ours (see README: Objects, Event mapping, Statuses). */

/** Money as Subotiz writes it: major units with exactly the currency's decimals ("30.00", "1500" JPY, "1.234" KWD). */
export function toSubotizAmount(money: Money): string {
  if (!isCurrency(money.currency)) {
    throw invalidArgument([{ field: 'amount.currency_code', rule: `'${money.currency}' is not an ISO 4217 code` }]);
  }
  return formatDecimal(money.amountMinor, money.currency);
}

/** Reads a Subotiz amount: lenient on fewer decimals ("10" USD = 1000), refuses more than the currency has. */
export function fromSubotizAmount(amount: unknown, currency: unknown, field: string): Money {
  if (typeof currency !== 'string' || !currency) throw invalidArgument([{ field, rule: 'has no currency' }]);
  const code = currency.toUpperCase();
  const text = typeof amount === 'number' && Number.isFinite(amount) ? String(amount) : amount;
  if (typeof text !== 'string' || !text) throw invalidArgument([{ field, rule: 'is required' }]);
  return { currency: code, amountMinor: parseDecimal(text, code, field) };
}

function lookup<T>(table: Record<string, T>, value: string | undefined, field: string): T {
  const mapped = value !== undefined && Object.hasOwn(table, value) ? table[value] : undefined;
  if (mapped === undefined) {
    throw invalidArgument([{ field, rule: `'${value ?? ''}' is not one of ${Object.keys(table).join(', ')}` }]);
  }
  return mapped;
}

const SUBSCRIPTION_STATUS: Record<string, SubscriptionStatus> = {
  init: 'INCOMPLETE',
  incomplete: 'INCOMPLETE',
  trial: 'TRIALING',
  active: 'ACTIVE',
  paused: 'PAUSED',
  past_due: 'PAST_DUE',
  unpaid: 'UNPAID',
  canceled: 'CANCELED',
};

/** Subscription status; a `canceled` subscription whose fixed number of cycles ran out is COMPLETED. */
export function mapSubscriptionStatus(
  status: string | undefined,
  totalCycles?: number,
  cycleIndex?: number,
): SubscriptionStatus {
  const mapped = lookup(SUBSCRIPTION_STATUS, status, 'subscription.status');
  const ranOut = totalCycles !== undefined && totalCycles > 0 && cycleIndex !== undefined && cycleIndex >= totalCycles;
  return mapped === 'CANCELED' && ranOut ? 'COMPLETED' : mapped;
}

const TRADE_STATUS: Record<string, PaymentStatus> = {
  requires_payment_method: 'REQUIRES_PAYMENT_METHOD',
  processing: 'PROCESSING',
  // Older documents list a 3-D Secure step; for us the payment is still in flight.
  requires_action: 'PROCESSING',
  payment_failed: 'FAILED',
  succeeded: 'SUCCEEDED',
  closed: 'CLOSED',
};

export function mapTradeStatus(status: string | undefined): PaymentStatus {
  return lookup(TRADE_STATUS, status, 'trade.trade_status');
}

const TRADE_REFUND_STATUS: Record<string, RefundState> = {
  no_refund: 'NONE',
  partially_refunded: 'PARTIALLY_REFUNDED',
  refunded: 'REFUNDED',
};

/** A trade's `refund_status`; absent means nothing was refunded. */
export function mapTradeRefundStatus(status: string | undefined): RefundState {
  return status === undefined ? 'NONE' : lookup(TRADE_REFUND_STATUS, status, 'trade.refund_status');
}

const REFUND_STATUS: Record<string, RefundStatus> = { pending: 'PENDING', succeeded: 'SUCCEEDED', failed: 'FAILED' };

export function mapRefundStatus(status: string | undefined): RefundStatus {
  return lookup(REFUND_STATUS, status, 'refund.refund_status');
}

const INVOICE_STATUS: Record<string, InvoiceStatus> = {
  open: 'OPEN',
  success: 'PAID',
  paid: 'PAID',
  failed: 'FAILED',
  void: 'VOID',
  refunded: 'REFUNDED',
  partially_refunded: 'PARTIALLY_REFUNDED',
};

export function mapInvoiceStatus(status: string | undefined): InvoiceStatus {
  return lookup(INVOICE_STATUS, status, 'invoice.status');
}

const INVOICE_TYPE: Record<string, InvoiceType> = {
  initial: 'INITIAL',
  trial: 'TRIAL',
  // The invoice object page spells it "trail".
  trail: 'TRIAL',
  renewal: 'RENEWAL',
  upgrade: 'UPGRADE',
  refund: 'REFUND',
};

export function mapInvoiceType(type: string | undefined): InvoiceType {
  return lookup(INVOICE_TYPE, type, 'invoice.invoice_type');
}

const PAYMENT_KIND: Record<string, ProviderPaymentState['kind']> = {
  subscription: 'initial',
  recurring_payment: 'recurring',
  onetime_payment: 'one_time',
};

/** A trade's `payment_mode`: a subscription's first charge, a renewal, or a one-time payment. */
export function mapPaymentKind(mode: string | undefined): ProviderPaymentState['kind'] {
  return lookup(PAYMENT_KIND, mode, 'trade.payment_mode');
}

/**
 * A Subscription object. `fallbackObservedAt` (the webhook's `created`, or when we read it) stands in when the object
 * carries no `updated_at`.
 */
export function toSubscriptionState(value: unknown, fallbackObservedAt?: Date): ProviderSubscriptionState {
  const p = 'subscription';
  const obj = asObject(value, p);
  const cycleIndex = optionalInt(obj, 'cycle_index', p);
  const status = mapSubscriptionStatus(
    optionalString(obj, 'status', p),
    optionalInt(obj, 'total_cycles', p),
    cycleIndex,
  );
  const ended = status === 'CANCELED' || status === 'COMPLETED';
  const updatedAt = optionalTime(obj, 'updated_at', p);
  const cancelAt = optionalTime(obj, 'cancel_at', p);
  return {
    ref: requiredString(obj, 'id', p),
    orderId: optionalString(obj, 'order_id', p),
    customerRef: optionalString(obj, 'customer_id', p),
    planRef: optionalString(obj, 'price_id', p),
    status,
    currentPeriodStart: optionalTime(obj, 'current_period_start', p),
    currentPeriodEnd: optionalTime(obj, 'current_period_end', p),
    trialEnd: optionalTime(obj, 'trial_end', p),
    cancelAtPeriodEnd: !ended && flag(obj, 'is_canceling', p),
    canceledAt: status === 'CANCELED' ? (cancelAt ?? updatedAt ?? fallbackObservedAt) : undefined,
    endedAt: ended ? (cancelAt ?? updatedAt ?? fallbackObservedAt) : undefined,
    cycleIndex,
    // Not in the Subscription object the document shows; read where present (README: Assumptions).
    paymentMethodRef: optionalString(obj, 'payment_token', p) || undefined,
    observedAt: updatedAt ?? fallbackObservedAt,
  };
}

/** A Trade object. */
export function toPaymentState(value: unknown): ProviderPaymentState {
  const p = 'trade';
  const obj = asObject(value, p);
  const currency = obj.currency;
  const amount = fromSubotizAmount(obj.amount, currency, `${p}.amount`);
  const refunded = obj.total_refunded_amount;
  return {
    ref: requiredString(obj, 'trade_id', p),
    orderId: optionalString(obj, 'order_id', p),
    customerRef: optionalString(obj, 'customer_id', p),
    subscriptionRef: optionalString(obj, 'subscription_id', p),
    invoiceRef: optionalString(obj, 'invoice_id', p),
    kind: mapPaymentKind(optionalString(obj, 'payment_mode', p)),
    amount,
    status: mapTradeStatus(optionalString(obj, 'trade_status', p)),
    refundState: mapTradeRefundStatus(optionalString(obj, 'refund_status', p)),
    refundedAmount:
      refunded === undefined || refunded === null || refunded === ''
        ? { currency: amount.currency, amountMinor: 0n }
        : fromSubotizAmount(refunded, currency, `${p}.total_refunded_amount`),
    failure: optionalFailure(obj, 'last_payment_error', p),
    paidAt: optionalTime(obj, 'paid_at', p),
    // Flow 4: "On v2.trades.succeeded, save the payment_token" for renewals.
    paymentMethodRef: optionalString(obj, 'payment_token', p) || undefined,
  };
}

/** An Invoice object. */
export function toInvoiceState(value: unknown): ProviderInvoiceState {
  const p = 'invoice';
  const obj = asObject(value, p);
  const cycleIndex = optionalInt(obj, 'cycle_index', p);
  if (cycleIndex === undefined) throw invalidArgument([{ field: `${p}.cycle_index`, rule: 'is required' }]);
  return {
    ref: requiredString(obj, 'id', p),
    subscriptionRef: optionalString(obj, 'subscription_id', p),
    orderId: optionalString(obj, 'order_id', p),
    customerRef: optionalString(obj, 'customer_id', p),
    paymentRef: optionalString(obj, 'trade_id', p),
    amount: fromSubotizAmount(obj.amount, obj.currency, `${p}.amount`),
    type: mapInvoiceType(optionalString(obj, 'invoice_type', p)),
    status: mapInvoiceStatus(optionalString(obj, 'status', p)),
    cycleIndex,
    periodStart: optionalTime(obj, 'cycle_start', p),
    periodEnd: optionalTime(obj, 'cycle_end', p),
  };
}

const SESSION_STATUSES: Record<string, ProviderCheckoutState['status']> = {
  open: 'OPEN',
  complete: 'COMPLETE',
  expire: 'EXPIRED',
};

/** A Checkout Session object (`GET /api/v1/session/{id}`). */
export function toCheckoutState(value: unknown): ProviderCheckoutState {
  const p = 'session';
  const obj = asObject(value, p);
  return {
    ref: optionalString(obj, 'session_id', p) ?? requiredString(obj, 'id', p),
    status: lookup(SESSION_STATUSES, optionalString(obj, 'status', p), `${p}.status`),
    orderId: optionalString(obj, 'order_id', p),
    subscriptionRef: optionalString(obj, 'subscription_id', p),
    paymentRef: optionalString(obj, 'trade_id', p),
  };
}

/** A Refund object. */
export function toRefundState(value: unknown): ProviderRefundState {
  const p = 'refund';
  const obj = asObject(value, p);
  return {
    ref: requiredString(obj, 'refund_id', p),
    paymentRef: requiredString(obj, 'trade_id', p),
    amount: fromSubotizAmount(obj.refund_amount, obj.currency, `${p}.refund_amount`),
    status: mapRefundStatus(optionalString(obj, 'refund_status', p)),
    reason: optionalString(obj, 'reason', p) ?? '',
    failure: optionalFailure(obj, 'failure_reason', p),
    refundId: echoedRefundId(obj.metadata),
  };
}

/** Our refund id as the Refund object's metadata keeps it (we send it as `metadata.refund_id`); else undefined. */
function echoedRefundId(metadata: unknown): string | undefined {
  if (typeof metadata !== 'object' || metadata === null || Array.isArray(metadata)) return undefined;
  const id = (metadata as Record<string, unknown>).refund_id;
  return typeof id === 'string' && id !== '' ? id : undefined;
}

/** A usage record `{id, subscription_id, quantity, timestamp}` (timestamp in unix seconds). */
export function toUsageRecord(value: unknown): ProviderUsageRecord {
  const p = 'usage';
  const obj = asObject(value, p);
  const quantity = optionalBigInt(obj, 'quantity', p);
  const timestamp = optionalUnixSeconds(obj, 'timestamp', p);
  if (quantity === undefined) throw invalidArgument([{ field: `${p}.quantity`, rule: 'is required' }]);
  if (timestamp === undefined) throw invalidArgument([{ field: `${p}.timestamp`, rule: 'is required' }]);
  return { ref: requiredString(obj, 'id', p), quantity, timestamp };
}

/** What a webhook type means to us; undefined for types we acknowledge and ignore. */
export type WebhookMeaning =
  | { kind: 'subscription'; hint: SubscriptionHint }
  | { kind: 'payment'; outcome: 'created' | 'succeeded' | 'failed' }
  | { kind: 'invoice'; outcome: 'paid' | 'payment_failed' | 'refunded' }
  | { kind: 'refund'; outcome: 'succeeded' | 'failed' };

/** Keyed by the v1 name; `v2.` names are the same events. */
const WEBHOOK_TYPES: Record<string, WebhookMeaning> = {
  'subscription.first': { kind: 'subscription', hint: 'activated' },
  'subscription.trial_period_expiring': { kind: 'subscription', hint: 'trial_will_end' },
  'subscription.price_changed': { kind: 'subscription', hint: 'plan_changed' },
  'subscription.paused': { kind: 'subscription', hint: 'paused' },
  'subscription.resumed': { kind: 'subscription', hint: 'resumed' },
  'subscription.past_due': { kind: 'subscription', hint: 'past_due' },
  'subscription.unpaid': { kind: 'subscription', hint: 'unpaid' },
  'subscription.cancellation_requested': { kind: 'subscription', hint: 'cancellation_scheduled' },
  'subscription.cancellation_revoked': { kind: 'subscription', hint: 'cancellation_revoked' },
  'subscription.canceled': { kind: 'subscription', hint: 'canceled' },
  'trades.created': { kind: 'payment', outcome: 'created' },
  'trades.succeeded': { kind: 'payment', outcome: 'succeeded' },
  'trades.payment_failed': { kind: 'payment', outcome: 'failed' },
  'invoice.paid': { kind: 'invoice', outcome: 'paid' },
  'invoice.payment_failed': { kind: 'invoice', outcome: 'payment_failed' },
  'invoice.refunded': { kind: 'invoice', outcome: 'refunded' },
  'refunds.succeeded': { kind: 'refund', outcome: 'succeeded' },
  'refunds.failed': { kind: 'refund', outcome: 'failed' },
};

/** The meaning of a Subotiz webhook type, `v2.*` or plain v1 name alike. */
export function webhookMeaning(type: string): WebhookMeaning | undefined {
  const name = type.startsWith('v2.') ? type.slice(3) : type;
  return Object.hasOwn(WEBHOOK_TYPES, name) ? WEBHOOK_TYPES[name] : undefined;
}
