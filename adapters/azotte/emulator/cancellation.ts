import type { EmulatorContext } from './context';
import { entitlementsOf, revokeBundle } from './entitlements';
import type { SubscriptionRecord } from './records';
import { emitEntitlement, emitStateAudit, emitSubscription } from './webhook-events';

/**
 * A confirmed cancel (item 29): Immediate ends it now and revokes its entitlements; EndOfPeriod keeps access to
 * `currentPeriodEnd`, when the engine expires it, and says so on each bundle entitlement (`entitlement.updated`
 * with that end), so a holder sees when access ends without asking.
 */
export function cancel(ctx: EmulatorContext, s: SubscriptionRecord, method: 'Immediate' | 'EndOfPeriod'): void {
  const before = s.state;
  const now = ctx.state.now;
  s.state = 'Canceled';
  s.cancelationMethod = method;
  s.canceledAt = now;
  s.endDate = method === 'Immediate' ? now : Math.max(s.currentPeriodEnd, now);
  s.dunning = null;
  s.cancelRequest = null;
  emitSubscription(ctx, 'canceled', s, before);
  if (method === 'Immediate') revokeBundle(ctx, s);
  else endBundleAt(ctx, s, s.endDate);
  emitStateAudit(ctx, s, before);
}

/** Undoes an EndOfPeriod cancel (item 31): renewals resume; the next one makes it Active. */
export function reactivate(ctx: EmulatorContext, s: SubscriptionRecord): void {
  const before = s.state;
  s.state = 'Reactivated';
  s.endDate = null;
  s.cancelationMethod = null;
  s.canceledAt = null;
  emitSubscription(ctx, 'reactivated', s, before);
  endBundleAt(ctx, s, null);
  emitStateAudit(ctx, s, before);
}

/** Sets when the subscription's live bundle entitlements end (null: with the subscription) and sends each `updated`. */
function endBundleAt(ctx: EmulatorContext, s: SubscriptionRecord, activeUntil: number | null): void {
  for (const e of entitlementsOf(ctx, s.orderIdentifier)) {
    e.activeUntil = activeUntil;
    emitEntitlement(ctx, 'updated', e);
  }
}
