import type { Body } from '../../kit/emulator/http-io';
import { route } from '../../kit/emulator/router';
import { AzotteError, type Reply, invalidField } from './answers';
import { type ApiHandler, type ApiRequest, C2A } from './api-request';
import { retryAfterSeconds } from './checkout-lifecycle';
import { customerOf } from './customer-routes';
import { Violations, optObject, requiredObject } from './fields';
import { prefixedId } from './ids';
import { checkReplaceable, subscriptionOf } from './offer-routes';
import type { CheckoutRecord, OfferItem } from './records';
import { checkoutResultJson } from './wire';

const PRINTABLE_ASCII = /^[\x20-\x7e]{1,128}$/;

/** The CheckoutResult with `Retry-After` while it is worth polling (item 24). */
function resultReply(request: ApiRequest, checkout: CheckoutRecord, status: number): Reply {
  const retryAfter = retryAfterSeconds(request.ctx, checkout);
  return {
    status,
    body: checkoutResultJson(checkout, request.ctx.baseUrl, retryAfter),
    headers: retryAfter === null ? {} : { 'Retry-After': String(retryAfter) },
  };
}

const checkout: ApiHandler = (request) => {
  const { ctx, tenant, body } = request;
  const order = requiredObject(body, 'order', 'offer/checkout');
  const paymentMethod = requiredObject(body, 'paymentMethod', 'offer/checkout');
  const v = new Violations();
  const correlationId = v.str(order, 'correlationId', 'order.correlationId') ?? '';
  if (!PRINTABLE_ASCII.test(correlationId)) v.add('order.correlationId', 'must be 1–128 printable ASCII characters');
  v.done();
  // Item 23: the same correlationId answers the first submission as it is now, whatever this body says.
  const previous = ctx.state.checkoutByCorrelation(tenant.tenant, correlationId);
  if (previous) return resultReply(request, previous, 202);

  const offerIdentifier = v.required(order, 'offerIdentifier', 'order.offerIdentifier', 64);
  const customerUrn = v.required(optObject(order, 'customer') ?? {}, 'customerUrn', 'order.customer.customerUrn', 128);
  const items = Array.isArray(order.items) ? (order.items as unknown[]) : [];
  if (items.length !== 1) v.add('order.items', 'must hold exactly one item');
  const line = (items[0] ?? {}) as Body;
  const itemIdentifier = v.required(line, 'itemIdentifier', 'order.items[0].itemIdentifier', 64);
  if (line.quantity !== 1) v.add('order.items[0].quantity', 'must be 1');
  if (v.str(paymentMethod, 'paymentChannel', 'paymentMethod.paymentChannel') !== 'CreditCard') {
    v.add('paymentMethod.paymentChannel', 'must be CreditCard');
  }
  const methodUrn = v.required(paymentMethod, 'paymentMethodUrn', 'paymentMethod.paymentMethodUrn', 128);
  v.done();
  if (offerIdentifier.startsWith('sh_')) {
    throw new AzotteError('OFFER_NOT_PURCHASABLE', 'A showcase offer cannot be checked out');
  }
  const customer = customerOf(ctx.state, tenant.tenant, customerUrn);
  const offer = ctx.state.offers.get(offerIdentifier);
  if (!offer || offer.tenant !== tenant.tenant || offer.customerUrn !== customer.customerUrn) {
    throw invalidField('order.offerIdentifier', 'no such offer for this customer');
  }
  const item: OfferItem | undefined = offer.items.find((i) => i.itemIdentifier === itemIdentifier);
  if (!item) throw invalidField('order.items[0].itemIdentifier', 'is not an item of the offer');
  if (offer.expiresAt <= ctx.state.now) throw new AzotteError('OFFER_EXPIRED', `Offer ${offerIdentifier} has expired`);
  const method = ctx.state.method(customer.customerUrn, methodUrn);
  if (!method || method.state !== 'Active') {
    throw new AzotteError('PAYMENT_METHOD_NOT_FOUND', `No active payment method ${methodUrn.slice(0, 64)}`);
  }
  if (offer.originalOrderIdentifier !== null) {
    checkReplaceable(subscriptionOf(ctx.state, tenant.tenant, offer.originalOrderIdentifier));
  }
  const now = ctx.state.now;
  const record: CheckoutRecord = {
    trackingNumber: prefixedId('trk_', now),
    tenant: tenant.tenant,
    correlationId,
    customerUrn: customer.customerUrn,
    offerIdentifier,
    item,
    interactionType: offer.interactionType,
    originalOrderIdentifier: offer.originalOrderIdentifier,
    paymentMethodUrn: method.paymentMethodUrn,
    state: 'Processing',
    createdAt: now,
    decideAt: now + ctx.state.processingDelaySeconds * 1000,
    threeDs: null,
    orderIdentifier: null,
    failure: null,
  };
  ctx.state.checkouts.set(record.trackingNumber, record);
  return resultReply(request, record, 202);
};

const status: ApiHandler = (request) => {
  const found = request.ctx.state.checkouts.get(request.params.trackingNumber ?? '');
  if (!found || found.tenant !== request.tenant.tenant) {
    throw new AzotteError(
      'ORDERED_ITEM_NOT_FOUND',
      `No checkout ${(request.params.trackingNumber ?? '').slice(0, 64)}`,
    );
  }
  return resultReply(request, found, 200);
};

/** `POST /offer/checkout` and its status (items 22–25). */
export const checkoutRoutes = [
  route<ApiHandler>('POST', `${C2A}/offer/checkout`, checkout),
  route<ApiHandler>('GET', `${C2A}/offer/checkout/{trackingNumber}/status`, status),
];
