import type { Failure } from './payment';

/** Where a checkout stands: hosted ones are OPEN until paid; server-to-server ones PROCESSING, maybe ACTION_REQUIRED. */
export const CHECKOUT_SESSION_STATUSES = [
  'OPEN',
  'PROCESSING',
  'ACTION_REQUIRED',
  'COMPLETE',
  'EXPIRED',
  'FAILED',
] as const;
export type CheckoutSessionStatus = (typeof CHECKOUT_SESSION_STATUSES)[number];

/** What the customer must do next: go to a page (hosted, embedded SDK session, 3-D Secure), or see our caller's HTML. */
export type CheckoutNextAction = { redirectUrl: string } | { html: string };

/**
 * Our record of one checkout at a provider (`cs_…`), for one subscription or one payment. The provider's session
 * ref is unique per provider, so a replayed checkout finds the session the first attempt recorded.
 */
export interface CheckoutSession {
  id: string;
  storefrontId: string;
  provider: string;
  providerRef: string;
  /** What it sells: exactly one of these. */
  subscriptionId?: string;
  paymentId?: string;
  status: CheckoutSessionStatus;
  /** Only while the customer has something to do. */
  nextAction?: CheckoutNextAction;
  /** When the provider stops taking payment on it, when it said. */
  expiresAt?: Date;
  /** When to ask the provider again (its Retry-After for a checkout still processing). */
  checkAt?: Date;
  failure?: Failure;
  createdAt: Date;
  updatedAt: Date;
}

/** COMPLETE, EXPIRED and FAILED never change again. */
export function isFinalCheckout(status: CheckoutSessionStatus): boolean {
  return status === 'COMPLETE' || status === 'EXPIRED' || status === 'FAILED';
}

/** The page a next action sends the customer to, or '' (HTML is shown, not visited). */
export function redirectUrlOf(action: CheckoutNextAction | undefined): string {
  return action && 'redirectUrl' in action ? action.redirectUrl : '';
}
