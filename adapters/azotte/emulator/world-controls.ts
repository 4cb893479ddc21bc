import { integer, oneOf, optionalString, requiredString } from '../../kit/emulator/body-readers';
import type { ControlHandler } from '../../kit/emulator/controls';
import { EmulatorError, invalidInput, nothingAt } from '../../kit/emulator/errors';
import type { Body } from '../../kit/emulator/http-io';
import { route } from '../../kit/emulator/router';
import { emitCampaign } from './campaign-events';
import type { EmulatorContext } from './context';
import { grant, grantBundle, revoke } from './entitlements';
import { prefixedId } from './ids';
import { addPeriod } from './periods';
import { storeCard } from './payment-methods';
import type { CustomerRecord, SubscriptionRecord } from './records';
import type { Cause } from './state';
import { decideChallenge } from './three-ds';
import { emitPayment, emitStateAudit, emitSubscription } from './webhook-events';
import { entitlementJson, paymentMethodJson, subscriptionJson } from './wire';

type Handler = ControlHandler<EmulatorContext>;

const portal = (ctx: EmulatorContext): Cause => ({
  actor: { type: 'P2A', id: 'portal' },
  correlationId: prefixedId('req_', ctx.state.now),
});
const system = (ctx: EmulatorContext, id: string): Cause => ({
  actor: { type: 'System', id },
  correlationId: prefixedId('req_', ctx.state.now),
});

function customer(ctx: EmulatorContext, body: Body): CustomerRecord {
  const urn = requiredString(body, 'customer_urn', 128);
  const found = ctx.state.customers.get(urn);
  if (!found) throw nothingAt(`customer_urn: no customer '${urn.slice(0, 64)}'`);
  return found;
}

function subscription(ctx: EmulatorContext, orderIdentifier: string | undefined): SubscriptionRecord {
  const found = ctx.state.subscriptions.get(orderIdentifier ?? '');
  if (!found) throw nothingAt(`order_identifier: no subscription '${(orderIdentifier ?? '').slice(0, 64)}'`);
  return found;
}

const paymentMethods: Handler = ({ ctx, body }) => {
  const owner = customer(ctx, body);
  const last4 = optionalString(body, 'last4', 4) ?? '1111';
  if (!/^\d{4}$/.test(last4)) throw invalidInput('last4', 'must be 4 digits');
  const method = storeCard(ctx.state, owner, {
    cardType: optionalString(body, 'card_type', 32) ?? 'VISA',
    last4,
    cardAlias: optionalString(body, 'card_alias', 100) ?? null,
    threeDs: oneOf(body, 'three_ds', ['none', 'redirect', 'html'] as const, 'none'),
    outcome: oneOf(body, 'outcome', ['success', 'decline'] as const, 'success'),
  });
  return paymentMethodJson(method);
};

const threeDs: Handler = ({ ctx, params, body }) => {
  const checkout = decideChallenge(ctx, params.id ?? '', body.outcome);
  return {
    tracking_number: checkout.trackingNumber,
    state: checkout.state,
    order_identifier: checkout.orderIdentifier,
  };
};

const grantControl: Handler = ({ ctx, body }) => {
  const owner = customer(ctx, body);
  const orderIdentifier = optionalString(body, 'order_identifier', 64) ?? null;
  if (orderIdentifier !== null) subscription(ctx, orderIdentifier);
  const until = optionalString(body, 'active_until', 64);
  const activeUntil = until === undefined ? null : Date.parse(until);
  if (activeUntil !== null && Number.isNaN(activeUntil)) throw invalidInput('active_until', 'must be an ISO-8601 time');
  // It falls due on the emulator clock (entitlement.revoked then); one already past would end the moment it began.
  if (activeUntil !== null && activeUntil <= ctx.state.now) {
    throw invalidInput('active_until', 'must be after the emulator clock');
  }
  const e = ctx.state.because(portal(ctx), () =>
    grant(ctx, {
      tenant: owner.tenant,
      customerUrn: owner.customerUrn,
      orderIdentifier,
      featureKey: requiredString(body, 'feature_key', 128),
      activeUntil,
      source: 'Grant',
    }),
  );
  return entitlementJson(e);
};

const revokeControl: Handler = ({ ctx, body }) => {
  const urn = requiredString(body, 'entitlement_urn', 128);
  const e = ctx.state.entitlements.get(urn);
  if (!e) throw nothingAt(`entitlement_urn: no entitlement '${urn.slice(0, 64)}'`);
  if (e.revoked) throw new EmulatorError(409, `entitlement_urn: '${urn.slice(0, 64)}' is already revoked`);
  ctx.state.because(portal(ctx), () => revoke(ctx, e));
  return entitlementJson(e);
};

// A campaign Azotte fires on its own (item 47): the subscription's next charges get it.
const trigger: Handler = ({ ctx, params, body }) => {
  const campaign = ctx.state.catalog.campaigns.find((c) => c.campaignCode === params.code);
  if (!campaign) throw nothingAt(`campaign_code: no campaign '${(params.code ?? '').slice(0, 64)}'`);
  const owner = customer(ctx, body);
  const s = subscription(ctx, requiredString(body, 'order_identifier', 64));
  if (s.customerUrn !== owner.customerUrn) throw invalidInput('order_identifier', "is not this customer's");
  s.campaign = { code: campaign, cyclesLeft: campaign.cycles };
  ctx.state.because(system(ctx, 'campaigns'), () => {
    emitCampaign(ctx, 'trigger_fired', s, campaign);
    emitCampaign(ctx, 'offer_applied', s, campaign);
  });
  return subscriptionJson(s);
};

