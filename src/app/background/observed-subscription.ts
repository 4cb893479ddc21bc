import type { Subscription } from '../../domain/subscription';
import type { ProviderSubscriptionState } from '../../ports/provider-adapter.port';
import type { Repositories } from '../../ports/store.port';
import type { SweepDeps, SweepLink } from './sweep';

/**
 * Applies a subscription state fetched earlier to the locked row: the same application as a webhook's reconcile
 * (SubscriptionEvents.applyFetched), so state, renewals, invoices and payments caught up by a sweep are recorded
 * once, whichever path saw them first.
 */
export function applyFetchedSubscription(
  deps: SweepDeps,
  repos: Repositories,
  link: SweepLink,
  locked: Subscription,
  fresh: ProviderSubscriptionState,
): Promise<string> {
  return deps.applier.applyFetched(repos, link.origin, locked, fresh, link.source);
}
