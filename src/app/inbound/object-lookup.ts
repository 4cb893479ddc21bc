import type { Subscription } from '../../domain/subscription';
import type { Repositories } from '../../ports/store.port';
import { EventOrigin, ForeignOrUnknownObject, NotYetRecorded, ourOrderId } from './event-origin';

/**
 * The origin storefront's subscription for a provider reference or our order id (never another storefront's), locked;
 * the reference is remembered on first sight, and moved to when the state names the reference it replaced
 * (`previousRef`: the provider re-issued the subscription), so later events naming only the new one find it.
 * NotYetRecorded when only our order id names it and no storefront has that order yet; ForeignOrUnknownObject when it
 * is another storefront's or none of ours.
 */
export async function subscriptionOf(
  repos: Repositories,
  origin: EventOrigin,
  ref: string | undefined,
  orderId: string | undefined,
  previousRef?: string,
): Promise<Subscription> {
  const { subscription, claims } = await locate(repos, origin, ref, orderId, true, previousRef);
  if (!claims) return subscription;
  const remembered = { ...subscription, providerRef: ref };
  await repos.subscriptions.update(remembered);
  return remembered;
}

/**
 * The same lookup with no lock and no write, for what is asked of the provider before anything is locked: undefined
 * where subscriptionOf would refuse (the locked lookup refuses it again, and says why).
 */
export async function peekSubscription(
  repos: Repositories,
  origin: EventOrigin,
  ref: string | undefined,
  orderId: string | undefined,
  previousRef?: string,
): Promise<Subscription | undefined> {
  try {
    return (await locate(repos, origin, ref, orderId, false, previousRef)).subscription;
  } catch (error) {
    if (error instanceof ForeignOrUnknownObject) return undefined;
    throw error;
  }
}

/**
 * The subscription, by reference, else by the reference it replaced, else by order id; and whether it claims `ref` as
 * its provider reference now and the caller is to write that (it had the replaced one; a first reference is claimed
 * here, written).
 */
async function locate(
  repos: Repositories,
  origin: EventOrigin,
  ref: string | undefined,
  orderId: string | undefined,
  forUpdate: boolean,
  previousRef?: string,
): Promise<{ subscription: Subscription; claims: boolean }> {
  const { provider } = origin;
  const storefrontId = origin.storefront.id;
  if (ref) {
    const byRef = await repos.subscriptions.findByProviderRef(storefrontId, provider, ref, { forUpdate });
    if (byRef) return { subscription: byRef, claims: false };
  }
  if (ref && previousRef && previousRef !== ref) {
    const replaced = await repos.subscriptions.findByProviderRef(storefrontId, provider, previousRef, { forUpdate });
    if (replaced) {
      // No subscription of this storefront has the new reference (looked up above); another storefront's may.
      if (await repos.subscriptions.providerRefInUse(provider, ref))
        throw new ForeignOrUnknownObject('subscription', ref);
      return { subscription: replaced, claims: true };
    }
  }
  if (forUpdate && ref && orderId?.startsWith('sub_')) {
    // The provider's first report naming its reference for the subscription our order id names (every new
    // subscription's): found, checked and claimed in one statement. Anything else goes the way below, which says why.
    const claimed = await repos.subscriptions.claimProviderRef(orderId, storefrontId, provider, ref);
    if (claimed) return { subscription: claimed, claims: false };
  }
  const byOrder = orderId?.startsWith('sub_')
    ? await repos.subscriptions.get(orderId, { forUpdate, storefrontId })
    : undefined;
  if (!byOrder && orderId && ourOrderId(orderId, 'sub') && !(await repos.subscriptions.get(orderId))) {
    // Ours in form, yet no storefront has it: our checkout has not committed it yet (or never will).
    throw new NotYetRecorded('subscription', orderId);
  }
  if (!byOrder || byOrder.provider !== provider) {
    throw new ForeignOrUnknownObject('subscription', ref ?? orderId ?? '(no reference)');
  }
  if (ref && !byOrder.providerRef) {
    // The reference belongs to another storefront's subscription: this one must not claim it.
    if (await repos.subscriptions.providerRefInUse(provider, ref))
      throw new ForeignOrUnknownObject('subscription', ref);
    return { subscription: byOrder, claims: true };
  }
  return { subscription: byOrder, claims: false };
}

/**
 * Our plan for the plan reference a provider reports (a plan changed at the provider, e.g. from its portal).
 * Undefined, so the plan stays, when the reference is absent, still the subscription's plan's, or unknown to us.
 * Where prices travel inline the reference is our plan id (echoed from PlanTerms.id): taken only when it is a plan
 * of the same storefront, never another storefront's.
 */
export async function planOf(
  repos: Repositories,
  origin: EventOrigin,
  subscription: Subscription,
  planRef: string | undefined,
): Promise<string | undefined> {
  if (!planRef) return undefined;
  if (origin.features.pricing.by === 'inline') {
    if (planRef === subscription.planId || !planRef.startsWith('plan_')) return undefined;
    const named = await repos.plans.get(planRef);
    return named?.storefrontId === origin.storefront.id ? named.id : undefined;
  }
  const plan = await repos.plans.get(subscription.planId);
  if (plan?.providerRefs[origin.provider] === planRef) return undefined;
  return (await repos.plans.findByProviderRef(origin.storefront.id, origin.provider, planRef))?.id;
}

export async function rememberCustomerRef(
  repos: Repositories,
  subscription: Subscription,
  provider: string,
  customerRef: string | undefined,
): Promise<void> {
  if (customerRef) await repos.customers.rememberProviderRef(subscription.customerId, provider, customerRef);
}
