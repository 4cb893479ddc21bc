import type {
  CheckoutRecord,
  CustomerRecord,
  EntitlementRecord,
  OfferItem,
  OfferRecord,
  PaymentMethodRecord,
  PaymentRecord,
  SubscriptionRecord,
} from './records';
import type { AzotteCampaign } from './types';

// Azotte's wire shapes (camelCase, items 15, 19, 20, 22, 27, 38), built from the records.

/** ISO-8601 UTC with milliseconds and `Z` (item 7); null stays null. */
export function iso(ms: number | null): string | null {
  return ms === null ? null : new Date(ms).toISOString();
}

/** Milpieces on the wire: a JSON integer. */
function milpieces(amount: bigint): number {
  return Number(amount);
}

export function customerJson(c: CustomerRecord): Record<string, unknown> {
  return {
    customerUrn: c.customerUrn,
    externalIdentifier: c.externalIdentifier,
    email: c.email,
    phoneNumber: c.phoneNumber,
    firstName: c.firstName,
    lastName: c.lastName,
    legalType: c.legalType,
    primaryBillingAddress: c.primaryBillingAddress,
    status: 'Active',
    claimedRegion: c.claimedRegion,
    createdAt: iso(c.createdAt),
  };
}

export function paymentMethodJson(m: PaymentMethodRecord): Record<string, unknown> {
  return {
    paymentMethodUrn: m.paymentMethodUrn,
    customerUrn: m.customerUrn,
    paymentChannel: 'CreditCard',
    maskedCardNumber: `${m.cardType === 'MASTERCARD' ? '555555' : '411111'}******${m.last4}`,
    cardType: m.cardType,
    expireMonth: '12',
    expireYear: '2029',
    cardAlias: m.cardAlias,
    state: m.state,
    storedAt: iso(m.storedAt),
  };
}

export function campaignJson(c: AzotteCampaign): Record<string, unknown> {
  return {
    campaignCode: c.campaignCode,
    promotionCode: c.promotionCode,
    description: c.description,
    ...(c.percentOffBasisPoints !== undefined ? { percentOffBasisPoints: c.percentOffBasisPoints } : {}),
    ...(c.amountOffMilpieces !== undefined ? { amountOffMilpieces: milpieces(c.amountOffMilpieces) } : {}),
    cycles: c.cycles,
  };
}

function offerItemJson(item: OfferItem): Record<string, unknown> {
  const b = item.bundle;
  return {
    itemIdentifier: item.itemIdentifier,
    bundleUrn: b.bundleUrn,
    bundleSku: b.sku,
    name: b.name,
    price: { amountMilpieces: milpieces(b.amountMilpieces), currency: b.currency },
    billingPeriod: { unit: b.period.unit, count: b.period.count },
    trialDays: b.trialDays,
    entitlements: [...b.entitlements],
    calculatedCampaign: item.campaign ? campaignJson(item.campaign) : null,
  };
}

export function offerJson(o: OfferRecord): Record<string, unknown> {
  return {
    offerIdentifier: o.offerIdentifier,
    presentationType: 'Purchase',
    productGroupType: 'RecurringSubscription',
    storefrontUrn: o.storefrontUrn,
    customerUrn: o.customerUrn,
    expiresAt: iso(o.expiresAt),
    artifactGroups: o.items.map(offerItemJson),
  };
}

const CHECKOUT_CODES = {
  Processing: 'CHECK_OUT_PROCESSING',
  ThreeDs: 'CHECK_OUT_3DS_REQUIRED',
  Done: 'CHECK_OUT_DONE',
  Failed: 'CHECK_OUT_FAILED',
} as const;

