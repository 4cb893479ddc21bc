import { route } from '../../kit/emulator/router';
import { AzotteError, invalidField, success } from './answers';
import { type ApiHandler, C2A } from './api-request';
import { cancel, reactivate } from './cancellation';
import { customerOf } from './customer-routes';
import { Violations } from './fields';
import { subscriptionOf } from './offer-routes';
import type { SubscriptionRecord } from './records';
import { subscriptionJson } from './wire';

/** A confirm must follow its request within 30 minutes (item 30). */
const CANCEL_REQUEST_TTL_MS = 30 * 60_000;

const CANCELLATION_REASONS = [
  { code: 'TOO_EXPENSIVE', label: 'Too expensive' },
  { code: 'NOT_USING', label: 'I do not use it enough' },
  { code: 'OTHER', label: 'Other' },
];

type Method = 'Immediate' | 'EndOfPeriod';

// `Normal` is EndOfPeriod (item 29).
function readMethod(value: unknown): Method {
  if (value === 'Immediate') return 'Immediate';
  if (value === 'EndOfPeriod' || value === 'Normal') return 'EndOfPeriod';
  throw invalidField('cancelationMethod', 'must be Immediate or EndOfPeriod');
}

function target(request: Parameters<ApiHandler>[0]): SubscriptionRecord {
  const v = new Violations();
  const orderIdentifier = v.required(request.body, 'orderIdentifier', 'orderIdentifier', 64);
  v.done();
  return subscriptionOf(request.ctx.state, request.tenant.tenant, orderIdentifier);
}

const list: ApiHandler = ({ ctx, tenant, params }) => {
  const customer = customerOf(ctx.state, tenant.tenant, params.customerUrn);
  const all = [...ctx.state.subscriptions.values()].filter((s) => s.customerUrn === customer.customerUrn);
  return success({ result: all.map(subscriptionJson) });
};

const cancelRequest: ApiHandler = (request) => {
  const s = target(request);
  const method = readMethod(request.body.cancelationMethod);
  const ended =
    s.state === 'Expired' ||
    (s.state === 'Canceled' && s.cancelationMethod === 'Immediate') ||
    (s.endDate !== null && s.endDate <= request.ctx.state.now);
  if (ended || s.subscriptionChannel !== 'Azotte') {
    throw new AzotteError(
      'SUBSCRIPTION_NOT_CANCELABLE',
      `Subscription ${s.orderIdentifier} in state ${s.state} (channel ${s.subscriptionChannel}) cannot be canceled`,
    );
  }
  s.cancelRequest = { method, at: request.ctx.state.now };
  return success({ responseType: 'Processed', offer: null, cancellationReasons: CANCELLATION_REASONS });
};

const cancelConfirm: ApiHandler = (request) => {
  const s = target(request);
  const method = readMethod(request.body.cancelationMethod);
  // A repeated confirm of a cancel that happened changes nothing (item 30: retries must be safe).
  if (s.state === 'Canceled' && s.cancelationMethod === method && s.cancelRequest === null) return success();
  const pending = s.cancelRequest;
  if (!pending || pending.at + CANCEL_REQUEST_TTL_MS < request.ctx.state.now || pending.method !== method) {
    throw invalidField('cancelationMethod', 'no cancel request with this method in the last 30 minutes');
  }
  cancel(request.ctx, s, method);
  return success();
};

const reactivateRoute: ApiHandler = (request) => {
  const s = target(request);
  if (s.state === 'Reactivated') return success();
  const now = request.ctx.state.now;
  if (s.state !== 'Canceled' || s.cancelationMethod !== 'EndOfPeriod' || s.endDate === null || s.endDate <= now) {
    throw new AzotteError(
      'SUBSCRIPTION_NOT_REACTIVATABLE',
      `Subscription ${s.orderIdentifier}: its period has ended or it was not canceled`,
    );
  }
  reactivate(request.ctx, s);
  return success();
};

/** `/subscription/*` (items 27–31). */
export const subscriptionRoutes = [
  route<ApiHandler>('POST', `${C2A}/subscription/cancel/request`, cancelRequest),
  route<ApiHandler>('POST', `${C2A}/subscription/cancel/confirm`, cancelConfirm),
  route<ApiHandler>('POST', `${C2A}/subscription/reactivate`, reactivateRoute),
  route<ApiHandler>('GET', `${C2A}/subscription/{customerUrn}`, list),
];
