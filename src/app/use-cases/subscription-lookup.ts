import type { Customer } from '../../domain/customer';
import { failedPrecondition, notFound } from '../../domain/errors';
import type { Plan } from '../../domain/plan';
import type { Storefront } from '../../domain/storefront';
import type { Subscription } from '../../domain/subscription';
export { handleOf } from '../engine/subscription-handle';
import type { PlanTerms } from '../../ports/provider-adapter.port';
import type { Repositories } from '../../ports/store.port';
import type { ProviderGateway } from '../providers/provider-gateway';

/** Callers' URLs (success, cancel, return): absolute http(s), nothing else. */
export const URL_RULE = /^https?:\/\/\S+$/;

/** The subscription, or NOT_FOUND naming `subscription_id`. `repos` may be a cache's reads as well as the store's. */
export function loadSubscription(
  repos: { subscriptions: { get(id: string): Promise<Subscription | undefined> } },
  id: string,
): Promise<Subscription> {
  // GetSubscription's every call comes here: a callback, not an async function awaiting the read (one promise less).
  if (!id) return Promise.reject(notFound('subscription', id, 'subscription_id'));
  return repos.subscriptions.get(id).then((subscription) => {
    if (!subscription) throw notFound('subscription', id, 'subscription_id');
    return subscription;
  });
}

/** The storefront a subscription belongs to (it always exists: subscriptions reference it). */
export async function storefrontOf(repos: Repositories, subscription: Subscription): Promise<Storefront> {
  return (await repos.storefronts.get(subscription.storefrontId))!;
}

/** A mutation needs the provider's subscription: before the checkout completed there is none to change. */
export function requireProviderRef(subscription: Subscription): void {
  if (!subscription.providerRef) {
    throw failedPrecondition(
      `subscription '${subscription.id}' is ${subscription.status}: the provider has not created it yet (checkout not completed)`,
    );
  }
}

/** A plan's terms as a provider sees them (its own reference included, where it prices by reference). */
export function termsOf(plan: Plan, provider: string): PlanTerms {
  return {
    id: plan.id,
    name: plan.name,
    price: plan.price,
    interval: plan.interval,
    trialDays: plan.trialDays,
    ref: plan.providerRefs[provider],
  };
}

/** The whole customer, with its reference at `provider` when known. */
export function customerDetails(customer: Customer, provider: string) {
  return {
    id: customer.id,
    email: customer.email,
    name: customer.name,
    phone: customer.phone,
    country: customer.country,
    address: customer.address,
    providerRef: customer.providerRefs[provider],
  };
}

/** An active plan of this storefront, with a reference at `provider` when the provider prices by reference. */
export async function sellablePlan(
  repos: Repositories,
  gateway: ProviderGateway,
  storefront: Storefront,
  planId: string,
  provider: string,
): Promise<Plan> {
  const plan = await repos.plans.get(planId);
  if (!plan || plan.storefrontId !== storefront.id) throw notFound('plan', planId, 'plan_id');
  if (plan.status !== 'ACTIVE') throw failedPrecondition(`plan '${plan.id}' is archived`);
  if (gateway.needsPlanReference(provider) && !plan.providerRefs[provider]) {
    throw failedPrecondition(
      `plan '${plan.id}' has no reference for provider '${provider}' (SetPlanProviderReference)`,
    );
  }
  return plan;
}
