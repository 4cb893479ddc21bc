import type { Entitlement } from '../../domain/entitlement';
import { newId } from '../../domain/ids';
import type { Storefront } from '../../domain/storefront';
import { notAfter } from '../../domain/provider-clock';
import { grantsAccess, isTerminal, Subscription } from '../../domain/subscription';
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
  // Each kind of write is one statement, however many features the plan has. One open entitlement per feature is
  // kept (a second is revoked); its end follows the scheduled cancel.
  const revoked: Entitlement[] = [];
  const moved: string[] = [];
  for (const entitlement of open) {
    if (!features.delete(entitlement.featureKey)) revoked.push({ ...entitlement, activeUntil: now });
    else if (entitlement.activeUntil?.getTime() !== until?.getTime()) moved.push(entitlement.id);
  }
  const granted = [...features].map((featureKey): Entitlement => ({
    id: newId('ent'),
    customerId: subscription.customerId,
    featureKey,
    subscriptionId: subscription.id,
    activeFrom: now,
    activeUntil: until,
    providerNative: false,
  }));
  await repos.entitlements.setActiveUntil(
    revoked.map((e) => e.id),
    now,
  );
  for (const entitlement of revoked) {
    await repos.outbox.append(
      drafts.entitlement('billing.entitlement.revoked', storefront, subscription.provider, entitlement),
      actor,
    );
  }
  await repos.entitlements.setActiveUntil(moved, until);
  await repos.entitlements.insertAll(granted);
  for (const entitlement of granted) {
    await repos.outbox.append(
      drafts.entitlement('billing.entitlement.granted', storefront, subscription.provider, entitlement),
      actor,
    );
  }
}

/**
 * Where the provider grants entitlements itself: once the subscription has ended (by whatever path we learned it),
 * the ones it granted for that subscription end with it, at its end time (now at the latest: the provider's clock may
 * run ahead of ours), each `revoked` once; a later revoke from the provider then finds nothing open. Grants tied to
 * no subscription are the provider's to end.
 */
export async function endNativeEntitlements(
  repos: Repositories,
  storefront: Storefront,
  subscription: Subscription,
  actor: ActorContext,
  now: Date,
): Promise<void> {
  if (!isTerminal(subscription.status)) return;
  const until = notAfter(subscription.endedAt ?? now, now);
  for (const entitlement of await repos.entitlements.openOfSubscription(subscription.id, now)) {
    if (!entitlement.providerNative) continue;
    // One that had not begun by then never grants anything: it ends where it starts.
    const activeUntil = entitlement.activeFrom.getTime() > until.getTime() ? entitlement.activeFrom : until;
    const revoked = { ...entitlement, activeUntil };
    await repos.entitlements.update(revoked);
    await repos.outbox.append(
      drafts.entitlement('billing.entitlement.revoked', storefront, subscription.provider, revoked),
      actor,
    );
  }
}
