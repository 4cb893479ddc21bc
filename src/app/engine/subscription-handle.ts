import type { Subscription } from '../../domain/subscription';
import type { SubscriptionHandle } from '../../ports/provider-adapter.port';
import type { Repositories } from '../../ports/store.port';

/** How the pinned provider knows a subscription: our id (its order id) and the references we learned. */
export async function handleOf(repos: Repositories, subscription: Subscription): Promise<SubscriptionHandle> {
  const provider = subscription.provider;
  const [customer, plan] = await Promise.all([
    repos.customers.get(subscription.customerId),
    repos.plans.get(subscription.planId),
  ]);
  return {
    id: subscription.id,
    providerRef: subscription.providerRef,
    customerRef: customer?.providerRefs[provider],
    planRef: plan?.providerRefs[provider],
  };
}

/**
 * The subscription with the provider's reference it was just reported under: remembered on first sight, or moved
 * when the provider re-issued the subscription (an upgrade that replaces it). Unchanged when it is the same, and when
 * another subscription (of any storefront) already has that reference: two rows never share one.
 */
export async function followProviderRef(
  repos: Repositories,
  subscription: Subscription,
  ref: string,
): Promise<Subscription> {
  if (!ref || subscription.providerRef === ref) return subscription;
  if (await repos.subscriptions.providerRefInUse(subscription.provider, ref)) return subscription;
  const next = { ...subscription, providerRef: ref };
  await repos.subscriptions.update(next);
  return next;
}
