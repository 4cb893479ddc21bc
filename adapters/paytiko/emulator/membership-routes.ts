import { optionalString, requiredString } from '../../kit/emulator/body-readers';
import { type Route, route } from '../../kit/emulator/router';
import { API, type ApiHandler, type ApiRequest } from './api-request';
import { initialInvoice } from './checkout-payment';
import { ownCustomer } from './customer-routes';
import { newKey } from './ids';
import {
  billingCycle,
  chargeEmitterQueue,
  endDate,
  MAX_METADATA,
  metadata,
  pricing,
  requiredObject,
} from './membership-input';
import { cancelMembership } from './membership-endings';
import { requestUpdate } from './membership-updates';
import { formatMinorUnits } from '../../kit/currencies';
import { lineTotal, parseUnitPrice } from './money';
import { invalidField, notFound } from './problems';
import type { MembershipChanges, MembershipRecord } from './records';
import { optionalInteger, secureUrl } from './validation';
import { membershipJson } from './wire';

/** Create Membership: idempotent by orderId within the customer. New memberships are Incomplete until paid. */
const createMembership: ApiHandler = (request) => {
  const { ctx, body } = request;
  const customerKey = requiredString(body, 'customerKey', 100);
  const name = requiredString(body, 'subscriptionName', 250);
  const end = endDate(body, ctx.state.now) ?? null;
  const webhookUrl = secureUrl(body, 'webhookUrl', true) ?? '';
  const meta = metadata(body) ?? null;
  const queue = chargeEmitterQueue(body);
  const productInfo = requiredObject(body, 'productInfo');
  const orderId = requiredString(productInfo, 'orderId', 100, 'productInfo.orderId');
  const description = optionalString(productInfo, 'description', MAX_METADATA, 'productInfo.description') ?? null;
  const price = pricing(requiredObject(body, 'pricingInfo'));
  const cycle = billingCycle(requiredObject(body, 'billingCycle'), 'billingCycle.');
  const customer = ownCustomer(request, customerKey);
  for (const existing of ctx.state.memberships.values()) {
    if (existing.customerKey === customer.key && existing.orderId === orderId) {
      return { status: 200, body: { membershipKey: existing.key } };
    }
  }
  const now = ctx.state.now;
  const membership: MembershipRecord = {
    key: newKey('mmbrshp_'),
    id: ctx.state.nextMembershipId(),
    merchant: customer.merchant,
    customerKey: customer.key,
    orderId,
    status: 'Incomplete',
    name,
    description,
    currency: price.currency,
    totalAmount: price.totalAmount,
    pricePerUnit: price.pricePerUnit?.text ?? null,
    quantity: price.quantity,
    ...cycle,
    startDate: null,
    currentPeriodStart: null,
    currentPeriodEnd: null,
    endDate: end,
    canceledAt: null,
    metadata: meta,
    credits: 0n,
    webhookUrl,
    chargeQueue: queue,
    cycle: 0,
    dunning: null,
    pendingUpdate: null,
    invoices: [],
    createdAt: now,
    updatedAt: now,
  };
  ctx.state.memberships.set(membership.key, membership);
  initialInvoice(ctx, membership);
  return { status: 200, body: { membershipKey: membership.key } };
};

const getMembership: ApiHandler = (request) => ({
  status: 200,
  body: membershipJson(ownMembership(request, request.params.membershipKey)),
});

/** Update Membership: 202 with the proration (negative = credit); not idempotent. */
const updateMembership: ApiHandler = (request) => {
  const { ctx, body } = request;
  const membershipKey = requiredString(body, 'membershipKey', 100);
  const changes: MembershipChanges = {};
  const name = optionalString(body, 'name', 250);
  if (name !== undefined) changes.name = name;
  const end = endDate(body, ctx.state.now);
  if (end !== undefined) changes.endDate = end;
  const meta = metadata(body);
  if (meta !== undefined) changes.metadata = meta;
  const price =
    body.pricePerUnit === undefined || body.pricePerUnit === null
      ? undefined
      : parseUnitPrice(body.pricePerUnit, 'pricePerUnit');
  const quantity = optionalInteger(body, 'quantity', 'quantity', 1, 1_000_000);
  secureUrl(body, 'returnToWebsiteLink', false);
  const m = ownMembership(request, membershipKey);
  const cycle = billingCycle(body, '', m.intervalType);
  if (body.intervalType !== undefined && body.intervalType !== null) changes.intervalType = cycle.intervalType;
  if (body.intervalCount !== undefined && body.intervalCount !== null) changes.intervalCount = cycle.intervalCount;
  let newTotal = m.totalAmount;
  if (price !== undefined || quantity !== undefined) {
    const unitText = price?.text ?? m.pricePerUnit;
    if (unitText === null)
      throw invalidField('pricePerUnit', 'is required to change the quantity of a membership created without one');
    const unit = price ?? parseUnitPrice(Number(unitText), 'pricePerUnit');
    const units = quantity ?? m.quantity ?? 1;
    const total = lineTotal(unit, units, m.currency);
    if (total === undefined) throw invalidField('pricePerUnit', `× quantity must be a whole amount in ${m.currency}`);
    newTotal = total;
    if (price !== undefined) changes.pricePerUnit = price.text;
    if (quantity !== undefined) changes.quantity = quantity;
  }
  if (Object.keys(changes).length === 0) throw invalidField('membershipKey', 'the update changes nothing');
  const proration = requestUpdate(ctx, m, changes, newTotal);
  return {
    status: 202,
    body: { membershipKey: m.key, prorationAmount: formatMinorUnits(proration, m.currency), currency: m.currency },
  };
};

/** Cancel: immediate; a repeated cancel answers the same. */
const cancel: ApiHandler = (request) => {
  const m = ownMembership(request, request.params.membershipKey);
  cancelMembership(request.ctx, m);
  return { status: 200, body: { membershipKey: m.key, status: m.status } };
};

/** The merchant's membership with this key; 404 "Membership not found" otherwise. */
export function ownMembership({ ctx, merchant }: ApiRequest, key: string | undefined): MembershipRecord {
  const membership = key === undefined ? undefined : ctx.state.memberships.get(key);
  if (!membership || membership.merchant !== merchant.userName) throw notFound('Membership');
  return membership;
}

export const membershipRoutes: Route<ApiHandler>[] = [
  route('POST', `${API}/membership`, createMembership),
  route('PUT', `${API}/membership`, updateMembership),
  route('POST', `${API}/membership/cancel/{membershipKey}`, cancel),
  route('GET', `${API}/membership/{membershipKey}`, getMembership),
];
