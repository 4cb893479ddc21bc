import type { Failure } from '../../kit/emulator/faults';
import { chargeCard, nextChargeAmount, useCampaignCycle } from './charges';
import type { EmulatorContext } from './context';
import { revokeBundle } from './entitlements';
import { addPeriod } from './periods';
import { paymentOf } from './purchases';
import type { PaymentRecord, SubscriptionRecord } from './records';
import { emitPayment, emitStateAudit, emitSubscription } from './webhook-events';

const HOUR_MS = 3_600_000;
/** Dunning (item 33): a failed renewal is retried every 24 h, up to 3 times, then the subscription expires. */
export const DUNNING_INTERVAL_MS = 24 * HOUR_MS;
export const DUNNING_RETRIES = 3;

/** At `currentPeriodEnd` (or trial end): charge the stored card for the next period. */
export function renew(ctx: EmulatorContext, s: SubscriptionRecord): void {
  const failure = chargeCard(ctx, s.customerUrn, s.paymentMethodUrn);
  if (failure) {
    const payment = failedRenewal(ctx, s, failure);
    const before = s.state;
    s.state = 'PastDue';
    s.dunning = { retriesDone: 0, nextRetryAt: ctx.state.now + DUNNING_INTERVAL_MS };
    emitPayment(ctx, 'failed', payment, s);
    emitStateAudit(ctx, s, before);
    return;
  }
  startNextPeriod(ctx, s, 'captured');
}

/** A dunning retry: a capture recovers the subscription; the last failure expires it. */
export function retryDunning(ctx: EmulatorContext, s: SubscriptionRecord): void {
  const dunning = s.dunning;
  if (!dunning) return;
  dunning.retriesDone += 1;
  const failure = chargeCard(ctx, s.customerUrn, s.paymentMethodUrn);
  if (!failure) {
    s.dunning = null;
    startNextPeriod(ctx, s, 'recovered');
    return;
  }
  const payment = failedRenewal(ctx, s, failure);
  if (dunning.retriesDone < DUNNING_RETRIES) {
    dunning.nextRetryAt = ctx.state.now + DUNNING_INTERVAL_MS;
    emitPayment(ctx, 'failed', payment, s);
    return;
  }
  s.dunning = null;
  emitPayment(ctx, 'failed', payment, s);
  expire(ctx, s);
}

/** The period ended without renewal (EndOfPeriod cancel, dunning exhausted): entitlements end, then the state. */
export function expire(ctx: EmulatorContext, s: SubscriptionRecord): void {
  const before = s.state;
  s.state = 'Expired';
  s.endDate ??= ctx.state.now;
  s.endDate = Math.min(s.endDate, ctx.state.now);
  s.cancelRequest = null;
  revokeBundle(ctx, s);
  emitSubscription(ctx, 'expired', s, before);
  emitStateAudit(ctx, s, before);
}

// A captured renewal (or recovery): the period moves on, the campaign uses a cycle, the state is Active.
function startNextPeriod(ctx: EmulatorContext, s: SubscriptionRecord, type: 'captured' | 'recovered'): void {
  const before = s.state;
  const amount = nextChargeAmount(s);
  s.currentPeriodStart = s.currentPeriodEnd;
  s.currentPeriodEnd = addPeriod(s.currentPeriodStart, s.bundle.period.unit, s.bundle.period.count);
  s.state = 'Active';
  // A store subscription renews at its store: no payment here (item 47), only the new period.
  if (s.paymentMethodUrn !== null) {
    const payment = paymentOf(ctx, s, 'Renewal', amount);
    useCampaignCycle(s);
    emitPayment(ctx, type, payment, null);
  }
  s.paidCycles += 1;
  emitSubscription(ctx, 'renewed', s, before);
  if (before !== s.state) emitStateAudit(ctx, s, before);
}

// A failed renewal charge, for the period it would have paid.
function failedRenewal(ctx: EmulatorContext, s: SubscriptionRecord, failure: Failure): PaymentRecord {
  const payment = paymentOf(ctx, s, 'Renewal', nextChargeAmount(s), failure);
  payment.periodStart = s.currentPeriodEnd;
  payment.periodEnd = addPeriod(s.currentPeriodEnd, s.bundle.period.unit, s.bundle.period.count);
  return payment;
}
