import { type DueItem, earliestDue, runDueWork } from '../../kit/emulator/due-work';
import { DAY_MS } from './calendar';
import { emit, type EmulatorContext } from './context';
import { cycleEnd, cycleStart, cyclesExhausted } from './periods';
import type { InvoiceRecord, SubscriptionRecord, TradeRecord } from './records';
import { endSubscription, touchAndEmit } from './subscription-lifecycle';
import { invoiceJson, subscriptionJson, tradeJson } from './wire';

const TRIAL_NOTICE_MS = 3 * DAY_MS;
const DUNNING_INTERVAL_MS = DAY_MS;
const DUNNING_RETRIES = 3;
/** Moves the emulator clock `ms` forward, processing every piece of due work in time order on the way. */
export function advanceClock(ctx: EmulatorContext, ms: number): void {
  runDue(ctx, ctx.state.now + ms);
  ctx.state.clock.advance(ms);
}

/**
 * Processes work due at or before `until` (default now), earliest first; the clock shows each item's own time while
 * it runs. Answers whether anything ran. Wall time moves the clock too, so this also runs before each request and on
 * a timer: a renewal falls due whether or not a test advanced the clock.
 */
export function runDue(ctx: EmulatorContext, until = ctx.state.now): boolean {
  // The clock never shows earlier than now: work that fell due before now (between ticks) runs at now.
  let shown = ctx.state.now;
  const ran = runDueWork(
    () => earliestDue(ctx.state.subscriptions.values(), (sub) => dueItems(ctx, sub), until),
    (item) => {
      shown = Math.max(shown, item.at);
      ctx.state.at(shown, () => item.run());
    },
    'billing engine',
  );
  return ran > 0;
}

function dueItems(ctx: EmulatorContext, sub: SubscriptionRecord): DueItem[] {
  const items: DueItem[] = [];
  // Trials of 3 days or less get no reminder: there is no "3 days before" left after checkout.
  if (sub.status === 'trial' && sub.trialEnd !== null && !sub.trialNoticeSent) {
    const at = sub.trialEnd - TRIAL_NOTICE_MS;
    if (at > sub.createdAt) items.push({ at, run: () => sendTrialNotice(ctx, sub) });
  }
  if ((sub.status === 'trial' || sub.status === 'active') && periodEndIsDue(ctx, sub))
    items.push({ at: sub.periodEnd, run: () => endPeriod(ctx, sub) });
  const dunning = sub.dunning;
  if (sub.status === 'past_due' && dunning) items.push({ at: dunning.nextRetryAt, run: () => retryCharge(ctx, sub) });
  return items;
}

// With merchant-initiated renewals (Flow 4) Subotiz charges nothing at period end: the merchant's recurring trade
// starts the next cycle (merchant-renewal.ts). Only an ending (cancel at period end, last cycle) still happens.
function periodEndIsDue(ctx: EmulatorContext, sub: SubscriptionRecord): boolean {
  if (ctx.state.merchants.get(sub.accessNo)?.renewals !== 'merchant') return true;
  return sub.isCanceling || cyclesExhausted(sub);
}

function sendTrialNotice(ctx: EmulatorContext, sub: SubscriptionRecord): void {
  // A reminder, not a change: updated_at stays.
  sub.trialNoticeSent = true;
  emit(ctx, sub.accessNo, 'v2.subscription.trial_period_expiring', subscriptionJson(sub));
}

// At the end of a period (or trial) the subscription ends if it was canceling or has run all its cycles; otherwise
// the next cycle's renewal invoice is charged.
function endPeriod(ctx: EmulatorContext, sub: SubscriptionRecord): void {
  if (sub.isCanceling || cyclesExhausted(sub)) {
    endSubscription(ctx, sub, sub.periodEnd);
    return;
  }
  const { state } = ctx;
  const amountMinor = sub.price.amountMinor * BigInt(sub.quantity);
  const trade: TradeRecord = {
    id: state.ids.id(),
    accessNo: sub.accessNo,
    subMerchantId: sub.subMerchantId,
    customerId: sub.customerId,
    orderId: sub.orderId,
    subscriptionId: sub.id,
    invoiceId: null,
    sessionId: null,
    amountMinor,
    currency: sub.price.currency,
    status: 'processing',
    paymentMode: 'recurring_payment',
    paymentToken: sub.paymentToken,
    paidAt: null,
    refundedMinor: 0n,
    lastPaymentError: null,
    metadata: {},
    createdAt: state.now,
  };
  state.trades.set(trade.id, trade);
  charge(ctx, sub, trade, renewalInvoice(ctx, sub, trade));
}

