import { advanceClock } from './billing-engine';
import { rfc3339 } from './calendar';
import { type Completion, completeSession, declineSession, expireSession } from './checkout';
import type { EmulatorContext } from './context';
import { notFound } from './errors';
import { type Route, route } from './router';
import { pauseSubscription } from './subscription-lifecycle';
import type { BillingInterval } from './types';
import { type Body, integer, oneOf, optionalString, optionalUrl, requiredString } from './validation';
import { invoiceJson, sessionJson, subscriptionJson, tradeJson } from './wire';

/** A test-control call: no auth, plain JSON in and out. */
export interface ControlRequest {
  ctx: EmulatorContext;
  params: Record<string, string>;
  body: Body;
}

type ControlHandler = (request: ControlRequest) => unknown;

const addMerchant: ControlHandler = ({ ctx, body }) => {
  const merchant = {
    accessNo: requiredString(body, 'access_no'),
    subMerchantId: requiredString(body, 'sub_merchant_id'),
    apiKey: requiredString(body, 'api_key'),
    accessSecret: requiredString(body, 'access_secret'),
    webhookSecret: requiredString(body, 'webhook_secret'),
    webhookUrl: optionalUrl(body, 'webhook_url'),
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
    session: sessionJson(done.session, ctx.baseUrl),
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
  return { session: sessionJson(sessionOf(request), ctx.baseUrl), trade: tradeJson(trade) };
};

const expire: ControlHandler = (request) =>
  sessionJson(expireSession(request.ctx, sessionOf(request)), request.ctx.baseUrl);

const clock: ControlHandler = ({ ctx }) => ({ now: rfc3339(ctx.state.now) });

const advance: ControlHandler = ({ ctx, body }) => {
  advanceClock(ctx, integer(body.seconds, 'seconds', 0));
  return { now: rfc3339(ctx.state.now) };
};

const failCharges: ControlHandler = ({ ctx, body }) => {
  const count = integer(body.count ?? 1, 'count', 0);
  ctx.chargeFailures.arm(count, { code: optionalString(body, 'code'), message: optionalString(body, 'message') });
  return { count };
};

const failRefunds: ControlHandler = ({ ctx, body }) => {
  const count = integer(body.count ?? 1, 'count', 0);
  ctx.refundFailures.arm(count);
  return { count };
};

const apiFault: ControlHandler = ({ ctx, body }) => {
  const fault = {
    remaining: integer(body.count ?? 1, 'count', 1),
    status: integer(body.status ?? 503, 'status', 200, 599),
    delayMs: integer(body.delay_ms ?? 0, 'delay_ms', 0),
    after: body.after === true,
    path: optionalString(body, 'path', 2048),
  };
  ctx.apiFaults.arm(fault);
  return { count: fault.remaining, status: fault.status, delay_ms: fault.delayMs, after: fault.after };
};

const webhookFault: ControlHandler = ({ ctx, body }) => {
  const mode = oneOf(body, 'mode', ['drop', 'duplicate', 'reorder'], 'drop');
  const count = integer(body.count ?? 1, 'count', 1);
  ctx.webhooks.armFault(mode, count);
  return { mode, count };
};

const webhookDetail: ControlHandler = ({ ctx, params }) => {
  const event = ctx.webhooks.detail(params.id ?? '');
  if (!event) throw notFound('event_id', 'webhook event', params.id ?? '');
  return event;
};

const redeliver: ControlHandler = ({ ctx, params }) => {
  if (!ctx.webhooks.redeliver(params.id ?? '')) throw notFound('event_id', 'webhook event', params.id ?? '');
  return { event_id: params.id, queued: true };
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
  return { reset: true };
};

/** The /__emulator test controls. */
export const controlRoutes: readonly Route<ControlHandler>[] = [
  route('POST', '/__emulator/merchants', addMerchant),
  route('POST', '/__emulator/prices', addPrice),
  route('POST', '/__emulator/sessions/{id}/complete', complete),
  route('POST', '/__emulator/sessions/{id}/decline', decline),
  route('POST', '/__emulator/sessions/{id}/expire', expire),
  route('GET', '/__emulator/clock', clock),
  route('POST', '/__emulator/clock/advance', advance),
  route('POST', '/__emulator/charges/fail-next', failCharges),
  route('POST', '/__emulator/refunds/fail-next', failRefunds),
  route('POST', '/__emulator/faults', apiFault),
  route('POST', '/__emulator/webhooks/faults', webhookFault),
  route('GET', '/__emulator/webhooks', ({ ctx }) => ctx.webhooks.list()),
  route('GET', '/__emulator/webhooks/{id}', webhookDetail),
  route('POST', '/__emulator/webhooks/{id}/redeliver', redeliver),
  route('POST', '/__emulator/subscriptions/{id}/pause', pause),
  route('GET', '/__emulator/state', ({ ctx }) => ctx.state.counts()),
  route('POST', '/__emulator/reset', reset),
];
