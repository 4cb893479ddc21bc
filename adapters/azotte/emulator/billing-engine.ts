import { type DueItem, earliestDue, runDueWork } from '../../kit/emulator/due-work';
import { challengeTimedOut, decide } from './checkout-lifecycle';
import type { EmulatorContext } from './context';
import { revoke } from './entitlements';
import { prefixedId } from './ids';
import type { CheckoutRecord, EntitlementRecord, SubscriptionRecord } from './records';
import type { Cause } from './state';
import { expire, renew, retryDunning } from './renewals';

/** Moves the clock `ms` on, processing every piece of due work in time order on the way, then due webhook retries. */
export function advanceClock(ctx: EmulatorContext, ms: number): void {
  runDue(ctx, ctx.state.now + ms);
  ctx.state.clock.advance(ms);
  ctx.webhooks.deliverDueRetries(ctx.state.now);
  ctx.changed();
}

/**
 * Processes work due at or before `until` (default now), earliest first, the clock showing each item's own time;
 * then queues webhook retries due by now. Runs before and after each request and on a timer (wall time moves the
 * clock too). Answers whether anything ran.
 */
export function runDue(ctx: EmulatorContext, until = ctx.state.now): boolean {
  const { checkouts, subscriptions, entitlements } = ctx.state;
  // The earliest of each kind's earliest; on a tie checkouts go first, then subscriptions, then entitlements.
  const next = () =>
    earliestDue(
      [
        earliestDue(checkouts.values(), (c) => checkoutItems(ctx, c), until),
        earliestDue(subscriptions.values(), (s) => subscriptionItems(ctx, s), until),
        earliestDue(entitlements.values(), (e) => entitlementItems(ctx, e), until),
      ],
      (item) => (item ? [item] : []),
      until,
    );
  const ran = runDueWork(next, (item) => ctx.state.at(Math.max(item.at, 0), () => item.run()), 'azotte emulator');
  const retried = ctx.webhooks.deliverDueRetries(Math.min(until, ctx.state.now));
  return ran > 0 || retried > 0;
}

// A checkout's decision stems from its API call: its events carry the checkout's correlationId (item 35).
function checkoutItems(ctx: EmulatorContext, c: CheckoutRecord): DueItem[] {
  const cause: Cause = { actor: { type: 'C2A', id: c.tenant }, correlationId: c.correlationId };
  if (c.state === 'Processing') return [{ at: c.decideAt, run: () => ctx.state.because(cause, () => decide(ctx, c)) }];
  if (c.state === 'ThreeDs' && c.threeDs) {
    return [{ at: c.threeDs.deadline, run: () => ctx.state.because(cause, () => challengeTimedOut(ctx, c)) }];
  }
  return [];
}

// Clock steps: each is its own cause, with an id of its own as the events' correlationId.
const step = (ctx: EmulatorContext, task: () => void) => () =>
  ctx.state.because(
    { actor: { type: 'System', id: 'scheduler' }, correlationId: prefixedId('step_', ctx.state.now) },
    task,
  );

function subscriptionItems(ctx: EmulatorContext, s: SubscriptionRecord): DueItem[] {
  if (s.state === 'Trial' || s.state === 'Active' || s.state === 'Reactivated') {
    return [{ at: s.currentPeriodEnd, run: step(ctx, () => renew(ctx, s)) }];
  }
  if (s.state === 'PastDue' && s.dunning)
    return [{ at: s.dunning.nextRetryAt, run: step(ctx, () => retryDunning(ctx, s)) }];
  if (s.state === 'Canceled' && s.cancelationMethod === 'EndOfPeriod' && s.endDate !== null) {
    return [{ at: s.endDate, run: step(ctx, () => expire(ctx, s)) }];
  }
  return [];
}

// A live Grant with an `activeUntil` (its `active_until`, item 47) ends then: `entitlement.revoked`. A bundle
// entitlement's `activeUntil` (set by an EndOfPeriod cancel) only tells when; it ends with its subscription's expiry.
function entitlementItems(ctx: EmulatorContext, e: EntitlementRecord): DueItem[] {
  if (e.revoked || e.activeUntil === null || e.source !== 'Grant') return [];
  return [{ at: e.activeUntil, run: step(ctx, () => revoke(ctx, e)) }];
}
