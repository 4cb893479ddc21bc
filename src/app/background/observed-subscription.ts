import type { Subscription } from '../../domain/subscription';
import type { ProviderSubscriptionState } from '../../ports/provider-adapter.port';
import type { Repositories } from '../../ports/store.port';
import { applySubscriptionState } from '../engine/subscription-changes';
import type { SweepDeps, SweepLink } from './sweep';

/**
 * Applies a subscription state fetched earlier to the locked row, through the state machine: a state older than
 * what webhooks brought meanwhile is stale and changes nothing, so events are never doubled. The provider reference
 * is remembered on first sight; a plan reference we know becomes the plan (changed at the provider, e.g. its portal).
 */
export async function applyFetchedSubscription(
  deps: SweepDeps,
  repos: Repositories,
  link: SweepLink,
  locked: Subscription,
  fresh: ProviderSubscriptionState,
): Promise<string> {
  let current = locked;
  if (!current.providerRef) {
    current = { ...current, providerRef: fresh.ref };
    await repos.subscriptions.update(current);
  }
  const now = deps.clock.now();
  const { result } = await applySubscriptionState(
    repos,
    link.origin.storefront,
    current,
    { ...fresh, planId: await planOf(repos, link, current, fresh.planRef), observedAt: fresh.observedAt ?? now },
    link.source,
    now,
  );
  return result.outcome === 'refused' ? `provider state refused: ${result.reason}` : `reconciled: ${result.outcome}`;
}

/** Our plan for a reported plan reference; undefined (the plan stays) when absent, unchanged or unknown to us. */
async function planOf(
  repos: Repositories,
  link: SweepLink,
  subscription: Subscription,
  planRef: string | undefined,
): Promise<string | undefined> {
  if (!planRef) return undefined;
  const { provider, storefront } = link.origin;
  const plan = await repos.plans.get(subscription.planId);
  if (plan?.providerRefs[provider] === planRef) return undefined;
  return (await repos.plans.findByProviderRef(storefront.id, provider, planRef))?.id;
}