/** The open renewal invoice of the subscription's next cycle, paid by `trade` (linked both ways). */
export function renewalInvoice(ctx: EmulatorContext, sub: SubscriptionRecord, trade: TradeRecord): InvoiceRecord {
  const { state } = ctx;
  const cycle = sub.cycleIndex + 1;
  const invoice: InvoiceRecord = {
    id: state.ids.id(),
    accessNo: sub.accessNo,
    subMerchantId: sub.subMerchantId,
    subscriptionId: sub.id,
    customerId: sub.customerId,
    tradeId: trade.id,
    orderId: sub.orderId,
    amountMinor: trade.amountMinor,
    currency: trade.currency,
    status: 'open',
    invoiceType: 'renewal',
    cycleIndex: cycle,
    cycleStart: cycleStart(sub, cycle),
    cycleEnd: cycleEnd(sub, cycle),
    paidAt: null,
    refundedMinor: 0n,
    createdAt: state.now,
    updatedAt: state.now,
  };
  trade.invoiceId = invoice.id;
  state.invoices.set(invoice.id, invoice);
  return invoice;
}

/** A renewal invoice is paid: its cycle starts and the subscription is active (no subscription event of its own). */
export function startPaidCycle(ctx: EmulatorContext, sub: SubscriptionRecord, invoice: InvoiceRecord): void {
  const now = ctx.state.now;
  invoice.status = 'success';
  invoice.paidAt = now;
  invoice.updatedAt = now;
  sub.status = 'active';
  sub.cycleIndex = invoice.cycleIndex;
  sub.periodStart = invoice.cycleStart;
  sub.periodEnd = invoice.cycleEnd;
  sub.dunning = null;
  sub.updatedAt = now;
}

function retryCharge(ctx: EmulatorContext, sub: SubscriptionRecord): void {
  const dunning = sub.dunning;
  const trade = dunning && ctx.state.trades.get(dunning.tradeId);
  const invoice = dunning && ctx.state.invoices.get(dunning.invoiceId);
  if (sub.isCanceling || !trade || !invoice) {
    endSubscription(ctx, sub, ctx.state.now);
    return;
  }
  charge(ctx, sub, trade, invoice);
}

// One charge attempt of a renewal invoice. Success pays the invoice and starts its cycle (the subscription returns
// to active with no event of its own); failure starts or continues dunning: past_due on the first, unpaid after the
// last retry.
function charge(ctx: EmulatorContext, sub: SubscriptionRecord, trade: TradeRecord, invoice: InvoiceRecord): void {
  const now = ctx.state.now;
  const failure = ctx.chargeFailures.take();
  if (!failure) {
    trade.status = 'succeeded';
    trade.paidAt = now;
    trade.lastPaymentError = null;
    startPaidCycle(ctx, sub, invoice);
    emit(ctx, sub.accessNo, 'v2.trades.succeeded', tradeJson(trade));
    emit(ctx, sub.accessNo, 'v2.invoice.paid', invoiceJson(invoice));
    return;
  }
  trade.status = 'payment_failed';
  trade.lastPaymentError = failure;
  const failures = (sub.dunning?.failures ?? 0) + 1;
  if (failures > DUNNING_RETRIES) {
    // Final: the trade will not change any more, the invoice has failed, access ends.
    trade.status = 'closed';
    invoice.status = 'failed';
    invoice.updatedAt = now;
    sub.status = 'unpaid';
    sub.dunning = null;
    emit(ctx, sub.accessNo, 'v2.trades.payment_failed', tradeJson(trade));
    emit(ctx, sub.accessNo, 'v2.invoice.payment_failed', invoiceJson(invoice));
    touchAndEmit(ctx, sub, 'v2.subscription.unpaid');
    return;
  }
  sub.dunning = { invoiceId: invoice.id, tradeId: trade.id, failures, nextRetryAt: now + DUNNING_INTERVAL_MS };
  emit(ctx, sub.accessNo, 'v2.trades.payment_failed', tradeJson(trade));
  if (failures === 1) {
    sub.status = 'past_due';
    touchAndEmit(ctx, sub, 'v2.subscription.past_due');
  } else {
    sub.updatedAt = now;
  }
}
