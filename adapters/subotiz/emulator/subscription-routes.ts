import type { ApiHandler, ApiRequest } from './api-request';
import { runDue } from './billing-engine';
import { SECOND_MS } from './calendar';
import { invalidParameter, invalidState, notFound } from './errors';
import type { SubscriptionRecord, UsageRecord } from './records';
import { route } from '../../kit/emulator/router';
import { cancelSubscription, resumeSubscription, revokeCancellation } from './subscription-lifecycle';
import { integer, oneOf, optionalString, paginate, requiredString } from './validation';
import { subscriptionJson, usageJson } from './wire';

function subscriptionOf({ ctx, merchant, params }: ApiRequest): SubscriptionRecord {
  const id = params.id ?? '';
  const sub = ctx.state.owned(ctx.state.subscriptions, id, merchant.accessNo);
  if (!sub) throw notFound('id', 'subscription', id);
  return sub;
}

/** `GET /api/v1/subscription/{id}`. */
const getSubscription: ApiHandler = (request) => subscriptionJson(subscriptionOf(request));

/** `GET /api/v1/subscription?order_id&customer_id&page&page_size`, newest first. */
const listSubscriptions: ApiHandler = ({ ctx, merchant, query }) => {
  const orderId = query.get('order_id');
  const customerId = query.get('customer_id');
  const matches = [...ctx.state.subscriptions.values()]
    .filter((s) => s.accessNo === merchant.accessNo)
    .filter((s) => !orderId || s.orderId === orderId)
    .filter((s) => !customerId || s.customerId === customerId)
    .reverse();
  return paginate(matches, query, subscriptionJson);
};

/** `POST …/cancel`: no body means end_of_period. */
const cancel: ApiHandler = (request) => {
  const sub = subscriptionOf(request);
  const type = oneOf(request.body, 'cancel_type', ['end_of_period', 'immediate'], 'end_of_period');
  cancelSubscription(request.ctx, sub, type, optionalString(request.body, 'cancel_reason', 500) ?? '');
  return subscriptionJson(sub);
};

/** `POST …/revoke-cancel`. */
const revokeCancel: ApiHandler = (request) => {
  const sub = subscriptionOf(request);
  revokeCancellation(request.ctx, sub);
  return subscriptionJson(sub);
};

/** `POST …/resume`; a renewal that fell due while paused is charged right away. */
const resume: ApiHandler = (request) => {
  const sub = subscriptionOf(request);
  resumeSubscription(request.ctx, sub);
  runDue(request.ctx, request.ctx.state.now);
  return subscriptionJson(sub);
};

/** `POST …/usage`: a repeated idempotency_key returns the first record and records nothing. */
const recordUsage: ApiHandler = (request) => {
  const { ctx, body } = request;
  const sub = subscriptionOf(request);
  const idempotencyKey = requiredString(body, 'idempotency_key', 255);
  const key = `${sub.id}\n${idempotencyKey}`;
  const existing = ctx.state.usage.get(key);
  if (existing) return usageJson(existing);
  if (sub.status !== 'trial' && sub.status !== 'active' && sub.status !== 'past_due') {
    throw invalidState(`subscription '${sub.id}' is ${sub.status}; usage needs trial, active or past_due`);
  }
  const record: UsageRecord = {
    id: ctx.state.ids.id(),
    accessNo: sub.accessNo,
    subscriptionId: sub.id,
    quantity: integer(body.quantity, 'quantity', 1),
    timestamp:
      body.timestamp === undefined ? Math.floor(ctx.state.now / SECOND_MS) : integer(body.timestamp, 'timestamp', 0),
    idempotencyKey,
  };
  ctx.state.usage.set(key, record);
  return usageJson(record);
};

/** `GET …/usage?start&end` (unix seconds, default the current period, end exclusive). */
const getUsage: ApiHandler = (request) => {
  const { ctx, query } = request;
  const sub = subscriptionOf(request);
  const start = integer(query.get('start') ?? String(sub.periodStart / SECOND_MS), 'start', 0);
  const end = integer(query.get('end') ?? String(sub.periodEnd / SECOND_MS), 'end', 0);
  if (end < start) throw invalidParameter('end', 'must not be before start');
  const list = [...ctx.state.usage.values()].filter(
    (u) => u.subscriptionId === sub.id && u.timestamp >= start && u.timestamp < end,
  );
  return {
    subscription_id: sub.id,
    total_quantity: list.reduce((sum, u) => sum + u.quantity, 0),
    list: list.map(usageJson),
  };
};

/** Subscription endpoints. */
export const subscriptionRoutes = [
  route('GET', '/api/v1/subscription', listSubscriptions),
  route('GET', '/api/v1/subscription/{id}', getSubscription),
  route('POST', '/api/v1/subscription/{id}/cancel', cancel),
  route('POST', '/api/v1/subscription/{id}/revoke-cancel', revokeCancel),
  route('POST', '/api/v1/subscription/{id}/resume', resume),
  route('POST', '/api/v1/subscription/{id}/usage', recordUsage),
  route('GET', '/api/v1/subscription/{id}/usage', getUsage),
];
