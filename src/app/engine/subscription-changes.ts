import type { EventType } from '../../domain/event-catalogue';
import type { Storefront } from '../../domain/storefront';
import type { Subscription } from '../../domain/subscription';
import { ObservedSubscription, transition, Transition } from '../../domain/subscription-lifecycle';
import type { ActorContext, Repositories } from '../../ports/store.port';
import { syncEntitlements } from './entitlement-sync';
import { keepRenewalScheduled } from './merchant-renewal-schedule';
import { drafts } from './event-drafts';

/** Why a change happened: the caller (RPC) or a provider webhook (its event id goes into every event). */
export interface ChangeSource extends ActorContext {
  providerEventId?: string;
}

/**
 * Applies an observed provider state to a subscription through the state machine, in the caller's transaction:
 * row, events (one per change, in order), derived entitlements and audit row commit together.
 */
export async function applySubscriptionState(
  repos: Repositories,
  storefront: Storefront,
  current: Subscription,
  observed: ObservedSubscription,
  source: ChangeSource,
  now: Date,
  /** `native`: the provider's entitlement events decide access, so none are derived from the plan here. */
  entitlements: 'derived' | 'native' = 'derived',
): Promise<{ subscription: Subscription; result: Transition }> {
  const result = transition(current, observed, now);
  if (result.outcome !== 'applied') return { subscription: current, result };
  await commitChange(repos, storefront, result.next, result.events, source, now, entitlements);
  return { subscription: result.next, result };
}

/** Writes a changed subscription with its events, entitlements and an audit row. */
async function commitChange(
  repos: Repositories,
  storefront: Storefront,
  next: Subscription,
  events: EventType[],
  source: ChangeSource,
  now: Date,
  entitlements: 'derived' | 'native',
): Promise<void> {
  await repos.subscriptions.update(next);
  for (const type of events) {
    await repos.outbox.append(drafts.subscription(type, storefront, next, source.providerEventId), source);
  }
  if (entitlements === 'derived') await syncEntitlements(repos, storefront, next, source, now);
  // Where our scheduler charges renewals (binding `renewals: merchant`), the next charge follows the period end.
  await keepRenewalScheduled(repos, storefront, next);
  await repos.audit.record({
    actor: source.actor,
    correlationId: source.correlationId,
    onBehalfOf: source.onBehalfOf,
    action: events.join(','),
    resourceType: 'subscription',
    resourceId: next.id,
    storefrontId: next.storefrontId,
    details: { status: next.status, version: next.version, provider_event_id: source.providerEventId },
  });
}
