import { isCountry } from '../../src/domain/countries';
import { failedPrecondition } from '../../src/domain/errors';
import type { Validator } from '../../src/domain/validation';
import type { CustomerDetails, ProviderCallContext } from '../../src/ports/provider-adapter.port';

/** Azotte's customer rules (README 14), checked on our side and named by OUR fields. */

const EMAIL = /^[^\s@]+@[^\s@.]+(\.[^\s@.]+)+$/;
export const PHONE = /^\+[1-9]\d{7,14}$/;
export const LANGUAGE = /^[a-z]{2}$/;
const MAX_NAME_PART = 100;
const MAX_EXTERNAL_ID = 128;
const PAYMENT_METHOD_REF = /^[\x21-\x7e]{1,128}$/;
const PROMOTION_CODE = /^[A-Za-z0-9_-]{1,64}$/;

/** Our one name as Azotte's firstName/lastName: the last word is the last name; one word is a first name only. */
export function splitName(name: string): { firstName?: string; lastName?: string } {
  const words = name.trim().split(/\s+/u).filter(Boolean);
  if (words.length === 0) return {};
  if (words.length === 1) return { firstName: words[0] };
  return { firstName: words.slice(0, -1).join(' '), lastName: words[words.length - 1] };
}

/** `claimedRegion`: the customer's country, else the binding's; the binding's language, else `en` (README 15). */
export function claimedRegion(
  ctx: ProviderCallContext,
  country: string,
): { countryCode: string; languageCode: string } {
  const countryCode = country || ctx.config.claimed_country || '';
  if (!countryCode) {
    throw failedPrecondition(
      `storefront '${ctx.storefrontId}': the customer has no country and the Azotte binding no claimed_country (Azotte requires a claimedRegion)`,
    );
  }
  return { countryCode: countryCode.toUpperCase(), languageCode: ctx.config.claimed_language || 'en' };
}

/** Azotte's rules for what we send of a customer, as violations on our fields. */
export function checkCustomer(customer: CustomerDetails, v: Validator): void {
  if (!customer.id || customer.id.length > MAX_EXTERNAL_ID) {
    v.add('customer.id', `must be 1 to ${MAX_EXTERNAL_ID} characters (Azotte's externalIdentifier)`);
  }
  if (!customer.email || customer.email.length > 254 || !EMAIL.test(customer.email)) {
    v.add('customer.email', 'must be an email address name@domain.tld of at most 254 characters (Azotte)');
  }
  if (customer.phone && !PHONE.test(customer.phone)) {
    v.add('customer.phone', 'must be E.164 with 8 to 15 digits, like +4915112345678 (Azotte)');
  }
  const { firstName, lastName } = splitName(customer.name);
  if ([...(firstName ?? '')].length > MAX_NAME_PART || [...(lastName ?? '')].length > MAX_NAME_PART) {
    v.add('customer.name', `Azotte's firstName and lastName must each be at most ${MAX_NAME_PART} characters`);
  }
  if (customer.country && !isCountry(customer.country)) {
    v.add('customer.country', 'must be an ISO 3166-1 alpha-2 code in upper case, like DE');
  }
}

/** The `customer` object of customer/store (README 14); absent fields are left out. */
export function customerFields(customer: CustomerDetails): Record<string, unknown> {
  const { firstName, lastName } = splitName(customer.name);
  const address = customer.address;
  return {
    externalIdentifier: customer.id,
    email: customer.email,
    phoneNumber: customer.phone || undefined,
    firstName,
    lastName,
    legalType: 'Individual',
    primaryBillingAddress:
      address && (address.line1 || address.city || address.postalCode)
        ? {
            street: [address.line1, address.line2].filter(Boolean).join(', '),
            city: address.city,
            postalCode: address.postalCode,
            countryCode: (address.country || customer.country || '').toUpperCase() || undefined,
          }
        : undefined,
  };
}

export function checkPaymentMethodRef(ref: string | undefined, v: Validator): void {
  if (!ref) v.add('payment_method_ref', 'is required (a stored Azotte paymentMethodUrn)');
  else if (!PAYMENT_METHOD_REF.test(ref)) v.add('payment_method_ref', 'must be 1 to 128 printable characters');
}

export function checkPromotionCode(code: string | undefined, v: Validator): void {
  if (code && !PROMOTION_CODE.test(code)) {
    v.add('promotion_code', "must be 1 to 64 letters, digits, '_' or '-'");
  }
}
