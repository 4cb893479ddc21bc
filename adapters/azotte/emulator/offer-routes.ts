import { route } from '../../kit/emulator/router';
import { AzotteError, success } from './answers';
import { type ApiHandler, C2A } from './api-request';
import { customerOf } from './customer-routes';
import { Violations, requiredObject } from './fields';
import { prefixedId } from './ids';
import type { OfferRecord, SubscriptionRecord } from './records';
import type { EmulatorState } from './state';
import { offerJson } from './wire';

/** Offers expire 15 minutes after they are made (item 20). */
export const OFFER_TTL_MS = 15 * 60_000;

/** The tenant's subscription, or 404 SUBSCRIPTION_NOT_FOUND. */
export function subscriptionOf(state: EmulatorState, tenant: string, orderIdentifier: string): SubscriptionRecord {
  const s = state.subscriptions.get(orderIdentifier);
  if (!s || s.tenant !== tenant) {
    throw new AzotteError('SUBSCRIPTION_NOT_FOUND', `No subscription ${orderIdentifier.slice(0, 64)}`);
  }
  return s;
}

/** Only a Trial, Active or Reactivated subscription can be replaced (item 32). */
export function checkReplaceable(s: SubscriptionRecord): void {
  if (s.state !== 'Trial' && s.state !== 'Active' && s.state !== 'Reactivated') {
    throw new AzotteError('NO_OFFER_FOUND', `Subscription ${s.orderIdentifier} (${s.state}) cannot be replaced`);
  }
}

const bundles: ApiHandler = ({ ctx, tenant, body }) => {
  const context = requiredObject(body, 'context', 'offer/bundles');
  const v = new Violations();
  const interactionType = v.required(context, 'interactionType', 'context.interactionType', 32);
  if (interactionType && interactionType !== 'NewAcquisition' && interactionType !== 'Replace') {
    v.add('context.interactionType', 'must be NewAcquisition or Replace');
  }
  const customerUrn = v.required(context, 'customerUrn', 'context.customerUrn', 128);
  const storefrontUrn = v.required(context, 'storefrontUrn', 'context.storefrontUrn', 128);
  const promotionCode = v.str(context, 'promotionCode', 'context.promotionCode');
  const originalId = v.str(context, 'originalSubscriptionIdentifier', 'context.originalSubscriptionIdentifier');
  if (interactionType === 'Replace' && !originalId) {
    v.add('context.originalSubscriptionIdentifier', 'is required for Replace');
  }
  v.done();
  const { catalog } = ctx.state;
  if (!catalog.storefronts.some((s) => s.storefrontUrn === storefrontUrn)) {
    throw new AzotteError('STOREFRONT_NOT_FOUND', `No storefront ${storefrontUrn.slice(0, 64)}`);
  }
  customerOf(ctx.state, tenant.tenant, customerUrn);
  const campaign = promotionCode ? catalog.campaigns.find((c) => c.promotionCode === promotionCode) : undefined;
  if (promotionCode && !campaign) {
    throw new AzotteError(
      'INVALID_PROMOTION_CODE',
      `Promotion code ${promotionCode.slice(0, 64)} is unknown or expired`,
    );
  }
  let current: SubscriptionRecord | undefined;
  if (interactionType === 'Replace') {
    current = subscriptionOf(ctx.state, tenant.tenant, originalId ?? '');
    if (current.customerUrn !== customerUrn) throw new AzotteError('SUBSCRIPTION_NOT_FOUND', "Not this customer's");
    checkReplaceable(current);
  }
  const offered = catalog.bundles.filter(
    (b) => b.storefrontUrn === storefrontUrn && b.bundleUrn !== current?.bundle.bundleUrn,
  );
  if (offered.length === 0) throw new AzotteError('NO_OFFER_FOUND', `No bundle to offer on ${storefrontUrn}`);
  const now = ctx.state.now;
  const offer: OfferRecord = {
    offerIdentifier: prefixedId('of_', now),
    tenant: tenant.tenant,
    customerUrn,
    storefrontUrn,
    interactionType: interactionType === 'Replace' ? 'Replace' : 'NewAcquisition',
    originalOrderIdentifier: current?.orderIdentifier ?? null,
    expiresAt: now + OFFER_TTL_MS,
    items: offered.map((bundle) => ({ itemIdentifier: prefixedId('it_', now), bundle, campaign: campaign ?? null })),
  };
  pruneExpiredOffers(ctx.state);
  ctx.state.offers.set(offer.offerIdentifier, offer);
  return success({ offer: offerJson(offer) });
};

// Offers live 15 minutes; one kept far longer only grows the state file. A day's grace still answers
// OFFER_EXPIRED (rather than an unknown offer) to a late checkout.
function pruneExpiredOffers(state: EmulatorState): void {
  for (const [id, offer] of state.offers) if (offer.expiresAt + 86_400_000 < state.now) state.offers.delete(id);
}

/** `POST /offer/bundles` (item 20). */
export const offerRoutes = [route<ApiHandler>('POST', `${C2A}/offer/bundles`, bundles)];
