import type { CheckoutSession } from '../../domain/checkout-session';

/** Scheduled for a checkout the provider is still working on (server-to-server: processing, a 3-D Secure step). */
export const CHECKOUT_POLL = 'checkout.poll';

/** Without the provider's Retry-After, ask again this soon; never sooner than a second, never later than a minute. */
const DEFAULT_POLL_MS = 10_000;
const MIN_POLL_MS = 1_000;
const MAX_POLL_MS = 60_000;

/** When to ask the provider about a session next: its Retry-After (`checkAt`), kept within sane bounds. */
export function nextCheckoutPoll(session: Pick<CheckoutSession, 'checkAt'>, now: Date): Date {
  const hinted = session.checkAt ? session.checkAt.getTime() - now.getTime() : NaN;
  // An invalid date's NaN would pass through min and max: no usable hint is the default.
  const wanted = Number.isFinite(hinted) ? hinted : DEFAULT_POLL_MS;
  return new Date(now.getTime() + Math.min(MAX_POLL_MS, Math.max(MIN_POLL_MS, wanted)));
}
