import { optionalString, requiredString } from '../../kit/emulator/body-readers';
import type { Body } from '../../kit/emulator/http-io';
import { type Route, route } from '../../kit/emulator/router';
import { API, type ApiHandler, type ApiRequest } from './api-request';
import { newKey } from './ids';
import { invalidField, notFound } from './problems';
import type { CustomerRecord } from './records';
import { countryCode, email, personName, phone, uuid } from './validation';
import { customerJson } from './wire';

const MAX_TAX_IDS = 20;

/** Create Customer: idempotent by email (case-insensitive) per merchant — the same email answers the existing key. */
const createCustomer: ApiHandler = ({ ctx, merchant, body }) => {
  const processorKey = uuid(body, 'processorKey');
  if (processorKey !== merchant.processorKey.toLowerCase()) {
    throw invalidField('processorKey', "is not this merchant's processor key");
  }
  const fields = {
    firstName: personName(body, 'firstName'),
    lastName: personName(body, 'lastName'),
    email: email(body, 'email'),
    phone: phone(body, 'phone'),
    countryCode: countryCode(body, 'countryCode'),
    address1: optionalString(body, 'address1', 255) ?? null,
    address2: optionalString(body, 'address2', 255) ?? null,
    city: optionalString(body, 'city', 100) ?? null,
    state: optionalString(body, 'state', 100) ?? null,
    zipCode: optionalString(body, 'zipCode', 20) ?? null,
  };
  taxIds(body);
  const existing = customerByEmail(ctx.state.customers.values(), merchant.userName, fields.email);
  if (existing) return { status: 200, body: { customerKey: existing.key } };
  const customer: CustomerRecord = {
    key: newKey('cstmr_'),
    merchant: merchant.userName,
    ...fields,
    createdAt: ctx.state.now,
  };
  ctx.state.customers.set(customer.key, customer);
  return { status: 200, body: { customerKey: customer.key } };
};

const getCustomer: ApiHandler = (request) => ({
  status: 200,
  body: customerJson(ownCustomer(request, request.params.customerKey)),
});

/** Only the phone can change. */
const updatePhone: ApiHandler = (request) => {
  const customerKey = requiredString(request.body, 'customerKey', 100);
  const newPhone = phone(request.body, 'phone');
  const customer = ownCustomer(request, customerKey);
  customer.phone = newPhone;
  return { status: 200, body: { customerKey: customer.key } };
};

/** The merchant's customer with this key; 404 "Customer not found" for anyone else's or an unknown one. */
export function ownCustomer({ ctx, merchant }: ApiRequest, customerKey: string | undefined): CustomerRecord {
  const customer = customerKey === undefined ? undefined : ctx.state.customers.get(customerKey);
  if (!customer || customer.merchant !== merchant.userName) throw notFound('Customer');
  return customer;
}

function customerByEmail(customers: Iterable<CustomerRecord>, merchant: string, address: string) {
  const wanted = address.toLowerCase();
  for (const customer of customers) {
    if (customer.merchant === merchant && customer.email.toLowerCase() === wanted) return customer;
  }
  return undefined;
}

function taxIds(body: Body): void {
  const value = body.taxIds;
  if (value === undefined || value === null) return;
  if (!Array.isArray(value) || value.length > MAX_TAX_IDS) {
    throw invalidField('taxIds', `must be an array of at most ${MAX_TAX_IDS} strings`);
  }
  value.forEach((item, index) => {
    if (typeof item !== 'string' || item.length === 0 || item.length > 50) {
      throw invalidField(`taxIds[${index}]`, 'must be a non-empty string of at most 50 characters');
    }
  });
}

export const customerRoutes: Route<ApiHandler>[] = [
  route('POST', `${API}/customer`, createCustomer),
  route('PUT', `${API}/customer/phone`, updatePhone),
  route('GET', `${API}/customer/{customerKey}`, getCustomer),
];
