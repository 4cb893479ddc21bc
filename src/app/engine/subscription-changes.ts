import type { EventType } from '../../domain/event-catalogue';
import type { Storefront } from '../../domain/storefront';
import type { Subscription } from '../../domain/subscription';
import { ObservedSubscription, transition, Transition } from '../../domain/subscription-lifecycle';
import type { ProviderFeatures } from '../../ports/provider-adapter.port';
import type { ActorContext, Repositories } from '../../ports/store.port';
import { endNativeEntitlements, syncEntitlements } from './entitlement-sync';
import { holdUntilPeriodEnd, withholdRenewal } from './emulated-cancellation';
import { keepRenewalScheduled } from './merchant-renewal-schedule';
import { drafts } from './event-drafts';
import { recordChange } from './record-change';

/** What the engine needs to know of the provider that reported a state. */
export type ReportingProvider = Pick<ProviderFeatures, 'entitlements' | 'cancelAtPeriodEnd'>;

/**
 * Applies an observed provider state to a subscription through the state machine, in the caller's transaction:
 * row, events (one per change, in order), derived entitlements and audit row commit together. Where we emulate
 * cancel at period end, the provider knows nothing of it, so what it reports never sets or clears our flag, its
 * CANCELED before our period end is held until then (holdUntilPeriodEnd), and a renewal past our period end is
 * withheld (withholdRenewal) — unless `ownCancel` says the report answers our own immediate CancelSubscription.
 */
export async function applySubscriptionState(
  repos: Repositories,
  storefront: Storefront,
  current: Subscription,
  observed: ObservedSubscription,
  source: ActorContext,
  now: Date,
  provider?: ReportingProvider,
  options: { ownCancel?: boolean } = {},
): Promise<{ subscription: Subscription; result: Transition }> {
  let reported = takenFrom(provider, observed);
  if (provider?.cancelAtPeriodEnd === 'emulated') {
    if (!options.ownCancel) {
      reported = await holdUntilPeriodEnd(repos, current, reported, now);
      reported = await withholdRenewal(repos, current, reported, now);
    }
  }
  return applyOwnChange(repos, storefront, current, reported, source, now, provider?.entitlements);
}

/** What we take from a provider's report: where we emulate cancel at period end, not that flag (it knows nothing of it). */
export function takenFrom<T extends ObservedSubscription>(provider: ReportingProvider | undefined, observed: T): T {
  return provider?.cancelAtPeriodEnd === 'emulated' ? { ...observed, cancelAtPeriodEnd: undefined } : observed;
}

/** A change we make ourselves (scheduling or revoking an emulated cancel at period end): applied as asked. */
export async function applyOwnChange(
  repos: Repositories,
  storefront: Storefront,
  current: Subscription,
  observed: ObservedSubscription,
  source: ActorContext,
  now: Date,
  /** `native`: the provider's entitlement events decide access, so none are derived from the plan here. */
  entitlements: 'derived' | 'native' = 'derived',
): Promise<{ subscription: Subscription; result: Transition }> {
  const result = transition(current, observed, now);
  if (result.outcome !== 'applied') return { subscription: current, result };
  await commitChange(repos, storefront, result.next, result.events, source, now, entitlements);
  return { subscription: result.next, result };
}

/**
 * Writes a changed subscription with its events, entitlements (derived ones follow its state; native ones only end
 * with it) and an audit row.
 */
async function commitChange(
  repos: Repositories,
  storefront: Storefront,
  next: Subscription,
  events: EventType[],
  source: ActorContext,
  now: Date,
  entitlements: 'derived' | 'native',
): Promise<void> {
  await repos.subscriptions.update(next);
  await recordChange(repos, source, {
    events: events.map((type) => drafts.subscription(type, storefront, next, source.providerEventId)),
    audit: {
      action: events.join(','),
      resourceType: 'subscription',
      resourceId: next.id,
      storefrontId: next.storefrontId,
      details: { status: next.status, version: next.version, provider_event_id: source.providerEventId },
    },
  });
  if (entitlements === 'derived') await syncEntitlements(repos, storefront, next, source, now);
  else await endNativeEntitlements(repos, storefront, next, source, now);
  // Where our scheduler charges renewals (binding `renewals: merchant`), the next charge follows the period end.
  await keepRenewalScheduled(repos, storefront, next);
}