// A subscription bought through another channel (a store): no correlationId of ours, not cancelable here.
const otherChannel: Handler = ({ ctx, body }) => {
  const owner = customer(ctx, body);
  const bundleUrn = requiredString(body, 'bundle_urn', 128);
  const bundle = ctx.state.catalog.bundles.find((b) => b.bundleUrn === bundleUrn);
  if (!bundle) throw nothingAt(`bundle_urn: no bundle '${bundleUrn.slice(0, 64)}'`);
  const now = ctx.state.now;
  const s: SubscriptionRecord = {
    orderIdentifier: prefixedId('or_', now),
    tenant: owner.tenant,
    originalOrderIdentifier: null,
    replacedByOrderIdentifier: null,
    correlationId: null,
    customerUrn: owner.customerUrn,
    bundle,
    state: 'Active',
    startDate: now,
    endDate: null,
    currentPeriodStart: now,
    currentPeriodEnd: addPeriod(now, bundle.period.unit, bundle.period.count),
    trialEndDate: null,
    cancelationMethod: null,
    canceledAt: null,
    paymentMethodUrn: null,
    initialAssignmentType: 'Purchase',
    subscriptionChannel: requiredString(body, 'channel', 64),
    campaign: null,
    cancelRequest: null,
    dunning: null,
    // Its store charged the first period.
    paidCycles: 1,
  };
  ctx.state.subscriptions.set(s.orderIdentifier, s);
  ctx.state.because(system(ctx, s.subscriptionChannel), () => {
    emitSubscription(ctx, 'created', s, null);
    grantBundle(ctx, s);
    emitStateAudit(ctx, s, null);
  });
  return subscriptionJson(s);
};

// Portal pause / resume (item 47): C2A cannot pause; a paused subscription does not renew. On resume its period
// starts afresh from now (no charge: the portal decides what the resumed period costs, the emulator charges at its end).
const pauseResume =
  (action: 'pause' | 'resume'): Handler =>
  ({ ctx, params }) => {
    const s = subscription(ctx, params.id);
    const allowed = action === 'pause' ? ['Trial', 'Active', 'Reactivated'] : ['Paused'];
    if (!allowed.includes(s.state))
      throw new EmulatorError(409, `order_identifier: cannot ${action} a ${s.state} subscription`);
    const before = s.state;
    if (action === 'pause') s.state = 'Paused';
    else {
      s.state = 'Active';
      s.currentPeriodStart = ctx.state.now;
      s.currentPeriodEnd = addPeriod(ctx.state.now, s.bundle.period.unit, s.bundle.period.count);
    }
    ctx.state.because(portal(ctx), () => {
      emitSubscription(ctx, action === 'pause' ? 'paused' : 'resumed', s, before);
      emitStateAudit(ctx, s, before);
    });
    return subscriptionJson(s);
  };

const refund: Handler = ({ ctx, params, body }) => {
  const p = ctx.state.payments.get(params.urn ?? '');
  if (!p) throw nothingAt(`payment_urn: no payment '${(params.urn ?? '').slice(0, 64)}'`);
  const left = p.amountMilpieces - p.refundedMilpieces;
  if (p.state === 'Failed' || left <= 0n) throw new EmulatorError(409, 'payment_urn: nothing left to refund');
  const amount =
    body.amount_milpieces === undefined ? left : BigInt(integer(body.amount_milpieces, 'amount_milpieces', 1));
  if (amount > left) throw invalidInput('amount_milpieces', `must be at most ${left} (what is left to refund)`);
  p.refundedMilpieces += amount;
  if (p.refundedMilpieces === p.amountMilpieces) p.state = 'Refunded';
  ctx.state.because(portal(ctx), () => emitPayment(ctx, 'refunded', p, null));
  return { payment_urn: p.paymentUrn, state: p.state, refunded_milpieces: Number(p.refundedMilpieces) };
};

// The record as stored, with what only the emulator keeps (debug read).
const storedSubscription: Handler = ({ ctx, params }) => {
  const s = subscription(ctx, params.id);
  return {
    ...subscriptionJson(s),
    tenant: s.tenant,
    campaign: s.campaign && { campaign_code: s.campaign.code.campaignCode, cycles_left: s.campaign.cyclesLeft },
    cancel_request: s.cancelRequest,
    dunning: s.dunning,
  };
};

/** Test cards, 3-D Secure, grants, campaigns, store subscriptions and portal actions (items 45–47). */
export const worldControls = [
  route<Handler>('POST', '/__emulator/payment-methods', paymentMethods),
  route<Handler>('POST', '/__emulator/3ds/{id}', threeDs),
  route<Handler>('POST', '/__emulator/entitlements/grant', grantControl),
  route<Handler>('POST', '/__emulator/entitlements/revoke', revokeControl),
  route<Handler>('POST', '/__emulator/campaigns/{code}/trigger', trigger),
  route<Handler>('POST', '/__emulator/subscriptions', otherChannel),
  route<Handler>('POST', '/__emulator/subscriptions/{id}/pause', pauseResume('pause')),
  route<Handler>('POST', '/__emulator/subscriptions/{id}/resume', pauseResume('resume')),
  route<Handler>('GET', '/__emulator/subscriptions/{id}', storedSubscription),
  route<Handler>('POST', '/__emulator/payments/{urn}/refund', refund),
];
