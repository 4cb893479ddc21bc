import { type DueItem, earliestDue, runDueWork } from '../../kit/emulator/due-work';
import type { EmulatorContext } from './context';
import { CHECKOUT_WINDOW_MS, completeMembership, expireMembership } from './membership-endings';
import { chargeProration } from './membership-updates';
import type { MembershipRecord } from './records';
import { renew, retryDunning } from './renewals';

/** Moves the clock `ms` on, processing every piece of due work in time order on the way, then due webhook retries. */
export function advanceClock(ctx: EmulatorContext, ms: number): void {
  runDue(ctx, ctx.state.now + ms);
  ctx.state.clock.advance(ms);
  ctx.webhooks.deliverDueRetries(ctx.state.now);
  ctx.changed();
}

/**
 * Processes work due at or before `until` (default now), earliest first, the clock showing each item's own time
 * while it runs; then queues webhook retries due by now. Runs before and after each request and on a timer, since
 * wall time moves the clock too. Answers whether anything ran.
 */
export function runDue(ctx: EmulatorContext, until = ctx.state.now): boolean {
  // Each item runs at its own due time, even one that fell due before now (wall time moved past it between ticks).
  const ran = runDueWork(
    () => earliestDue(ctx.state.memberships.values(), (m) => dueItems(ctx, m), until),
    (item) => ctx.state.at(Math.max(item.at, 0), () => item.run()),
    'paytiko emulator',
  );
  const retried = ctx.webhooks.deliverDueRetries(Math.min(until, ctx.state.now));
  return ran > 0 || retried > 0;
}

function dueItems(ctx: EmulatorContext, m: MembershipRecord): DueItem[] {
  const items: DueItem[] = [];
  if (m.status === 'Incomplete') {
    items.push({ at: m.createdAt + CHECKOUT_WINDOW_MS, run: () => expireMembership(ctx, m) });
    return items;
  }
  if (m.status !== 'Active' && m.status !== 'PastDue') return items;
  if (m.pendingUpdate?.invoiceKey) items.push({ at: m.pendingUpdate.chargeAt, run: () => chargeProration(ctx, m) });
  if (m.endDate !== null) items.push({ at: m.endDate, run: () => completeMembership(ctx, m) });
  const periodEnd = m.currentPeriodEnd;
  // No cycle starts at or after endDate; a PastDue membership renews once its dunning is settled.
  if (m.status === 'Active' && periodEnd !== null && (m.endDate === null || periodEnd < m.endDate)) {
    items.push({ at: periodEnd, run: () => renew(ctx, m) });
  }
  if (m.status === 'PastDue' && m.dunning) items.push({ at: m.dunning.nextRetryAt, run: () => retryDunning(ctx, m) });
  return items;
}
