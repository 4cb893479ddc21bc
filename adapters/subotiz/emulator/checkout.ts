import { randomBytes } from 'node:crypto';
import { DAY_MS } from './calendar';
import { emit, type EmulatorContext } from './context';
import { invalidState } from './errors';
import { cycleEnd } from './periods';
import type {
  CustomerRecord,
  Failure,
  InvoiceRecord,
  PriceRecord,
  SessionRecord,
  SubscriptionRecord,
  TradeRecord,
} from './records';
import { invoiceJson, sessionJson, subscriptionJson, tradeJson } from './wire';

/** What completing a checkout created. */
export interface Completion {
  session: SessionRecord;
  trade: TradeRecord;
  subscription?: SubscriptionRecord;
  invoice?: InvoiceRecord;
}

/** The session as the API answers it, with the payment token its succeeded trade saved (Flow 4). */
export function sessionView(ctx: EmulatorContext, session: SessionRecord): Record<string, unknown> {
  const trade = session.tradeId === null ? undefined : ctx.state.trades.get(session.tradeId);
  return sessionJson(session, ctx.baseUrl, trade?.status === 'succeeded' ? trade.paymentToken : null);
}

/** Marks an open session expired once its 30 minutes (emulator clock) are over. */
export function refreshSession(ctx: EmulatorContext, session: SessionRecord): SessionRecord {
  if (session.status === 'open' && ctx.state.now >= session.expiresAt) session.status = 'expire';
  return session;
}

/**
 * The buyer pays. A subscription checkout creates trade, subscription and first invoice and sends
 * trades.created → trades.succeeded → subscription.first → invoice.paid; a payment checkout only the trade.
 */
export function completeSession(ctx: EmulatorContext, session: SessionRecord): Completion {
  requireOpen(ctx, session);
  const { state } = ctx;
  const price = session.priceId === null ? undefined : state.prices.get(session.priceId);
  if (session.mode === 'checkout' && !price) {
    throw invalidState(`price '${session.priceId}' of session '${session.id}' no longer exists`);
  }
  const customer = resolveCustomer(ctx, session, true);
  const subscriptionId = session.mode === 'checkout' ? state.ids.id() : null;
  const invoiceId = session.mode === 'checkout' ? state.ids.id() : null;
  const trade = newTrade(ctx, session, customer?.id ?? null, subscriptionId, invoiceId);
  trade.paymentToken = subscriptionId ? `pt_${randomBytes(12).toString('hex')}` : null;
  emit(ctx, session.accessNo, 'v2.trades.created', tradeJson(trade));
  trade.status = 'succeeded';
  trade.paidAt = state.now;
  emit(ctx, session.accessNo, 'v2.trades.succeeded', tradeJson(trade));
  session.status = 'complete';
  session.tradeId = trade.id;
  session.customerId = customer?.id ?? null;
  if (!price || !subscriptionId || !invoiceId || !customer) return { session, trade };

  const subscription = newSubscription(ctx, session, price, subscriptionId, customer, trade);
  emit(ctx, session.accessNo, 'v2.subscription.first', subscriptionJson(subscription));
  const invoice: InvoiceRecord = {
    id: invoiceId,
    accessNo: session.accessNo,
    subMerchantId: session.subMerchantId,
    subscriptionId,
    customerId: customer.id,
    tradeId: trade.id,
    orderId: session.orderId,
    amountMinor: trade.amountMinor,
    currency: trade.currency,
    status: 'success',
    invoiceType: subscription.status === 'trial' ? 'trial' : 'initial',
    cycleIndex: subscription.cycleIndex,
    cycleStart: subscription.periodStart,
    cycleEnd: subscription.periodEnd,
    paidAt: state.now,
    refundedMinor: 0n,
    createdAt: state.now,
    updatedAt: state.now,
  };
  state.invoices.set(invoice.id, invoice);
  emit(ctx, session.accessNo, 'v2.invoice.paid', invoiceJson(invoice));
  session.subscriptionId = subscriptionId;
  return { session, trade, subscription, invoice };
}

