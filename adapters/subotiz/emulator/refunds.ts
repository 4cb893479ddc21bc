import { emit, type EmulatorContext } from './context';
import { invalidParameter } from './errors';
import { formatAmount, parseAmount } from './money';
import type { RefundRecord, TradeRecord } from './records';
import type { EmulatorMerchant } from './types';
import { type Body, metadata, optionalString, requiredString } from './validation';
import { invoiceJson, refundJson } from './wire';

/**
 * Creates a pending refund of a succeeded trade. The refundable balance counts refunds still pending, so two quick
 * refunds cannot together exceed the trade. It settles `refundSettleMs` later (wall clock).
 */
export function createRefund(ctx: EmulatorContext, merchant: EmulatorMerchant, body: Body): RefundRecord {
  const { state } = ctx;
  const tradeId = requiredString(body, 'trade_id', 64);
  const trade = state.owned(state.trades, tradeId, merchant.accessNo);
  if (!trade) throw invalidParameter('trade_id', `trade '${tradeId}' not found`);
  if (trade.status !== 'succeeded') {
    throw invalidParameter('trade_id', `trade '${tradeId}' is ${trade.status}; only succeeded trades can be refunded`);
  }
  const amountMinor = parseAmount(body.amount, trade.currency, 'amount');
  if (amountMinor <= 0n) throw invalidParameter('amount', 'must be greater than zero');
  const balance = refundableBalance(ctx, trade);
  if (amountMinor > balance) {
    throw invalidParameter(
      'amount',
      `${formatAmount(amountMinor, trade.currency)} exceeds the refundable balance ${formatAmount(balance, trade.currency)}`,
    );
  }
  const refund: RefundRecord = {
    id: state.ids.id(),
    accessNo: merchant.accessNo,
    subMerchantId: merchant.subMerchantId,
    tradeId: trade.id,
    amountMinor,
    currency: trade.currency,
    status: 'pending',
    reason: optionalString(body, 'reason', 500) ?? '',
    metadata: body.metadata === undefined || body.metadata === null ? null : metadata(body),
    failureReason: null,
    willFail: ctx.refundFailures.take() ?? null,
    finishedAt: null,
    createdAt: state.now,
  };
  state.refunds.set(refund.id, refund);
  ctx.work.later(ctx.refundSettleMs, () => settleRefund(ctx, refund));
  return refund;
}

/** Settles refunds a previous run left pending (after a restart from the state file). */
export function resumePendingRefunds(ctx: EmulatorContext): void {
  for (const refund of ctx.state.refunds.values()) {
    if (refund.status === 'pending') ctx.work.later(ctx.refundSettleMs, () => settleRefund(ctx, refund));
  }
}

/** Trade amount minus what is refunded and what is pending. */
function refundableBalance(ctx: EmulatorContext, trade: TradeRecord): bigint {
  let pending = 0n;
  for (const refund of ctx.state.refunds.values()) {
    if (refund.tradeId === trade.id && refund.status === 'pending') pending += refund.amountMinor;
  }
  return trade.amountMinor - trade.refundedMinor - pending;
}

// Success updates the trade's refund totals (refunds.succeeded) and, for a subscription's trade, its invoice
// (invoice.refunded); an armed failure reports refunds.failed and leaves the balance untouched.
function settleRefund(ctx: EmulatorContext, refund: RefundRecord): void {
  const { state } = ctx;
  if (state.refunds.get(refund.id) !== refund || refund.status !== 'pending') return;
  ctx.changed();
  refund.finishedAt = state.now;
  if (refund.willFail) {
    refund.status = 'failed';
    refund.failureReason = refund.willFail;
    emit(ctx, refund.accessNo, 'v2.refunds.failed', refundJson(refund));
    return;
  }
  refund.status = 'succeeded';
  const trade = state.trades.get(refund.tradeId);
  if (trade) trade.refundedMinor += refund.amountMinor;
  emit(ctx, refund.accessNo, 'v2.refunds.succeeded', refundJson(refund));
  const invoice = trade?.invoiceId ? state.invoices.get(trade.invoiceId) : undefined;
  if (!invoice) return;
  invoice.refundedMinor += refund.amountMinor;
  invoice.status = invoice.refundedMinor >= invoice.amountMinor ? 'refunded' : 'partially_refunded';
  invoice.updatedAt = state.now;
  emit(ctx, refund.accessNo, 'v2.invoice.refunded', invoiceJson(invoice));
}
