import { advanceClock } from './billing-engine';
import { type Completion, completeSession, declineSession, expireSession, sessionView } from './checkout';
import type { EmulatorContext } from './context';
import {
  type ControlHandler as KitControlHandler,
  type ControlRequest as KitControlRequest,
  contextControls,
} from '../../kit/emulator/controls';
import { type Route, route } from '../../kit/emulator/router';
import { notFound } from './errors';
import { pauseSubscription } from './subscription-lifecycle';
import type { BillingInterval } from './types';
import { integer, oneOf, optionalString, optionalUrl, requiredString } from './validation';
import { invoiceJson, subscriptionJson, tradeJson } from './wire';

type ControlRequest = KitControlRequest<EmulatorContext>;
type ControlHandler = KitControlHandler<EmulatorContext>;

const addMerchant: ControlHandler = ({ ctx, body }) => {
  const merchant = {
    accessNo: requiredString(body, 'access_no'),
    subMerchantId: requiredString(body, 'sub_merchant_id'),
    apiKey: requiredString(body, 'api_key'),
    accessSecret: requiredString(body, 'access_secret'),
    webhookSecret: requiredString(body, 'webhook_secret'),
    webhookUrl: optionalUrl(body, 'webhook_url'),
    renewals: oneOf(body, 'renewals', ['provider', 'merchant'] as const, 'provider'),
    dashboardReturnUrl: optionalUrl(body, 'dashboard_return_url'),
    dashboardCancelUrl: optionalUrl(body, 'dashboard_cancel_url'),
  };
  ctx.state.addMerchant(merchant);
  return { access_no: merchant.accessNo };
};

const addPrice: ControlHandler = ({ ctx, body }) => {
  const priceId = requiredString(body, 'price_id');
  ctx.state.addPrice({
    priceId,
    amount: requiredString(body, 'amount'),
    currency: requiredString(body, 'currency'),
    interval: oneOf<BillingInterval>(body, 'interval', ['day', 'week', 'month', 'year'], 'month'),
    intervalCount: integer(body.interval_count ?? 1, 'interval_count', 1),
    trialDays: integer(body.trial_days ?? 0, 'trial_days', 0),
    totalCycles: integer(body.total_cycles ?? 0, 'total_cycles', 0),
  });
  return { price_id: priceId };
};

function sessionOf({ ctx, params }: ControlRequest) {
  const session = ctx.state.sessions.get(params.id ?? '');
  if (!session) throw notFound('id', 'session', params.id ?? '');
  return session;
}

function completionJson(ctx: EmulatorContext, done: Completion): Record<string, unknown> {
  return {
    session: sessionView(ctx, done.session),
    trade: tradeJson(done.trade),
    ...(done.subscription && { subscription: subscriptionJson(done.subscription) }),
    ...(done.invoice && { invoice: invoiceJson(done.invoice) }),
  };
}

const complete: ControlHandler = (request) =>
  completionJson(request.ctx, completeSession(request.ctx, sessionOf(request)));

const decline: ControlHandler = (request) => {
  const { ctx, body } = request;
  const trade = declineSession(ctx, sessionOf(request), {
    code: optionalString(body, 'code') ?? 'card_declined',
    message: optionalString(body, 'message') ?? 'Your card was declined.',
  });
  return { session: sessionView(ctx, sessionOf(request)), trade: tradeJson(trade) };
};

const expire: ControlHandler = (request) => sessionView(request.ctx, expireSession(request.ctx, sessionOf(request)));

const failRefunds: ControlHandler = ({ ctx, body }) => {
  const count = integer(body.count ?? 1, 'count', 0);
  ctx.refundFailures.arm(count);
  return { count };
};

const requestIdReplay: ControlHandler = ({ ctx, body }) => {
  ctx.requestIdReplay.enabled = body.enabled !== false;
  return { enabled: ctx.requestIdReplay.enabled };
};

const pause: ControlHandler = ({ ctx, params }) => {
  const sub = ctx.state.subscriptions.get(params.id ?? '');
  if (!sub) throw notFound('id', 'subscription', params.id ?? '');
  pauseSubscription(ctx, sub);
  return subscriptionJson(sub);
};

const reset: ControlHandler = ({ ctx }) => {
  ctx.state.reset();
  ctx.webhooks.reset();
  ctx.work.cancelTimers();
  ctx.apiFaults.clear();
  ctx.chargeFailures.clear();
  ctx.refundFailures.clear();
  ctx.requestIdReplay.enabled = true;
  return { reset: true };
};

/** The /__emulator test controls: the kit's standard ones, then Subotiz's own. */
export const controlRoutes: readonly Route<ControlHandler>[] = [
  ...contextControls<EmulatorContext>(advanceClock),
  route('POST', '/__emulator/merchants', addMerchant),
  route('POST', '/__emulator/prices', addPrice),
  route('POST', '/__emulator/sessions/{id}/complete', complete),
  route('POST', '/__emulator/sessions/{id}/decline', decline),
  route('POST', '/__emulator/sessions/{id}/expire', expire),
  route('POST', '/__emulator/refunds/fail-next', failRefunds),
  route('POST', '/__emulator/request-id-replay', requestIdReplay),
  route('POST', '/__emulator/subscriptions/{id}/pause', pause),
  route('GET', '/__emulator/state', ({ ctx }) => ctx.state.counts()),
  route('POST', '/__emulator/reset', reset),
];
