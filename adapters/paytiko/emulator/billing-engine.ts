import type { EmulatorContext } from './context';
import { CHECKOUT_WINDOW_MS, completeMembership, expireMembership } from './membership-endings';
import { chargeProration } from './membership-updates';
import type { MembershipRecord } from './records';
import { renew, retryDunning } from './renewals';

// A bug that left an item due forever would hang a clock advance; this turns it into an error instead.
const MAX_STEPS = 1_000_000;

interface DueItem {
  at: number;
  run(): void;
}

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
  let ran = false;
  for (let step = 0; step < MAX_STEPS; step += 1) {
    const next = earliestDue(ctx, until);
    if (!next) {
      if (ctx.webhooks.deliverDueRetries(Math.min(until, ctx.state.now)) > 0) ran = true;
      return ran;
    }
    ran = true;
    ctx.state.at(Math.max(next.at, 0), () => next.run());
  }
  throw new Error('paytiko emulator: due work did not settle');
}

function earliestDue(ctx: EmulatorContext, until: number): DueItem | undefined {
  let best: DueItem | undefined;
  // Map order is creation order, so `<` keeps the older membership first on a tie.
  for (const m of ctx.state.memberships.values()) {
    for (const item of dueItems(ctx, m)) {
      if (item.at <= until && (!best || item.at < best.at)) best = item;
    }
  }
  return best;
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