/** The buyer's card is declined: a failed trade and trades.payment_failed; the session stays open for another try. */
export function declineSession(ctx: EmulatorContext, session: SessionRecord, failure: Failure): TradeRecord {
  requireOpen(ctx, session);
  const trade = newTrade(ctx, session, resolveCustomer(ctx, session, false)?.id ?? null, null, null);
  trade.status = 'payment_failed';
  trade.lastPaymentError = failure;
  session.tradeId = trade.id;
  emit(ctx, session.accessNo, 'v2.trades.payment_failed', tradeJson(trade));
  return trade;
}

/** Ends an open session now (as if its 30 minutes ran out). */
export function expireSession(ctx: EmulatorContext, session: SessionRecord): SessionRecord {
  requireOpen(ctx, session);
  session.status = 'expire';
  return session;
}

function requireOpen(ctx: EmulatorContext, session: SessionRecord): void {
  refreshSession(ctx, session);
  if (session.status !== 'open') throw invalidState(`session '${session.id}' is ${session.status}, not open`);
}

// Each payment attempt is its own trade, so a retry after a decline still reports trades.created for the new one.
function newTrade(
  ctx: EmulatorContext,
  session: SessionRecord,
  customerId: string | null,
  subscriptionId: string | null,
  invoiceId: string | null,
): TradeRecord {
  const trade: TradeRecord = {
    id: ctx.state.ids.id(),
    accessNo: session.accessNo,
    subMerchantId: session.subMerchantId,
    customerId,
    orderId: session.orderId,
    subscriptionId,
    invoiceId,
    sessionId: session.id,
    amountMinor: session.amountMinor,
    currency: session.currency,
    status: 'processing',
    paymentMode: session.mode === 'checkout' ? 'subscription' : 'onetime_payment',
    paymentToken: null,
    paidAt: null,
    refundedMinor: 0n,
    lastPaymentError: null,
    metadata: session.metadata,
    createdAt: ctx.state.now,
  };
  ctx.state.trades.set(trade.id, trade);
  return trade;
}

function newSubscription(
  ctx: EmulatorContext,
  session: SessionRecord,
  price: PriceRecord,
  id: string,
  customer: CustomerRecord,
  trade: TradeRecord,
): SubscriptionRecord {
  const now = ctx.state.now;
  const trialEnd = price.trialDays > 0 ? now + price.trialDays * DAY_MS : null;
  const subscription: SubscriptionRecord = {
    id,
    accessNo: session.accessNo,
    subMerchantId: session.subMerchantId,
    customerId: customer.id,
    email: session.email ?? customer.email,
    status: trialEnd === null ? 'active' : 'trial',
    price: { ...price },
    quantity: session.quantity,
    cycleIndex: trialEnd === null ? 1 : 0,
    billingAnchor: trialEnd ?? now,
    periodStart: now,
    periodEnd: 0,
    trialEnd,
    trialNoticeSent: false,
    isCanceling: false,
    cancelAt: null,
    cancelReason: '',
    orderId: session.orderId,
    sourceTradeId: trade.id,
    paymentToken: trade.paymentToken ?? '',
    dunning: null,
    createdAt: now,
    updatedAt: now,
  };
  subscription.periodEnd = trialEnd ?? cycleEnd(subscription, 1);
  ctx.state.subscriptions.set(id, subscription);
  return subscription;
}

// The payer's Subotiz customer: the one named by customer_id, else this merchant's customer with the same payer_id
// (our customer id) or, without one, the same email; created on a successful payment.
function resolveCustomer(ctx: EmulatorContext, session: SessionRecord, create: boolean): CustomerRecord | undefined {
  const { state } = ctx;
  if (session.customerId) return state.customers.get(session.customerId);
  for (const customer of state.customers.values()) {
    if (customer.accessNo !== session.accessNo) continue;
    if (session.payerId ? customer.payerId === session.payerId : customer.email === session.email) return customer;
  }
  if (!create) return undefined;
  const customer: CustomerRecord = {
    id: state.ids.id(),
    accessNo: session.accessNo,
    subMerchantId: session.subMerchantId,
    payerId: session.payerId,
    email: session.email,
    createdAt: state.now,
  };
  state.customers.set(customer.id, customer);
  return customer;
}
