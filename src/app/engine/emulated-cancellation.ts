import { isTerminal, Subscription } from '../../domain/subscription';
import type { ObservedSubscription } from '../../domain/subscription-lifecycle';
import type { Repositories } from '../../ports/store.port';

/**
 * Cancel at period end, where the provider has none (features `cancelAtPeriodEnd: emulated`): we keep the flag
 * ourselves and our scheduler cancels at the provider just before the period boundary, so no renewal is charged.
 */
export const CANCEL_AT_PERIOD_END = 'subscription.cancel_at_period_end';

/** How long before the period end the provider is told: ahead of its renewal run, late enough to be the period's end. */
export const CANCEL_AHEAD_MS = 60_000;

/**
 * The scheduled cancellation's payload key saying the provider already ended the subscription (its cancel came before
 * our period end): nothing is sent to the provider any more, and the cancellation can no longer be revoked.
 */
export const PROVIDER_CANCELED_AT = 'provider_canceled_at';

/**
 * The scheduled cancellation's payload key saying the job is telling (or told) the provider to cancel: written under the
 * subscription's lock before the provider is called, so from then on the cancellation can no longer be revoked (a
 * revoke racing the job would otherwise be answered as done while the provider cancels anyway).
 */
export const PROVIDER_CANCEL_SENT_AT = 'provider_cancel_sent_at';

/**
 * The latest scheduled cancellation of the subscription, whatever its status: one that used up its attempts after the
 * provider was told still carries that marker, which must neither let a revoke through nor be lost when it is
 * scheduled again.
 */
export function latestCancellation(repos: Pick<Repositories, 'scheduledActions'>, subscriptionId: string) {
  return repos.scheduledActions.latest(CANCEL_AT_PERIOD_END, subscriptionId);
}

/** When the scheduled cancellation runs for a period ending at `periodEnd` (now, when that is already past). */
export function cancellationDue(periodEnd: Date, now: Date): Date {
  return new Date(Math.max(now.getTime(), periodEnd.getTime() - CANCEL_AHEAD_MS));
}

/** When the provider already cancelled (recorded on the scheduled cancellation), or undefined. */
export function providerCanceledAt(payload: Record<string, unknown> | undefined): string | undefined {
  const at = payload?.[PROVIDER_CANCELED_AT];
  return typeof at === 'string' ? at : undefined;
}

/** When the job started telling the provider to cancel (recorded on the scheduled cancellation), or undefined. */
export function providerCancelSentAt(payload: Record<string, unknown> | undefined): string | undefined {
  const at = payload?.[PROVIDER_CANCEL_SENT_AT];
  return typeof at === 'string' ? at : undefined;
}

/**
 * A provider report of CANCELED for a subscription whose emulated cancel at period end is scheduled, before our
 * period end: the customer paid for the whole period, so it is held (status unchanged, still entitled) and the
 * scheduled cancellation, marked as done at the provider, ends it at `current_period_end`. A CANCELED reported once
 * our period is over ends it, dated at `current_period_end`. Any other report is returned as it is.
 */
export async function holdUntilPeriodEnd(
  repos: Repositories,
  current: Subscription,
  observed: ObservedSubscription,
  now: Date,
): Promise<ObservedSubscription> {
  const end = current.currentPeriodEnd;
  if (observed.status !== 'CANCELED' || !current.cancelAtPeriodEnd || isTerminal(current.status)) return observed;
  if (!end) return observed;
  // Reported once our period is over (a webhook that waited, a sweep): it ends, but at the end of the period the
  // customer paid for, not at the moment the provider cancelled (ahead of the boundary, by our own job or not).
  if (end <= now) return { ...observed, endedAt: end };
  // Whatever its status: markers of one that ran out of attempts are carried into the one scheduled again.
  const latest = await latestCancellation(repos, current.id);
  const pending = latest?.status === 'pending' ? latest : undefined;
  if (!providerCanceledAt(pending?.payload) || pending?.dueAt.getTime() !== end.getTime()) {
    await repos.scheduledActions.schedule({
      kind: CANCEL_AT_PERIOD_END,
      subjectId: current.id,
      storefrontId: current.storefrontId,
      dueAt: end,
      payload: {
        ...latest?.payload,
        [PROVIDER_CANCELED_AT]: providerCanceledAt(latest?.payload) ?? (observed.canceledAt ?? now).toISOString(),
      },
    });
  }
  return { status: current.status, observedAt: observed.observedAt };
}

/**
 * A renewal the provider made past our period end while our emulated cancel at period end is set (the scheduled
 * cancellation came late: the service was down across the boundary, say): the customer asked not to be renewed, so
 * the new period is not applied — no `renewed`, no access beyond the period paid for, whether a webhook or a sweep
 * saw it first. The scheduled cancellation still ends ours at our period end and refunds the charge where the
 * provider can, else reports it (late-cancellation-renewal); it is scheduled again if it had run out of attempts.
 * The rest of the report (plan, quantity) applies as usual. A period the provider reports with no start counts as
 * a renewal when it ends after ours.
 */
export async function withholdRenewal(
  repos: Repositories,
  current: Subscription,
  observed: ObservedSubscription,
  now: Date,
): Promise<ObservedSubscription> {
  const end = current.currentPeriodEnd;
  if (!end || !current.cancelAtPeriodEnd || isTerminal(current.status) || isTerminal(observed.status)) return observed;
  const renewed = observed.currentPeriodStart
    ? observed.currentPeriodStart >= end
    : observed.currentPeriodEnd !== undefined && observed.currentPeriodEnd > end;
  if (!renewed) return observed;
  const latest = await latestCancellation(repos, current.id);
  if (latest?.status !== 'pending') {
    // Scheduled again with what the last one knew (that the provider was told, the reason), not from scratch.
    await repos.scheduledActions.schedule({
      kind: CANCEL_AT_PERIOD_END,
      subjectId: current.id,
      storefrontId: current.storefrontId,
      dueAt: now,
      payload: latest?.payload,
    });
  }
  const { currentPeriodStart: _start, currentPeriodEnd: _end, trialEnd: _trial, ...rest } = observed;
  return { ...rest, status: current.status };
}
