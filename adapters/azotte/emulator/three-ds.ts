import { EmulatorError, invalidInput, nothingAt } from '../../kit/emulator/errors';
import { answerChallenge, checkoutOfChallenge } from './checkout-lifecycle';
import type { EmulatorContext } from './context';
import type { CheckoutRecord } from './records';

/** The challenge still waiting for an answer; unknown → 404, already decided → 409 (item 46). */
export function openChallenge(ctx: EmulatorContext, threeDIdentifier: string): CheckoutRecord {
  const checkout = checkoutOfChallenge(ctx, threeDIdentifier);
  if (!checkout) throw nothingAt(`threeDIdentifier: no 3-D Secure challenge '${threeDIdentifier.slice(0, 64)}'`);
  if (checkout.state !== 'ThreeDs') {
    throw new EmulatorError(409, `threeDIdentifier: challenge '${threeDIdentifier.slice(0, 64)}' is already decided`);
  }
  return checkout;
}

/** Passes or fails a challenge (page button or control); answers the checkout's state after it. */
export function decideChallenge(ctx: EmulatorContext, threeDIdentifier: string, outcome: unknown): CheckoutRecord {
  if (outcome !== 'pass' && outcome !== 'fail') throw invalidInput('outcome', 'must be pass or fail');
  const checkout = openChallenge(ctx, threeDIdentifier);
  ctx.state.because({ actor: { type: 'C2A', id: checkout.tenant }, correlationId: checkout.correlationId }, () =>
    answerChallenge(ctx, checkout, outcome),
  );
  return checkout;
}

const escape = (text: string) => text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

/** The challenge page: Pass and Fail buttons posting `outcome` back to the same URL. */
export function challengePage(ctx: EmulatorContext, threeDIdentifier: string): string {
  const checkout = openChallenge(ctx, threeDIdentifier);
  const action = `${ctx.baseUrl}/3ds/${encodeURIComponent(threeDIdentifier)}`;
  return `<!doctype html><html><head><title>3-D Secure</title></head><body>
<h1>3-D Secure check</h1><p>Checkout ${escape(checkout.trackingNumber)}: ${escape(checkout.item.bundle.name)}</p>
<form method="post" action="${escape(action)}">
<button name="outcome" value="pass">Pass</button> <button name="outcome" value="fail">Fail</button>
</form></body></html>`;
}

/** What the page shows after a button. */
export function answeredPage(checkout: CheckoutRecord): string {
  const result = checkout.state === 'Done' ? 'passed: the payment is complete' : 'failed';
  return `<!doctype html><html><head><title>3-D Secure</title></head><body><h1>3-D Secure ${result}</h1>
<p>You can close this window.</p></body></html>`;
}
