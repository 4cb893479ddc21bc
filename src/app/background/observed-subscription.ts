import type { Subscription } from '../../domain/subscription';
import type { ProviderSubscriptionState } from '../../ports/provider-adapter.port';
import type { Repositories } from '../../ports/store.port';
import { applySubscriptionState } from '../engine/subscription-changes';
import { planOf } from '../inbound/object-lookup';
import { followProviderRef } from '../engine/subscription-handle';
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
  const current = await followProviderRef(repos, locked, fresh.ref);
  const now = deps.clock.now();
  const { result } = await applySubscriptionState(
    repos,
    link.origin.storefront,
    current,
    {
      ...fresh,
      planId: await planOf(repos, link.origin, current, fresh.planRef),
      observedAt: fresh.observedAt ?? now,
    },
    link.source,
    now,
    link.origin.features,
  );
  return result.outcome === 'refused' ? `provider state refused: ${result.reason}` : `reconciled: ${result.outcome}`;
}
