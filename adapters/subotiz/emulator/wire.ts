import { rfc3339 } from './calendar';
import { formatAmount } from './money';
import { cyclesExhausted } from './periods';
import type {
  InvoiceRecord,
  RefundRecord,
  SessionRecord,
  SubscriptionRecord,
  TradeRecord,
  UsageRecord,
} from './records';

// Subotiz's JSON for each object (README "Objects"). Counters go out as strings, as in Subotiz's own webhook
// examples ("cycle_index":"1"); unset times are null.

export const SESSION_VALIDITY_SECONDS = 1800;

/**
 * Checkout Session object; `session_url` needs the emulator's base URL. Hosted and embedded sessions answer alike:
 * the buyer is redirected to `session_url`, or the embedded SDK is given `session_id` / `session_url`.
 */
export function sessionJson(
  s: SessionRecord,
  baseUrl: string,
  paymentToken: string | null = null,
): Record<string, unknown> {
  return {
    id: s.id,
    session_id: s.id,
    session_url: `${baseUrl}/checkout/${s.id}`,
    access_no: s.accessNo,
    merchant_id: s.subMerchantId,
    sub_merchant_id: s.subMerchantId,
    order_id: s.orderId,
    status: s.status,
    mode: s.mode,
    integration_method: s.integrationMethod,
    redirect_on_completion: s.redirectOnCompletion,
    total_amount: formatAmount(s.amountMinor, s.currency),
    currency: s.currency,
    price_id: s.priceId,
    quantity: s.priceId === null ? null : String(s.quantity),
    customer: { id: s.customerId, payer_id: s.payerId, email: s.email },
    customer_id: s.customerId,
    payer_id: s.payerId,
    email: s.email,
    trade_id: s.tradeId,
    subscription_id: s.subscriptionId,
    payment_token: paymentToken,
    return_url: s.returnUrl,
    cancel_url: s.cancelUrl,
    metadata: s.metadata,
    expire_time: SESSION_VALIDITY_SECONDS,
    created_at: rfc3339(s.createdAt),
  };
}

/** Trade object. */
export function tradeJson(t: TradeRecord): Record<string, unknown> {
  return {
    trade_id: t.id,
    access_no: t.accessNo,
    merchant_id: t.subMerchantId,
    customer_id: t.customerId,
    order_id: t.orderId,
    subscription_id: t.subscriptionId,
    amount: formatAmount(t.amountMinor, t.currency),
    currency: t.currency,
    trade_status: t.status,
    payment_mode: t.paymentMode,
    payment_method: 'credit_card',
    payment_channel: 'emulator',
    payment_token: t.paymentToken,
    paid_at: rfc3339(t.paidAt),
    session_id: t.sessionId,
    invoice_id: t.invoiceId,
    refund_status:
      t.refundedMinor === 0n ? 'no_refund' : t.refundedMinor < t.amountMinor ? 'partially_refunded' : 'refunded',
    total_refunded_amount: formatAmount(t.refundedMinor, t.currency),
    last_payment_error: t.lastPaymentError,
    metadata: t.metadata,
    created_at: rfc3339(t.createdAt),
  };
}

/** Subscription object. */
export function subscriptionJson(s: SubscriptionRecord): Record<string, unknown> {
  return {
    id: s.id,
    customer_id: s.customerId,
    email: s.email,
    sub_merchant_id: s.subMerchantId,
    status: s.status,
    price_id: s.price.priceId,
    quantity: String(s.quantity),
    total_cycles: String(s.price.totalCycles),
    cycle_index: String(s.cycleIndex),
    current_period_start: rfc3339(s.periodStart),
    current_period_end: rfc3339(s.periodEnd),
    next_invoice_date: rfc3339(nextInvoiceDate(s)),
    trial_end: rfc3339(s.trialEnd),
    is_canceling: s.isCanceling,
    cancel_at: rfc3339(s.cancelAt),
    cancel_reason: s.cancelReason,
    order_id: s.orderId,
    source_trade_id: s.sourceTradeId,
    payment_token: s.paymentToken,
    created_at: rfc3339(s.createdAt),
    updated_at: rfc3339(s.updatedAt),
  };
}

/** When the next charge is due: the period end, a dunning retry, or never (canceling, ended, paused, unpaid). */
function nextInvoiceDate(s: SubscriptionRecord): number | null {
  if (s.status === 'past_due') return s.dunning?.nextRetryAt ?? null;
  if (s.status !== 'trial' && s.status !== 'active') return null;
  if (s.isCanceling || cyclesExhausted(s)) return null;
  return s.periodEnd;
}

/** Invoice object. */
export function invoiceJson(i: InvoiceRecord): Record<string, unknown> {
  return {
    id: i.id,
    subscription_id: i.subscriptionId,
    customer_id: i.customerId,
    sub_merchant_id: i.subMerchantId,
    trade_id: i.tradeId,
    order_id: i.orderId,
    amount: formatAmount(i.amountMinor, i.currency),
    currency: i.currency,
    status: i.status,
    invoice_type: i.invoiceType,
    cycle_index: String(i.cycleIndex),
    cycle_start: rfc3339(i.cycleStart),
    cycle_end: rfc3339(i.cycleEnd),
    paid_at: rfc3339(i.paidAt),
    created_at: rfc3339(i.createdAt),
    updated_at: rfc3339(i.updatedAt),
  };
}

/** Refund object. */
export function refundJson(r: RefundRecord): Record<string, unknown> {
  return {
    refund_id: r.id,
    trade_id: r.tradeId,
    access_no: r.accessNo,
    merchant_id: r.subMerchantId,
    refund_amount: formatAmount(r.amountMinor, r.currency),
    currency: r.currency,
    refund_status: r.status,
    reason: r.reason,
    failure_reason: r.failureReason,
    finished_at: rfc3339(r.finishedAt),
    created_at: rfc3339(r.createdAt),
    metadata: r.metadata ?? null,
  };
}

/** Usage record. */
export function usageJson(u: UsageRecord): Record<string, unknown> {
  return { id: u.id, subscription_id: u.subscriptionId, quantity: u.quantity, timestamp: u.timestamp };
}
