import { newId } from '../../domain/ids';
import type { Plan } from '../../domain/plan';
import type { Subscription, SubscriptionStatus } from '../../domain/subscription';
import type { ProviderSubscriptionState } from '../../ports/provider-adapter.port';
import type { ActorContext, Repositories } from '../../ports/store.port';
import { applySubscriptionState } from '../engine/subscription-changes';
import { recordNewSubscription } from '../engine/subscription-creation';
import { ourOrderId, type EventOrigin } from './event-origin';

/** States worth adopting: the customer has (or is about to regain) what they pay for. */
const LIVE: readonly SubscriptionStatus[] = ['TRIALING', 'ACTIVE', 'PAST_DUE', 'PAUSED'];

/**
 * A subscription the provider reports that we did not create (made in its portal, say) becomes ours when it is
 * live, its customer is one of this storefront's customers at the provider, its plan is one of this storefront's
 * plans, and its reference is no other storefront's. It is pinned to the provider and recorded through the same
 * paths as a checkout's (`created`) and a webhook's state (the state machine's events, derived entitlements).
 * Undefined when it is not adoptable: the caller records the webhook as naming an unknown object.
 */
export async function adoptSubscription(
  repos: Repositories,
  origin: EventOrigin,
  state: ProviderSubscriptionState,
  observedAt: Date,
  source: ActorContext,
  now: Date,
): Promise<string | undefined> {
  const { provider, storefront } = origin;
  if (!state.ref || !LIVE.includes(state.status) || !state.customerRef || !state.planRef) return undefined;
  // Our order id on it: made by a checkout of ours (maybe another storefront's, maybe not committed yet), never
  // someone else's to adopt. An id merely prefixed so is ours only when we have it.
  if (ourOrderId(state.orderId, 'sub')) return undefined;
  if (state.orderId?.startsWith('sub_') && (await repos.subscriptions.get(state.orderId))) return undefined;
  if (await repos.subscriptions.providerRefInUse(provider, state.ref)) return undefined;
  const customer = await repos.customers.findByProviderRef(storefront.id, provider, state.customerRef);
  const plan = await planNamed(repos, origin, state.planRef);
  if (!customer || !plan) return undefined;
  // The state machine has no INCOMPLETE → PAUSED move: one adopted paused is created paused.
  const paused = state.status === 'PAUSED';
  const subscription: Subscription = {
    id: newId('sub'),
    storefrontId: storefront.id,
    customerId: customer.id,
    planId: plan.id,
    quantity: 1,
    provider,
    providerRef: state.ref,
    status: paused ? 'PAUSED' : 'INCOMPLETE',
    currentPeriodStart: state.currentPeriodStart,
    currentPeriodEnd: state.currentPeriodEnd,
    trialEnd: state.trialEnd,
    cancelAtPeriodEnd: false,
    providerObservedAt: paused ? observedAt : undefined,
    providerObservedInReport: paused,
    version: 1,
    createdAt: now,
    updatedAt: now,
  };
  const created = await recordNewSubscription(repos, storefront, subscription, source, {
    action: 'SubscriptionAdopted',
    details: { provider, provider_ref: state.ref, plan_id: plan.id, provider_event_id: source.providerEventId },
  });
  if (!created) throw new Error(`subscription ${subscription.id} could not be recorded`);
  const { result } = await applySubscriptionState(
    repos,
    storefront,
    subscription,
    // A webhook's state, on a subscription new to us: nothing to order it against.
    { ...state, planId: plan.id, observedAt, report: { orderedByTime: true } },
    source,
    now,
    origin.features,
  );
  const outcome = result.outcome === 'refused' ? `state refused: ${result.reason}` : result.outcome;
  return `adopted ${state.ref} as ${subscription.id} (${outcome})`;
}

/** This storefront's plan the provider's plan reference names (its price id, or our plan id where prices are inline). */
async function planNamed(repos: Repositories, origin: EventOrigin, planRef: string): Promise<Plan | undefined> {
  if (origin.features.pricing.by === 'inline') {
    if (!planRef.startsWith('plan_')) return undefined;
    const plan = await repos.plans.get(planRef);
    return plan?.storefrontId === origin.storefront.id ? plan : undefined;
  }
  return repos.plans.findByProviderRef(origin.storefront.id, origin.provider, planRef);
}
