import { requiredString } from '../../kit/emulator/body-readers';
import { type Route, route } from '../../kit/emulator/router';
import { API, type ApiHandler } from './api-request';
import { ownCustomer } from './customer-routes';
import { newSessionToken } from './ids';
import { conflict, invalidField } from './problems';
import type { SessionKind, SessionRecord } from './records';
import { secureUrl } from './validation';

/** A hosted checkout or portal session is valid 24 h. */
const SESSION_TTL_MS = 24 * 3_600_000;

/** Checkout session: the membership must be the customer's and Incomplete. */
const checkoutSession: ApiHandler = (request) => {
  const { ctx, body } = request;
  const customerKey = requiredString(body, 'customerKey', 100);
  const membershipKey = requiredString(body, 'membershipKey', 100);
  const returnUrl = secureUrl(body, 'returnToWebsiteLink', false) ?? null;
  const customer = ownCustomer(request, customerKey);
  const membership = ctx.state.memberships.get(membershipKey);
  if (!membership || membership.customerKey !== customer.key) {
    throw invalidField('membershipKey', 'is not a membership of this customer');
  }
  if (membership.status !== 'Incomplete') throw conflict('Membership is not awaiting payment');
  const session = open(
    ctx.state.sessions,
    'checkout',
    customer.merchant,
    customer.key,
    membership.key,
    returnUrl,
    ctx.state.now,
  );
  return { status: 200, body: { checkoutRedirectUrl: `${ctx.baseUrl}/hosted/checkout/${session.token}` } };
};

const portalSession: ApiHandler = (request) => {
  const { ctx, body } = request;
  const customerKey = requiredString(body, 'customerKey', 100);
  const returnUrl = secureUrl(body, 'returnToWebsiteLink', false) ?? null;
  const customer = ownCustomer(request, customerKey);
  const session = open(ctx.state.sessions, 'portal', customer.merchant, customer.key, null, returnUrl, ctx.state.now);
  return { status: 200, body: { portalRedirectUrl: `${ctx.baseUrl}/hosted/portal/${session.token}` } };
};

function open(
  sessions: Map<string, SessionRecord>,
  kind: SessionKind,
  merchant: string,
  customerKey: string,
  membershipKey: string | null,
  returnUrl: string | null,
  now: number,
): SessionRecord {
  const session: SessionRecord = {
    token: newSessionToken(),
    kind,
    merchant,
    customerKey,
    membershipKey,
    returnUrl,
    expiresAt: now + SESSION_TTL_MS,
  };
  sessions.set(session.token, session);
  return session;
}

export const sessionRoutes: Route<ApiHandler>[] = [
  route('POST', `${API}/checkout/session`, checkoutSession),
  route('POST', `${API}/portal/session`, portalSession),
];
