import type { Subscription } from '../../domain/subscription';
import type { ProviderEvent } from '../../ports/provider-adapter.port';
import type { Repositories } from '../../ports/store.port';
import type { EventOrigin } from './event-origin';
import { peekSubscription } from './object-lookup';

/** Where an event names a subscription: its provider reference (and the one it replaced) and/or our order id. */
function subscriptionNamedBy(
  event: ProviderEvent,
): { ref?: string; orderId?: string; previousRef?: string } | undefined {
  switch (event.kind) {
    case 'subscription':
      return {
        ref: event.subscription.ref,
        orderId: event.subscription.orderId,
        previousRef: event.subscription.previousRef,
      };
    case 'payment':
      return { ref: event.payment.subscriptionRef, orderId: event.payment.orderId };
    case 'invoice':
      return { ref: event.invoice.subscriptionRef, orderId: event.invoice.orderId };
    case 'entitlement':
      return { ref: event.entitlement.subscriptionRef };
    case 'discount':
      return { ref: event.discount.subscriptionRef };
    case 'changed':
      return event.object === 'subscription' ? { ref: event.ref || undefined, orderId: event.orderId } : undefined;
    default:
      return undefined;
  }
}

/**
 * The storefront's subscriptions a webhook's events touch, looked up without a lock. After a gap in the provider's
 * sequence, each of them is asked about first and brought to the provider's current state after the events, so
 * whatever the missing webhooks would have changed is caught up.
 */
export async function touchedSubscriptions(
  repos: Repositories,
  origin: EventOrigin,
  events: readonly ProviderEvent[],
): Promise<Subscription[]> {
  const found = new Map<string, Subscription>();
  for (const event of events) {
    const named = subscriptionNamedBy(event);
    if (!named || (!named.ref && !named.orderId)) continue;
    const subscription = await peekSubscription(repos, origin, named.ref, named.orderId, named.previousRef);
    if (subscription) found.set(subscription.id, subscription);
  }
  return [...found.values()];
}
