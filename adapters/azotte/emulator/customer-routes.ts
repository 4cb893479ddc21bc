import { route } from '../../kit/emulator/router';
import { AzotteError, invalidField, success } from './answers';
import { type ApiHandler, C2A } from './api-request';
import { type CustomerChanges, customerChanges } from './customer-input';
import { Violations, requiredObject } from './fields';
import { addTestCards, isTestCard, methodsOf } from './payment-methods';
import type { CustomerRecord } from './records';
import type { EmulatorState } from './state';
import { customerJson, paymentMethodJson } from './wire';

/** The tenant's customer, or 404 CUSTOMER_NOT_FOUND. */
export function customerOf(state: EmulatorState, tenant: string, urn: string | undefined): CustomerRecord {
  const customer = urn === undefined ? undefined : state.customers.get(urn);
  if (!customer || customer.tenant !== tenant) {
    throw new AzotteError('CUSTOMER_NOT_FOUND', `No customer ${String(urn).slice(0, 64)} in tenant ${tenant}`);
  }
  return customer;
}

function byExternalId(state: EmulatorState, tenant: string, externalId: string): CustomerRecord | undefined {
  for (const c of state.customers.values()) if (c.tenant === tenant && c.externalIdentifier === externalId) return c;
  return undefined;
}

// Email (case-insensitive) and phone are unique per tenant (item 14).
function checkUnique(state: EmulatorState, tenant: string, changes: CustomerChanges, self?: string): void {
  for (const c of state.customers.values()) {
    if (c.tenant !== tenant || c.customerUrn === self) continue;
    if (changes.email && c.email?.toLowerCase() === changes.email.toLowerCase()) {
      throw new AzotteError('USER_WITH_SAME_EMAIL_EXISTS', `Another customer has email ${changes.email}`);
    }
    if (changes.phoneNumber && c.phoneNumber === changes.phoneNumber) {
      throw new AzotteError('USER_WITH_SAME_PHONE_NUMBER_EXISTS', `Another customer has phone ${changes.phoneNumber}`);
    }
  }
}

const validate: ApiHandler = ({ ctx, tenant, body }) => {
  const v = new Violations();
  const externalId = v.required(body, 'externalId', 'externalId', 128);
  v.done();
  return success({ isAvailable: byExternalId(ctx.state, tenant.tenant, externalId) === undefined });
};

const store: ApiHandler = ({ ctx, tenant, body }) => {
  const customer = requiredObject(body, 'customer', 'customer/store');
  const v = new Violations();
  const externalIdentifier = v.required(customer, 'externalIdentifier', 'customer.externalIdentifier', 128);
  const changes = customerChanges(customer, body, v);
  v.done();
  const existing = byExternalId(ctx.state, tenant.tenant, externalIdentifier);
  if (existing) {
    // Item 16: a repeated store answers the stored customer, so a retry needs no second call.
    throw new AzotteError(
      'CUSTOMER_ALREADY_STORED',
      `A customer with externalIdentifier ${externalIdentifier} exists`,
      [],
      { result: customerJson(existing) },
    );
  }
  checkUnique(ctx.state, tenant.tenant, changes);
  const number = ctx.state.nextCustomerNumber();
  const record: CustomerRecord = {
    customerUrn: `cu.00.${number}`,
    tenant: tenant.tenant,
    externalIdentifier,
    email: changes.email ?? null,
    phoneNumber: changes.phoneNumber ?? null,
    firstName: changes.firstName ?? null,
    lastName: changes.lastName ?? null,
    legalType: changes.legalType ?? 'Individual',
    primaryBillingAddress: changes.primaryBillingAddress ?? null,
    claimedRegion: changes.claimedRegion ?? null,
    createdAt: ctx.state.now,
    lastMethod: 0,
  };
  ctx.state.customers.set(record.customerUrn, record);
  if (tenant.testCards) addTestCards(ctx.state, record);
  return success({ result: customerJson(record) });
};

const update: ApiHandler = ({ ctx, tenant, body }) => {
  const customer = requiredObject(body, 'customer', 'customer/update');
  const v = new Violations();
  const urn = v.required(customer, 'customerUrn', 'customer.customerUrn', 128);
  const changes = customerChanges(customer, body, v);
  v.done();
  const record = customerOf(ctx.state, tenant.tenant, urn);
  checkUnique(ctx.state, tenant.tenant, changes, record.customerUrn);
  Object.assign(record, changes);
  return success({ result: customerJson(record) });
};

const info: ApiHandler = ({ ctx, tenant, query }) => {
  const urn = query.get('urn') || undefined;
  const exId = query.get('exId') || undefined;
  if (urn === undefined && exId === undefined) throw invalidField('urn', 'urn or exId is required');
  const record =
    urn !== undefined
      ? customerOf(ctx.state, tenant.tenant, urn)
      : customerOf(ctx.state, tenant.tenant, byExternalId(ctx.state, tenant.tenant, exId ?? '')?.customerUrn);
  return success({
    result: { ...customerJson(record), options: { availableChannels: ['CARD'], canSavePaymentMethod: true } },
  });
};

const listMethods: ApiHandler = ({ ctx, tenant, query }) => {
  const customer = customerOf(ctx.state, tenant.tenant, query.get('c') ?? undefined);
  return success({ result: methodsOf(ctx.state, customer.customerUrn).map(paymentMethodJson) });
};

// `info?p=` names no customer, but test cards share their urn across customers (item 45): for them the customer is
// named by `c=` (else INVALID_REQUEST on `c`). With `c=`, any method must be that customer's.
const methodInfo: ApiHandler = ({ ctx, tenant, query }) => {
  const urn = query.get('p') ?? '';
  const customerUrn = query.get('c') || undefined;
  const owner = customerUrn === undefined ? undefined : customerOf(ctx.state, tenant.tenant, customerUrn);
  if (owner === undefined && isTestCard(urn)) {
    throw invalidField('c', `c (the customerUrn) is required for the test card ${urn.slice(0, 64)}`);
  }
  const method = [...ctx.state.methods.values()].find(
    (m) =>
      m.paymentMethodUrn === urn &&
      m.state !== 'Deleted' &&
      (owner === undefined
        ? ctx.state.customers.get(m.customerUrn)?.tenant === tenant.tenant
        : m.customerUrn === owner.customerUrn),
  );
  if (!method) throw new AzotteError('PAYMENT_METHOD_NOT_FOUND', `No payment method ${urn.slice(0, 64)}`);
  return success({ result: paymentMethodJson(method) });
};

/** `/customer/*` and `/customer/payment/methods/*` (items 13–19). */
export const customerRoutes = [
  route<ApiHandler>('POST', `${C2A}/customer/validate`, validate),
  route<ApiHandler>('POST', `${C2A}/customer/store`, store),
  route<ApiHandler>('POST', `${C2A}/customer/update`, update),
  route<ApiHandler>('GET', `${C2A}/customer/info`, info),
  route<ApiHandler>('GET', `${C2A}/customer/payment/methods/list`, listMethods),
  route<ApiHandler>('GET', `${C2A}/customer/payment/methods/info`, methodInfo),
];
