import type { EmulatorContext } from './context';
import { emitCampaign } from './campaign-events';
import { chargeCard, nextChargeAmount, useCampaignCycle } from './charges';
import { entitlementsOf, grantBundle, grantFeature, revoke } from './entitlements';
import { prefixedId } from './ids';
import { DAYS, addPeriod } from './periods';
import type { CheckoutRecord, PaymentRecord, SubscriptionRecord } from './records';
import { emitPayment, emitStateAudit, emitSubscription } from './webhook-events';

/**
 * A checkout whose card passed (and 3-D Secure, if asked): charges it (a trial bundle is not charged, item 26),
 * then makes the subscription and sends the events of item 39. A declined charge fails the checkout, no events.
 */
export function completePurchase(ctx: EmulatorContext, checkout: CheckoutRecord): void {
  const now = ctx.state.now;
  const { bundle, campaign } = checkout.item;
  const original =
    checkout.originalOrderIdentifier === null
      ? undefined
      : ctx.state.subscriptions.get(checkout.originalOrderIdentifier);
  const replace = checkout.interactionType === 'Replace' && original !== undefined;
  const trial = !replace && bundle.trialDays > 0;
  const s: SubscriptionRecord = {
    orderIdentifier: prefixedId('or_', now),
    tenant: checkout.tenant,
    originalOrderIdentifier: replace ? original.orderIdentifier : null,
    replacedByOrderIdentifier: null,
    correlationId: checkout.correlationId,
    customerUrn: checkout.customerUrn,
    bundle,
    state: trial ? 'Trial' : 'Active',
    startDate: now,
    endDate: null,
    currentPeriodStart: now,
    currentPeriodEnd: trial ? now + DAYS(bundle.trialDays) : addPeriod(now, bundle.period.unit, bundle.period.count),
    trialEndDate: trial ? now + DAYS(bundle.trialDays) : null,
    cancelationMethod: null,
    canceledAt: null,
    paymentMethodUrn: checkout.paymentMethodUrn,
    initialAssignmentType: replace ? 'Replace' : 'Purchase',
    subscriptionChannel: 'Azotte',
    campaign: campaign ? { code: campaign, cyclesLeft: campaign.cycles } : null,
    cancelRequest: null,
    dunning: null,
    // The lineage keeps counting: the Replace charge pays the period after the last one the old subscription paid.
    paidCycles: replace ? original.paidCycles : 0,
  };
  let payment: PaymentRecord | undefined;
  if (!trial) {
    const failure = chargeCard(ctx, checkout.customerUrn, checkout.paymentMethodUrn);
    if (failure) {
      checkout.state = 'Failed';
      checkout.failure = failure;
      return;
    }
    payment = capture(ctx, s, replace ? 'Replace' : 'Initial');
  }
  ctx.state.subscriptions.set(s.orderIdentifier, s);
  checkout.state = 'Done';
  checkout.orderIdentifier = s.orderIdentifier;
  const cid = checkout.correlationId;
  // Item 39: the subscription first, then the charge, entitlements, campaign and audit.
  const oldState = replace ? replaceSubscription(ctx, original, s, payment, cid) : undefined;
  if (!replace) {
    emitSubscription(ctx, 'created', s, null, cid);
    if (payment) emitPayment(ctx, 'captured', payment, null, cid);
    grantBundle(ctx, s, cid);
  }
  // A code given at checkout is redeemed and applied, for a Replace too (a redeemed code is always followed by
  // offer_applied, item 38).
  if (campaign) {
    emitCampaign(ctx, 'code_redeemed', s, campaign, cid);
    emitCampaign(ctx, 'offer_applied', s, campaign, cid);
  }
  if (replace && oldState !== undefined) emitStateAudit(ctx, original, oldState, cid);
  emitStateAudit(ctx, s, null, cid);
}

/** A captured charge of the subscription's next amount over its current period. */
export function capture(ctx: EmulatorContext, s: SubscriptionRecord, kind: PaymentRecord['kind']): PaymentRecord {
  const payment = paymentOf(ctx, s, kind, nextChargeAmount(s));
  useCampaignCycle(s);
  s.paidCycles = payment.cycle;
  return payment;
}

/** A payment record (Captured unless told) for the subscription's next unpaid period, stored. */
export function paymentOf(
  ctx: EmulatorContext,
  s: SubscriptionRecord,
  kind: PaymentRecord['kind'],
  amount: bigint,
  failure: PaymentRecord['failure'] = null,
): PaymentRecord {
  const payment: PaymentRecord = {
    paymentUrn: prefixedId('pa_', ctx.state.now),
    tenant: s.tenant,
    orderIdentifier: s.orderIdentifier,
    customerUrn: s.customerUrn,
    paymentMethodUrn: s.paymentMethodUrn,
    kind,
    amountMilpieces: amount,
    currency: s.bundle.currency,
    state: failure ? 'Failed' : 'Captured',
    periodStart: s.currentPeriodStart,
    periodEnd: s.currentPeriodEnd,
    failure,
    refundedMilpieces: 0n,
    cycle: s.paidCycles + 1,
  };
  ctx.state.payments.set(payment.paymentUrn, payment);
  return payment;
}

// Replace (item 32, events item 39): the new subscription first, then the old one's end, the charge, and the
// entitlements that differ; features in both bundles move to the new order silently. Answers the old state.
function replaceSubscription(
  ctx: EmulatorContext,
  old: SubscriptionRecord,
  s: SubscriptionRecord,
  payment: PaymentRecord | undefined,
  cid: string,
): SubscriptionRecord['state'] {
  const oldState = old.state;
  old.state = 'Canceled';
  old.endDate = ctx.state.now;
  old.canceledAt = ctx.state.now;
  old.cancelationMethod = 'Immediate';
  old.replacedByOrderIdentifier = s.orderIdentifier;
  old.dunning = null;
  const up = s.bundle.amountMilpieces >= old.bundle.amountMilpieces;
  emitSubscription(ctx, up ? 'upgraded' : 'downgraded', s, null, cid);
  emitSubscription(ctx, 'canceled', old, oldState, cid);
  if (payment) emitPayment(ctx, 'captured', payment, null, cid);
  const kept = new Set(s.bundle.entitlements);
  const had = new Set<string>();
  for (const e of entitlementsOf(ctx, old.orderIdentifier)) {
    had.add(e.featureKey);
    e.orderIdentifier = s.orderIdentifier;
    if (!kept.has(e.featureKey)) revoke(ctx, e, cid);
  }
  for (const featureKey of s.bundle.entitlements) {
    if (!had.has(featureKey)) grantFeature(ctx, s, featureKey, cid);
  }
  return oldState;
}
