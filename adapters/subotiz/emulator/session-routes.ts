import type { ApiHandler, ApiRequest } from './api-request';
import { refreshSession, sessionView } from './checkout';
import { invalidParameter, notFound } from './errors';
import { isCurrencyCode, parseAmount } from './money';
import type { SessionRecord } from './records';
import type { EmulatorMerchant } from './types';
import { route } from '../../kit/emulator/router';
import {
  type Body,
  integer,
  metadata,
  oneOf,
  optionalEmail,
  optionalString,
  optionalUrl,
  requiredString,
} from './validation';
import { SESSION_VALIDITY_SECONDS } from './wire';

/** Creates a Checkout Session (`POST /api/v1/session`), validating every field the README lists. */
const createSession: ApiHandler = ({ ctx, merchant, body }) => {
  const { state } = ctx;
  const accessNo = requiredString(body, 'access_no', 64);
  if (accessNo !== merchant.accessNo)
    throw invalidParameter('access_no', `'${accessNo}' is not the caller's access_no`);
  const subMerchantId = requiredString(body, 'sub_merchant_id', 64);
  if (subMerchantId !== merchant.subMerchantId) {
    throw invalidParameter('sub_merchant_id', `'${subMerchantId}' is not the caller's sub_merchant_id`);
  }
  const orderId = requiredString(body, 'order_id', 64);
  const payerId = optionalString(body, 'payer_id', 64) ?? null;
  const customerId = optionalString(body, 'customer_id', 64) ?? null;
  const email = optionalEmail(body, 'email') ?? null;
  if (!payerId && !customerId && !email) {
    throw invalidParameter('payer_id', 'one of payer_id, customer_id or email is required');
  }
  if (customerId && !state.owned(state.customers, customerId, merchant.accessNo)) {
    throw invalidParameter('customer_id', `customer '${customerId}' not found`);
  }
  const mode = oneOf(body, 'mode', ['checkout', 'payment'], 'checkout');
  const charge = mode === 'checkout' ? lineItem(ctx, body) : paymentAmount(body);
  const urls = redirectUrls(merchant, body);
  const now = state.now;
  const session: SessionRecord = {
    id: state.ids.id(),
    accessNo: merchant.accessNo,
    subMerchantId: merchant.subMerchantId,
    orderId,
    payerId,
    customerId,
    email,
    mode,
    ...charge,
    ...urls,
    metadata: metadata(body),
    status: 'open',
    tradeId: null,
    subscriptionId: null,
    createdAt: now,
    expiresAt: now + SESSION_VALIDITY_SECONDS * 1000,
  };
  state.sessions.set(session.id, session);
  return sessionView(ctx, session);
};

/**
 * The integration method and where the buyer goes afterwards, as the Checkout Session parameter table says:
 * `integration_method` is required (`hosted` | `embedded`); `return_url` is required and `cancel_url` is required
 * for hosted — each may be left out only when the dashboard has a default (the API reference's fallback), which
 * is then what the session carries. `redirect_on_completion` (`always` default, `if_required` for embedded).
 */
function redirectUrls(
  merchant: EmulatorMerchant,
  body: Body,
): Pick<SessionRecord, 'integrationMethod' | 'redirectOnCompletion' | 'returnUrl' | 'cancelUrl'> {
  const integrationMethod = oneOf(body, 'integration_method', ['hosted', 'embedded']);
  const returnUrl = optionalUrl(body, 'return_url') ?? merchant.dashboardReturnUrl ?? null;
  if (returnUrl === null) throw invalidParameter('return_url', 'is required (no default return URL in the dashboard)');
  const cancelUrl = optionalUrl(body, 'cancel_url') ?? merchant.dashboardCancelUrl ?? null;
  if (cancelUrl === null && integrationMethod === 'hosted') {
    throw invalidParameter('cancel_url', 'is required for a hosted checkout (no default cancel URL in the dashboard)');
  }
  const redirectOnCompletion = oneOf(body, 'redirect_on_completion', ['always', 'if_required'], 'always');
  return { integrationMethod, redirectOnCompletion, returnUrl, cancelUrl };
}

type Charge = Pick<SessionRecord, 'priceId' | 'quantity' | 'amountMinor' | 'currency'>;

// A checkout sells exactly one price. What is charged now is price × quantity, or nothing when the price starts
// with a trial (the card is only saved).
function lineItem(ctx: ApiRequest['ctx'], body: Body): Charge {
  const items = body.line_items;
  if (!Array.isArray(items) || items.length !== 1) {
    throw invalidParameter('line_items', 'exactly one item is required when mode is checkout');
  }
  const item: unknown = items[0];
  if (typeof item !== 'object' || item === null) throw invalidParameter('line_items[0]', 'must be an object');
  const priceId = requiredString(item as Body, 'price_id', 64, 'line_items[0].price_id');
  const price = ctx.state.prices.get(priceId);
  if (!price) throw invalidParameter('line_items[0].price_id', `price '${priceId}' not found`);
  const quantity = integer((item as Body).quantity ?? '1', 'line_items[0].quantity', 1, 10_000);
  const amountMinor = price.trialDays > 0 ? 0n : price.amountMinor * BigInt(quantity);
  return { priceId, quantity, amountMinor, currency: price.currency };
}

function paymentAmount(body: Body): Charge {
  if (body.line_items !== undefined && body.line_items !== null) {
    throw invalidParameter('line_items', 'must be absent when mode is payment');
  }
  const currency = requiredString(body, 'currency', 3);
  if (!isCurrencyCode(currency)) throw invalidParameter('currency', `'${currency}' is not an ISO 4217 code`);
  if (body.amount === undefined || body.amount === null || body.amount === '') {
    throw invalidParameter('amount', 'is required when mode is payment');
  }
  const amountMinor = parseAmount(body.amount, currency, 'amount');
  if (amountMinor <= 0n) throw invalidParameter('amount', 'must be greater than zero');
  return { priceId: null, quantity: 1, amountMinor, currency };
}

/** `GET /api/v1/session/{id}`. */
const getSession: ApiHandler = ({ ctx, merchant, params }) => {
  const session = ctx.state.owned(ctx.state.sessions, params.id ?? '', merchant.accessNo);
  if (!session) throw notFound('id', 'session', params.id ?? '');
  return sessionView(ctx, refreshSession(ctx, session));
};

/** Checkout Session endpoints. */
export const sessionRoutes = [
  route('POST', '/api/v1/session', createSession),
  route('GET', '/api/v1/session/{id}', getSession),
];
