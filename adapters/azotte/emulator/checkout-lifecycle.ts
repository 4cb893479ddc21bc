import type { EmulatorContext } from './context';
import { prefixedId } from './ids';
import { completePurchase } from './purchases';
import type { CheckoutRecord } from './records';

const MINUTE_MS = 60_000;
/** An unanswered 3-D Secure challenge fails the checkout after 15 minutes (item 25). */
export const THREE_DS_TIMEOUT_MS = 15 * MINUTE_MS;
/** How often to poll while waiting for 3-D Secure (item 24). */
const THREE_DS_RETRY_AFTER_SECONDS = 5;

const THREE_DS_FAILED = { code: 'CARD_DECLINED', message: '3-D Secure authentication failed' };

/** The processing delay is over: a card with 3-D Secure asks for it, any other is charged now. */
export function decide(ctx: EmulatorContext, checkout: CheckoutRecord): void {
  if (checkout.state !== 'Processing') return;
  const method = ctx.state.method(checkout.customerUrn, checkout.paymentMethodUrn);
  if (method && method.threeDs !== 'none') {
    checkout.state = 'ThreeDs';
    checkout.threeDs = {
      id: prefixedId('3ds_', ctx.state.now),
      mode: method.threeDs,
      deadline: ctx.state.now + THREE_DS_TIMEOUT_MS,
    };
    return;
  }
  completePurchase(ctx, checkout);
}

/** The checkout waiting for this 3-D Secure challenge, whatever its state now. */
export function checkoutOfChallenge(ctx: EmulatorContext, threeDIdentifier: string): CheckoutRecord | undefined {
  for (const checkout of ctx.state.checkouts.values()) if (checkout.threeDs?.id === threeDIdentifier) return checkout;
  return undefined;
}

/** The shopper passed or failed the challenge (page or control, item 46); a pass charges the card. */
export function answerChallenge(ctx: EmulatorContext, checkout: CheckoutRecord, outcome: 'pass' | 'fail'): void {
  if (outcome === 'pass') {
    completePurchase(ctx, checkout);
    return;
  }
  checkout.state = 'Failed';
  checkout.failure = { ...THREE_DS_FAILED };
}

/** Nobody answered the challenge in time. */
export function challengeTimedOut(ctx: EmulatorContext, checkout: CheckoutRecord): void {
  if (checkout.state === 'ThreeDs') answerChallenge(ctx, checkout, 'fail');
}

/** Seconds until polling is worth it (the `Retry-After` header), or null once the checkout is decided. */
export function retryAfterSeconds(ctx: EmulatorContext, checkout: CheckoutRecord): number | null {
  if (checkout.state === 'ThreeDs') return THREE_DS_RETRY_AFTER_SECONDS;
  if (checkout.state !== 'Processing') return null;
  return Math.max(1, Math.ceil((checkout.decideAt - ctx.state.now) / 1000));
}
