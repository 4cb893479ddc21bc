import { newId } from '../../domain/ids';
import type { Entitlement } from '../../domain/entitlement';
import { isTerminal } from '../../domain/subscription';
import { notAfter } from '../../domain/provider-clock';
import type { ProviderEntitlement } from '../../ports/provider-adapter.port';
import type { ActorContext, Repositories } from '../../ports/store.port';
import { drafts } from '../engine/event-drafts';
import { ForeignOrUnknownObject, type EventOrigin } from './event-origin';

/**
 * Entitlements a provider grants and revokes itself (features say `entitlements: native`): taken as the provider
 * says, not derived from plan features. A grant already open is extended, never doubled; a revoke of nothing open
 * changes nothing. The provider's clock may run ahead of ours: a grant it reports has begun (from `now` at the
 * latest) and a revoke ends it now at the latest, so CheckEntitlement answers at once whatever its clock says; an end
 * date it sets on an open grant (`updated`) is kept as is.
 */
export async function applyNativeEntitlement(
  repos: Repositories,
  origin: EventOrigin,
  action: 'granted' | 'revoked',
  state: ProviderEntitlement,
  source: ActorContext,
  now: Date,
): Promise<string> {
  const customer = await repos.customers.findByProviderRef(origin.storefront.id, origin.provider, state.customerRef);
  if (!customer) throw new ForeignOrUnknownObject('customer', `${origin.provider}:${state.customerRef}`);
  // Locked, so a cancel committing meanwhile is seen: read unlocked, the grant could land after that cancel ended
  // the subscription's entitlements and reopen access on a CANCELED subscription.
  const subscription = state.subscriptionRef
    ? await repos.subscriptions.findByProviderRef(origin.storefront.id, origin.provider, state.subscriptionRef, {
        forUpdate: true,
      })
    : undefined;
  const open = (
    await repos.entitlements.listOfCustomer(customer.id, { featureKey: state.featureKey, activeAt: now })
  ).filter((e) => e.providerNative && (e.subscriptionId ?? '') === (subscription?.id ?? ''));

  if (action === 'revoked') {
    if (open.length === 0) return `entitlement ${state.featureKey} not open; nothing to revoke`;
    for (const entitlement of open) {
      const revoked = { ...entitlement, activeUntil: notAfter(state.activeUntil ?? now, now) };
      await repos.entitlements.update(revoked);
      await repos.outbox.append(
        drafts.entitlement('billing.entitlement.revoked', origin.storefront, origin.provider, revoked),
        source,
      );
    }
    return `entitlement ${state.featureKey} revoked`;
  }
  const existing = open[0];
  if (existing) {
    if (existing.activeUntil?.getTime() === state.activeUntil?.getTime()) return `entitlement ${existing.id} unchanged`;
    await repos.entitlements.update({ ...existing, activeUntil: state.activeUntil });
    return `entitlement ${existing.id} extended`;
  }
  const granted: Entitlement = {
    id: newId('ent'),
    customerId: customer.id,
    featureKey: state.featureKey,
    subscriptionId: subscription?.id,
    activeFrom: notAfter(state.activeFrom ?? now, now),
    activeUntil: state.activeUntil,
    providerNative: true,
  };
  if (subscription && isTerminal(subscription.status)) {
    // The grant's webhook was overtaken by the subscription's end (a cancel through our API answers at once): access
    // ended with the subscription, so the grant is kept as history, ended there, and no consumer is told of access.
    const until = notAfter(subscription.endedAt ?? now, now);
    const activeFrom = granted.activeFrom.getTime() > until.getTime() ? until : granted.activeFrom;
    await repos.entitlements.insert({ ...granted, activeFrom, activeUntil: until });
    return `entitlement ${granted.id} of ended subscription ${subscription.id} recorded as ended`;
  }
  await repos.entitlements.insert(granted);
  await repos.outbox.append(
    drafts.entitlement('billing.entitlement.granted', origin.storefront, origin.provider, granted),
    source,
  );
  return `entitlement ${granted.id} granted`;
}
