import { renewalInvoice, startPaidCycle } from './billing-engine';
import { emit, type EmulatorContext } from './context';
import { invalidParameter } from './errors';
import { isCurrencyCode, parseAmount } from './money';
import { cyclesExhausted } from './periods';
import type { InvoiceRecord, SubscriptionRecord, TradeRecord } from './records';
import type { EmulatorMerchant } from './types';
import { type Body, metadata, oneOf, optionalString, requiredString } from './validation';
import { invoiceJson, tradeJson } from './wire';

const RENEWABLE = ['trial', 'active', 'past_due'];

/**
 * Create Trade (`POST /api/v1/trade`), Flow 4: a merchant-initiated charge of a saved card, `payment_token` (handed
 * out by the first subscription checkout) with `payment_mode: recurring_payment`. The charge happens at once and
 * honours "fail the next N charges": a decline is a trade in `payment_failed` with `last_payment_error` (HTTP 200:
 * the trade exists). For a merchant that renews itself (`renewals: merchant`), a succeeded trade pays the renewal
 * invoice of the token's subscription and starts its next cycle, as Subotiz's own renewal would.
 */
export function createMerchantTrade(ctx: EmulatorContext, merchant: EmulatorMerchant, body: Body): TradeRecord {
  const { state } = ctx;
  const accessNo = optionalString(body, 'access_no', 64);
  if (accessNo !== undefined && accessNo !== merchant.accessNo) {
    throw invalidParameter('access_no', `'${accessNo}' is not the caller's access_no`);
  }
  const subMerchantId = optionalString(body, 'sub_merchant_id', 64);
  if (subMerchantId !== undefined && subMerchantId !== merchant.subMerchantId) {
    throw invalidParameter('sub_merchant_id', `'${subMerchantId}' is not the caller's sub_merchant_id`);
  }
  const orderId = requiredString(body, 'order_id', 64);
  const mode = oneOf(body, 'payment_mode', ['subscription', 'recurring_payment', 'onetime_payment']);
  if (mode !== 'recurring_payment') {
    // Collecting a card (payment_method_data) is the checkout page's job; the emulator never sees card numbers.
    throw invalidParameter('payment_mode', `'${mode}' needs payment_method_data; only recurring_payment is emulated`);
  }
  const token = requiredString(body, 'payment_token', 128);
  const sub = subscriptionOfToken(ctx, merchant, token);
  if (!sub) throw invalidParameter('payment_token', 'no saved payment method has this token');
  const currency = requiredString(body, 'currency', 3);
  if (!isCurrencyCode(currency)) throw invalidParameter('currency', `'${currency}' is not an ISO 4217 code`);
  const amountMinor = parseAmount(body.amount, currency, 'amount');
  if (amountMinor <= 0n) throw invalidParameter('amount', 'must be greater than zero');
  const customerId = optionalString(body, 'customer_id', 64);
  if (customerId !== undefined && customerId !== sub.customerId) {
    throw invalidParameter('customer_id', `'${customerId}' does not own this payment_token`);
  }
  const trade: TradeRecord = {
    id: state.ids.id(),
    accessNo: merchant.accessNo,
    subMerchantId: merchant.subMerchantId,
    customerId: sub.customerId,
    orderId,
    subscriptionId: sub.id,
    invoiceId: null,
    sessionId: null,
    amountMinor,
    currency,
    status: 'processing',
    paymentMode: 'recurring_payment',
    paymentToken: token,
    paidAt: null,
    refundedMinor: 0n,
    lastPaymentError: null,
    metadata: metadata(body),
    createdAt: state.now,
  };
  state.trades.set(trade.id, trade);
  emit(ctx, merchant.accessNo, 'v2.trades.created', tradeJson(trade));
  const failure = ctx.chargeFailures.take();
  if (failure) {
    trade.status = 'payment_failed';
    trade.lastPaymentError = failure;
    emit(ctx, merchant.accessNo, 'v2.trades.payment_failed', tradeJson(trade));
    return trade;
  }
  const invoice = renewsSubscription(merchant, sub) ? renewalInvoice(ctx, sub, trade) : undefined;
  trade.status = 'succeeded';
  trade.paidAt = state.now;
  if (invoice) startPaidCycle(ctx, sub, invoice);
  emit(ctx, merchant.accessNo, 'v2.trades.succeeded', tradeJson(trade));
  if (invoice) emitPaid(ctx, invoice);
  return trade;
}

function renewsSubscription(merchant: EmulatorMerchant, sub: SubscriptionRecord): boolean {
  return merchant.renewals === 'merchant' && RENEWABLE.includes(sub.status) && !cyclesExhausted(sub);
}

function emitPaid(ctx: EmulatorContext, invoice: InvoiceRecord): void {
  emit(ctx, invoice.accessNo, 'v2.invoice.paid', invoiceJson(invoice));
}

// A token is the saved card of the subscription whose first trade created it; other merchants' tokens do not exist.
function subscriptionOfToken(
  ctx: EmulatorContext,
  merchant: EmulatorMerchant,
  token: string,
): SubscriptionRecord | undefined {
  for (const sub of ctx.state.subscriptions.values()) {
    if (sub.accessNo === merchant.accessNo && sub.paymentToken !== '' && sub.paymentToken === token) return sub;
  }
  return undefined;
}
