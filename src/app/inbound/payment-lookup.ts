import type { Payment } from '../../domain/payment';
import type { Subscription } from '../../domain/subscription';
import type { ProviderPaymentState } from '../../ports/provider-adapter.port';
import type { Repositories } from '../../ports/store.port';
import { EventOrigin, ForeignOrUnknownObject, NotYetRecorded, ourOrderId } from './event-origin';
import { peekSubscription, subscriptionOf } from './object-lookup';

/** The payment a provider report is about (when we have it) and the subscription it belongs to (when it has one). */
export interface PaymentScope {
  payment?: Payment;
  subscription?: Subscription;
}

/**
 * Finds what a payment report is about: the payment by the provider's reference or our order id, and its
 * subscription (a new payment's by the provider's references). With `lock`, the subscription is locked before the
 * payment — the one order in which the two are ever both locked, as when a sweep or webhook holding the subscription
 * records the payments the provider showed with it — and a report about another storefront's payment, or about no
 * subscription of this storefront, is ForeignOrUnknownObject (NotYetRecorded when it names an order of ours, a
 * subscription's or a payment's, that no storefront has yet); a payment it does not find is to be recorded with
 * `insertUnlessHeld`, and `recordedMeanwhile` when that finds it held. Without, nothing is locked, written or refused.
 */
export async function paymentScope(
  repos: Repositories,
  origin: EventOrigin,
  state: ProviderPaymentState,
  lock: boolean,
): Promise<PaymentScope> {
  // Unlocked first, only to learn which subscription to lock: by the reference whichever storefront holds it, one read
  // for ours and for another's.
  const holder = await repos.payments.holdingProviderRef(origin.provider, state.ref);
  const seen = holder?.storefrontId === origin.storefront.id ? holder : await byOrderId(repos, origin, state, false);
  // Not found by its reference here, yet the reference is taken: it is another storefront's payment.
  if (holder && !seen?.providerRef) {
    if (!lock) return {};
    throw new ForeignOrUnknownObject('payment', `${origin.provider}:${state.ref}`);
  }
  // Our one-off payment's order id, yet no storefront has that payment: our checkout has not committed it yet.
  if (!seen && state.orderId && ourOrderId(state.orderId, 'pay') && !(await repos.payments.get(state.orderId))) {
    if (!lock) return {};
    throw new NotYetRecorded('payment', state.orderId);
  }
  let subscription: Subscription | undefined;
  if (seen?.subscriptionId) {
    subscription = await repos.subscriptions.get(seen.subscriptionId, { forUpdate: lock });
  } else if (!seen) {
    const { subscriptionRef, orderId } = state;
    subscription = lock
      ? await subscriptionOf(repos, origin, subscriptionRef, orderId)
      : await peekSubscription(repos, origin, subscriptionRef, orderId);
  }
  // Locked after its subscription; a payment recorded meanwhile (the same report, racing) is found now. Where none was
  // there to see, by the reference or by an order id of one of our payments, the insert finds one recorded meanwhile
  // by its reference instead (recordedMeanwhile), so a new payment costs no read here.
  const payment = lock && (seen || namesPaymentOrder(state)) ? await findPayment(repos, origin, state, true) : seen;
  return { payment, subscription };
}

/**
 * The payment with this reference that another transaction recorded after paymentScope looked (a new payment's insert
 * found the reference held), locked; ForeignOrUnknownObject when it is another storefront's.
 */
export async function recordedMeanwhile(
  repos: Repositories,
  origin: EventOrigin,
  state: ProviderPaymentState,
): Promise<Payment> {
  const payment = await findPayment(repos, origin, state, true);
  if (!payment) throw new ForeignOrUnknownObject('payment', `${origin.provider}:${state.ref}`);
  return payment;
}

async function findPayment(
  repos: Repositories,
  origin: EventOrigin,
  state: ProviderPaymentState,
  forUpdate: boolean,
): Promise<Payment | undefined> {
  const byRef = await repos.payments.findByProviderRef(origin.storefront.id, origin.provider, state.ref, { forUpdate });
  return byRef ?? byOrderId(repos, origin, state, forUpdate);
}

/** The storefront's payment our order id names, when the report carries one of ours. */
async function byOrderId(
  repos: Repositories,
  origin: EventOrigin,
  state: ProviderPaymentState,
  forUpdate: boolean,
): Promise<Payment | undefined> {
  if (!namesPaymentOrder(state)) return undefined;
  return repos.payments.get(state.orderId!, { forUpdate, storefrontId: origin.storefront.id });
}

/** Whether the report's order id names a one-off payment order (then byOrderId looks it up). */
function namesPaymentOrder(state: ProviderPaymentState): boolean {
  return state.orderId?.startsWith('pay_') === true;
}
