import { emit, type EmulatorContext } from './context';
import { invalidState } from './errors';
import type { SubscriptionRecord, SubscriptionStatus } from './records';
import { subscriptionJson } from './wire';

const CANCELABLE: readonly SubscriptionStatus[] = ['trial', 'active', 'past_due'];

/** Cancels at period end (cancellation_requested) or now (canceled). Allowed in trial, active and past_due. */
export function cancelSubscription(
  ctx: EmulatorContext,
  sub: SubscriptionRecord,
  type: 'end_of_period' | 'immediate',
  reason: string,
): void {
  if (!CANCELABLE.includes(sub.status)) {
    throw invalidState(`subscription '${sub.id}' is ${sub.status}; cancel needs trial, active or past_due`);
  }
  if (type === 'immediate') {
    endSubscription(ctx, sub, ctx.state.now, reason);
    return;
  }
  if (sub.isCanceling) throw invalidState(`subscription '${sub.id}' is already canceling at period end`);
  sub.isCanceling = true;
  sub.cancelAt = sub.periodEnd;
  sub.cancelReason = reason;
  touchAndEmit(ctx, sub, 'v2.subscription.cancellation_requested');
}

/** Undoes a pending end-of-period cancellation. */
export function revokeCancellation(ctx: EmulatorContext, sub: SubscriptionRecord): void {
  if (!sub.isCanceling) throw invalidState(`subscription '${sub.id}' has no pending cancellation to revoke`);
  sub.isCanceling = false;
  sub.cancelAt = null;
  sub.cancelReason = '';
  touchAndEmit(ctx, sub, 'v2.subscription.cancellation_revoked');
}

/** Pauses, as the merchant would in the dashboard (there is no API for it). Allowed in trial and active. */
export function pauseSubscription(ctx: EmulatorContext, sub: SubscriptionRecord): void {
  if (sub.status !== 'trial' && sub.status !== 'active') {
    throw invalidState(`subscription '${sub.id}' is ${sub.status}; pause needs trial or active`);
  }
  sub.status = 'paused';
  touchAndEmit(ctx, sub, 'v2.subscription.paused');
}

/** Resumes a paused subscription to active. A renewal that fell due while paused is charged by the caller's runDue. */
export function resumeSubscription(ctx: EmulatorContext, sub: SubscriptionRecord): void {
  if (sub.status !== 'paused') throw invalidState(`subscription '${sub.id}' is ${sub.status}; resume needs paused`);
  sub.status = 'active';
  touchAndEmit(ctx, sub, 'v2.subscription.resumed');
}

/** Terminates the subscription at `at` and sends v2.subscription.canceled. */
export function endSubscription(ctx: EmulatorContext, sub: SubscriptionRecord, at: number, reason?: string): void {
  sub.status = 'canceled';
  sub.isCanceling = false;
  sub.cancelAt = at;
  if (reason !== undefined) sub.cancelReason = reason;
  sub.dunning = null;
  touchAndEmit(ctx, sub, 'v2.subscription.canceled');
}

/** Stamps updated_at and sends the subscription webhook `type`. */
export function touchAndEmit(ctx: EmulatorContext, sub: SubscriptionRecord, type: string): void {
  sub.updatedAt = ctx.state.now;
  emit(ctx, sub.accessNo, type, subscriptionJson(sub));
}
