/**
 * Cancel at period end, where the provider has none (features `cancelAtPeriodEnd: emulated`): we keep the flag
 * ourselves and our scheduler cancels at the provider just before the period boundary, so no renewal is charged.
 */
export const CANCEL_AT_PERIOD_END = 'subscription.cancel_at_period_end';

/** How long before the period end the provider is told: ahead of its renewal run, late enough to be the period's end. */
export const CANCEL_AHEAD_MS = 60_000;

/** When the scheduled cancellation runs for a period ending at `periodEnd` (now, when that is already past). */
export function cancellationDue(periodEnd: Date, now: Date): Date {
  return new Date(Math.max(now.getTime(), periodEnd.getTime() - CANCEL_AHEAD_MS));
}