/** `CheckoutResult` (item 22); `retryAfterSeconds` only while it can be followed up. */
export function checkoutResultJson(c: CheckoutRecord, baseUrl: string, retryAfterSeconds: number | null) {
  const threeDs = c.state === 'ThreeDs' ? c.threeDs : null;
  const pageUrl = threeDs ? `${baseUrl}/3ds/${threeDs.id}` : null;
  return {
    trackingNumber: c.trackingNumber,
    correlationId: c.correlationId,
    orderIdentifier: c.orderIdentifier,
    status: { messageCode: CHECKOUT_CODES[c.state] },
    redirectInstructions: threeDs
      ? {
          isRedirectRequired: threeDs.mode === 'redirect',
          redirectUrl: threeDs.mode === 'redirect' ? pageUrl : null,
          htmlContent: threeDs.mode === 'html' ? `<iframe src="${pageUrl}" width="400" height="300"></iframe>` : null,
          showHtmlContent: threeDs.mode === 'html',
          threeDIdentifier: threeDs.id,
          hasNextSteps: true,
        }
      : null,
    followUpInstructions: { canFollowUp: retryAfterSeconds !== null, retryAfterSeconds },
    failure: c.failure,
  };
}

/** The store channel's display name; ours is Azotte's own. */
function channelName(channel: string): string {
  return channel === 'Azotte' ? 'Azotte Web' : channel;
}

export function subscriptionJson(s: SubscriptionRecord): Record<string, unknown> {
  const live = s.state === 'Trial' || s.state === 'Active' || s.state === 'Reactivated';
  return {
    orderIdentifier: s.orderIdentifier,
    originalOrderIdentifier: s.originalOrderIdentifier,
    replacedByOrderIdentifier: s.replacedByOrderIdentifier,
    correlationId: s.correlationId,
    customerUrn: s.customerUrn,
    storefrontUrn: s.bundle.storefrontUrn,
    bundleUrn: s.bundle.bundleUrn,
    bundleSku: s.bundle.sku,
    bundleName: s.bundle.name,
    state: s.state,
    startDate: iso(s.startDate),
    endDate: iso(s.endDate),
    currentPeriodStart: iso(s.currentPeriodStart),
    currentPeriodEnd: iso(s.currentPeriodEnd),
    trialEndDate: iso(s.trialEndDate),
    cancelationMethod: s.cancelationMethod,
    canceledAt: iso(s.canceledAt),
    quantity: 1,
    price: { amountMilpieces: milpieces(s.bundle.amountMilpieces), currency: s.bundle.currency },
    paymentMethodUrn: s.paymentMethodUrn,
    initialAssignmentType: s.initialAssignmentType,
    subscriptionChannel: s.subscriptionChannel,
    subscriptionChannelName: channelName(s.subscriptionChannel),
    options: {
      canCancel: s.subscriptionChannel === 'Azotte' && (live || s.state === 'PastDue' || canStillEnd(s)),
      canReplace: live,
    },
  };
}

// An EndOfPeriod-canceled subscription can still be ended now (item 30).
function canStillEnd(s: SubscriptionRecord): boolean {
  return s.state === 'Canceled' && s.cancelationMethod === 'EndOfPeriod';
}

export function paymentJson(p: PaymentRecord, subscription: SubscriptionRecord | null): Record<string, unknown> {
  return {
    paymentUrn: p.paymentUrn,
    orderIdentifier: p.orderIdentifier,
    customerUrn: p.customerUrn,
    paymentMethodUrn: p.paymentMethodUrn,
    kind: p.kind,
    amountMilpieces: milpieces(p.amountMilpieces),
    currency: p.currency,
    state: p.state,
    periodStart: iso(p.periodStart),
    periodEnd: iso(p.periodEnd),
    failure: p.failure,
    refundedMilpieces: milpieces(p.refundedMilpieces),
    cycle: p.cycle,
    subscription: subscription ? subscriptionJson(subscription) : null,
  };
}

export function entitlementJson(e: EntitlementRecord): Record<string, unknown> {
  return {
    entitlementUrn: e.entitlementUrn,
    customerUrn: e.customerUrn,
    orderIdentifier: e.orderIdentifier,
    featureKey: e.featureKey,
    activeFrom: iso(e.activeFrom),
    activeUntil: iso(e.activeUntil),
    source: e.source,
  };
}
