import { newId } from '../../domain/ids';
import type { Storefront } from '../../domain/storefront';
import { grantsAccess, Subscription } from '../../domain/subscription';
import type { ActorContext, Repositories } from '../../ports/store.port';
import { drafts } from './event-drafts';

/**
 * Keeps a subscription's derived entitlements in line with its state: one per plan feature while it grants access
 * (open-ended, or until the period end when a cancel is scheduled), revoked when it stops.
 */
export async function syncEntitlements(
  repos: Repositories,
  storefront: Storefront,
  subscription: Subscription,
  actor: ActorContext,
  now: Date,
): Promise<void> {
  const open = await repos.entitlements.openOfSubscription(subscription.id, now);
  // While access lasts, one entitlement per plan feature; once it stops, none (so no plan read is needed).
  const features = new Set<string>();
  if (grantsAccess(subscription.status)) {
    for (const key of (await repos.plans.get(subscription.planId))?.featureKeys ?? []) features.add(key);
  }
  const until = subscription.cancelAtPeriodEnd ? subscription.currentPeriodEnd : undefined;
  for (const entitlement of open) {
    if (!features.has(entitlement.featureKey)) {
      const revoked = { ...entitlement, activeUntil: now };
      await repos.entitlements.update(revoked);
      await repos.outbox.append(
        drafts.entitlement('billing.entitlement.revoked', storefront, subscription.provider, revoked),
        actor,
      );
      continue;
    }
    features.delete(entitlement.featureKey);
    if (entitlement.activeUntil?.getTime() !== until?.getTime()) {
      await repos.entitlements.update({ ...entitlement, activeUntil: until });
    }
  }
  for (const featureKey of features) {
    const granted = {
      id: newId('ent'),
      customerId: subscription.customerId,
      featureKey,
      subscriptionId: subscription.id,
      activeFrom: now,
      activeUntil: until,
      providerNative: false,
    };
    await repos.entitlements.insert(granted);
    await repos.outbox.append(
      drafts.entitlement('billing.entitlement.granted', storefront, subscription.provider, granted),
      actor,
    );
  }
}
