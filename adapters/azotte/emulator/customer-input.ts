import type { Body } from '../../kit/emulator/http-io';
import { type Violations, optObject } from './fields';
import type { CustomerRecord } from './records';

const EMAIL = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;
const E164 = /^\+[1-9]\d{7,14}$/;
const COUNTRY = /^[A-Z]{2}$/;
const LANGUAGE = /^[a-z]{2}$/;

/** The customer fields a store or update may set (item 14); undefined = not given. */
export type CustomerChanges = Partial<
  Pick<
    CustomerRecord,
    'email' | 'phoneNumber' | 'firstName' | 'lastName' | 'legalType' | 'primaryBillingAddress' | 'claimedRegion'
  >
>;

/** Reads and checks the fields of `customer` and `claimedRegion` (item 14); absent and null fields are not given. */
export function customerChanges(customer: Body, request: Body, v: Violations): CustomerChanges {
  const changes: CustomerChanges = {};
  const email = v.str(customer, 'email', 'customer.email');
  if (email !== undefined) {
    if (email.length > 254 || !EMAIL.test(email)) v.add('customer.email', 'must be an email address (name@domain.tld)');
    changes.email = email;
  }
  const phone = v.str(customer, 'phoneNumber', 'customer.phoneNumber');
  if (phone !== undefined) {
    if (!E164.test(phone)) v.add('customer.phoneNumber', 'must be E.164 (+ and 8–15 digits)');
    changes.phoneNumber = phone;
  }
  for (const key of ['firstName', 'lastName'] as const) {
    const name = v.str(customer, key, `customer.${key}`);
    if (name === undefined) continue;
    if (name.length > 100) v.add(`customer.${key}`, 'must be at most 100 characters');
    changes[key] = name;
  }
  const legalType = v.str(customer, 'legalType', 'customer.legalType');
  if (legalType !== undefined) {
    if (legalType !== 'Individual' && legalType !== 'Corporate') {
      v.add('customer.legalType', 'must be Individual or Corporate');
    } else if (legalType === 'Corporate' && !optObject(customer, 'corporationInfo')) {
      v.add('customer.corporationInfo', 'is required for a Corporate customer');
    } else changes.legalType = legalType;
  }
  const address = optObject(customer, 'primaryBillingAddress');
  if (address) changes.primaryBillingAddress = address;
  const region = optObject(request, 'claimedRegion');
  if (region) {
    const countryCode = v.str(region, 'countryCode', 'claimedRegion.countryCode') ?? '';
    const languageCode = v.str(region, 'languageCode', 'claimedRegion.languageCode') ?? '';
    if (!COUNTRY.test(countryCode)) v.add('claimedRegion.countryCode', 'must be ISO 3166-1 alpha-2, upper case');
    if (!LANGUAGE.test(languageCode)) v.add('claimedRegion.languageCode', 'must be ISO 639-1, lower case');
    changes.claimedRegion = { countryCode, languageCode };
  }
  return changes;
}
