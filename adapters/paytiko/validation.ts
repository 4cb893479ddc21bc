import { isCountry } from '../../src/domain/countries';
import { currencyExponent } from '../../src/domain/currencies';
import { failedPrecondition, invalidArgument, Violation } from '../../src/domain/errors';
import type { IntervalUnit } from '../../src/domain/plan';
import type { CustomerDetails, PlanTerms } from '../../src/ports/provider-adapter.port';
import { toAmountText, toPriceNumber } from './amounts';

/**
 * Every rule Paytiko's document (and the house assumptions where it is silent) sets on what we send, checked before
 * any HTTP call. Violations name OUR request's field and state the rule in Paytiko's terms. Pure: no I/O.
 */

const NAME_PART = /^\p{L}+(?:[ -]\p{L}+)*$/u;
const MAX_NAME_PART = 100;
const EMAIL = /^[^\s@]+@[^\s@.]+(?:\.[^\s@.]+)*\.[^\s@.]{2,}$/u;
const MAX_EMAIL = 254;
const E164 = /^\+[1-9]\d{7,14}$/;
const MAX_SUBSCRIPTION_NAME = 250;
const MAX_ORDER_ID = 100;
const MAX_METADATA = 1000;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const NIL_UUID = '00000000-0000-0000-0000-000000000000';

/** Our interval units as Paytiko's `intervalType`, with the most `intervalCount` it takes for each. */
export const INTERVALS: Record<IntervalUnit, { type: string; maxCount: number }> = {
  DAY: { type: 'Daily', maxCount: 365 },
  WEEK: { type: 'Weekly', maxCount: 52 },
  MONTH: { type: 'Monthly', maxCount: 12 },
  YEAR: { type: 'Annually', maxCount: 3 },
};

/** Collects violations, then throws them all at once. */
class Violations {
  readonly list: Violation[] = [];
  add(field: string, rule: string): void {
    this.list.push({ field, rule });
  }
  throwIfAny(): void {
    if (this.list.length > 0) throw invalidArgument(this.list);
  }
}

/**
 * Paytiko's `firstName`/`lastName` from our one `name`: spaces trimmed and collapsed, the last word is the last
 * name, the rest the first name. Each part: letters, single spaces or hyphens between them, at most 100 characters.
 */
export function splitName(name: string, field = 'customer.name'): { firstName: string; lastName: string } {
  const v = new Violations();
  const parts = nameParts(name, field, v);
  v.throwIfAny();
  return parts!;
}

function nameParts(name: string, field: string, v: Violations): { firstName: string; lastName: string } | undefined {
  const words = name.trim().split(/\s+/u).filter(Boolean);
  if (words.length < 2) {
    v.add(field, 'must have a first and a last name (Paytiko requires firstName and lastName)');
    return undefined;
  }
  const firstName = words.slice(0, -1).join(' ');
  const lastName = words[words.length - 1]!;
  let ok = true;
  for (const [part, value] of [
    ['firstName', firstName],
    ['lastName', lastName],
  ] as const) {
    if (!NAME_PART.test(value)) {
      v.add(field, `Paytiko's ${part} must be letters, with single spaces or hyphens between them`);
      ok = false;
    } else if ([...value].length > MAX_NAME_PART) {
      v.add(field, `Paytiko's ${part} must be at most ${MAX_NAME_PART} characters`);
      ok = false;
    }
  }
  return ok ? { firstName, lastName } : undefined;
}

/** Paytiko's Create Customer body (`processorKey` from the binding), or INVALID_ARGUMENT naming every bad field. */
export function customerBody(customer: CustomerDetails, processorKey: string): Record<string, unknown> {
  const v = new Violations();
  const names = nameParts(customer.name ?? '', 'customer.name', v);
  checkEmail(customer.email, v);
  checkPhone(customer.phone, v);
  const country = (customer.country || customer.address?.country || '').toUpperCase();
  if (!country) v.add('customer.country', 'is required by Paytiko (countryCode, ISO 3166-1 alpha-2)');
  else if (!isCountry(country)) v.add('customer.country', 'must be an ISO 3166-1 alpha-2 country code (countryCode)');
  v.throwIfAny();
  const address = customer.address;
  return {
    processorKey,
    firstName: names!.firstName,
    lastName: names!.lastName,
    email: customer.email.trim(),
    phone: customer.phone,
    countryCode: country,
    address1: address?.line1 || undefined,
    address2: address?.line2 || undefined,
    city: address?.city || undefined,
    state: address?.region || undefined,
    zipCode: address?.postalCode || undefined,
  };
}

function checkEmail(email: string | undefined, v: Violations): void {
  const text = (email ?? '').trim();
  if (!text) v.add('customer.email', 'is required by Paytiko');
  else if (text.length > MAX_EMAIL) v.add('customer.email', `must be at most ${MAX_EMAIL} characters`);
  else if (!EMAIL.test(text)) v.add('customer.email', 'must be an email address name@domain.tld');
}

/** E.164 phone, which Paytiko requires. */
export function checkPhone(
  phone: string | undefined,
  v: Violations = new Violations(),
  field = 'customer.phone',
): void {
  if (!phone) v.add(field, 'is required by Paytiko (E.164, e.g. +4915112345678)');
  else if (!E164.test(phone)) v.add(field, 'must be an E.164 phone number (+ then 8 to 15 digits, no leading 0)');
}

/** INVALID_ARGUMENT unless `phone` is an E.164 number. */
export function requirePhone(phone: string | undefined, field = 'customer.phone'): string {
  const v = new Violations();
  checkPhone(phone, v, field);
  v.throwIfAny();
  return phone!;
}

/** The plan's price × quantity as Paytiko's `pricingInfo`: totalAmount text, pricePerUnit number, quantity. */
export function pricingInfo(
  plan: Pick<PlanTerms, 'price'>,
  quantity: number,
  v: Violations,
): { currency: string; totalAmount: string; pricePerUnit: number; quantity: number } | undefined {
  const currency = plan.price.currency;
  if (currencyExponent(currency) === undefined) {
    v.add('plan.currency', 'must be an ISO 4217 currency code');
    return undefined;
  }
  if (!Number.isSafeInteger(quantity) || quantity < 1) {
    v.add('quantity', 'must be a whole number of at least 1');
    return undefined;
  }
  const total = plan.price.amountMinor * BigInt(quantity);
  if (total <= 0n) {
    v.add('plan.price', 'Paytiko requires totalAmount (price × quantity) greater than 0');
    return undefined;
  }
  const pricePerUnit = toPriceNumber(plan.price.amountMinor, currency);
  if (pricePerUnit === undefined) {
    v.add('plan.price', 'has more significant digits than Paytiko’s pricePerUnit (a JSON number) carries exactly');
    return undefined;
  }
  return { currency, totalAmount: toAmountText(total, currency), pricePerUnit, quantity };
}

/** The plan's interval as Paytiko's `billingCycle`. */
export function billingCycle(
  interval: PlanTerms['interval'],
  v: Violations,
): { intervalType: string; intervalCount: number } | undefined {
  const mapped = Object.hasOwn(INTERVALS, interval.unit) ? INTERVALS[interval.unit] : undefined;
  if (!mapped) {
    v.add('plan.interval.unit', 'must be DAY, WEEK, MONTH or YEAR (Daily, Weekly, Monthly, Annually)');
    return undefined;
  }
  const count = interval.count;
  if (!Number.isSafeInteger(count) || count < 1 || count > mapped.maxCount) {
    v.add('plan.interval.count', `must be from 1 to ${mapped.maxCount} for ${interval.unit} (Paytiko ${mapped.type})`);
    return undefined;
  }
  return { intervalType: mapped.type, intervalCount: count };
}

/** The plan's name as `subscriptionName` (1–250 characters). */
export function subscriptionName(name: string, v: Violations): string {
  const text = (name ?? '').trim();
  if (!text) v.add('plan.name', 'is required (Paytiko subscriptionName)');
  else if ([...text].length > MAX_SUBSCRIPTION_NAME) {
    v.add('plan.name', `must be at most ${MAX_SUBSCRIPTION_NAME} characters (Paytiko subscriptionName)`);
  }
  return text;
}

/** What a membership is created or changed with, checked as one. */
export interface MembershipTerms {
  plan: PlanTerms;
  quantity: number;
  /** Our subscription id, Paytiko's `productInfo.orderId`. */
  orderId: string;
  metadata: string;
}

/** Paytiko's membership terms, or INVALID_ARGUMENT naming every bad field. Trials are refused before this. */
export function membershipTerms(terms: MembershipTerms, extra: Violations = new Violations()) {
  const v = extra;
  const name = subscriptionName(terms.plan.name, v);
  const pricing = pricingInfo(terms.plan, terms.quantity, v);
  const cycle = billingCycle(terms.plan.interval, v);
  if (!terms.orderId) v.add('order_id', 'is required (Paytiko productInfo.orderId)');
  else if (terms.orderId.length > MAX_ORDER_ID) v.add('order_id', `must be at most ${MAX_ORDER_ID} characters`);
  if (terms.metadata.length > MAX_METADATA) {
    v.add('plan.id', `makes Paytiko's metadata longer than ${MAX_METADATA} characters`);
  }
  v.throwIfAny();
  return { name, pricing: pricing!, cycle: cycle! };
}

/** Paytiko has no trial field: a plan with trial days is refused, never sold without its trial. */
export function trialRefused(plan: Pick<PlanTerms, 'id' | 'trialDays'>) {
  return failedPrecondition(
    `plan '${plan.id}' has a ${plan.trialDays}-day trial, and Paytiko memberships have no trial: sell it on a provider with trials, or remove the trial`,
  );
}

/** localhost, 127.0.0.0/8 and [::1]: a sandbox reaches a merchant on the same machine over plain http. */
function isLoopbackHost(hostname: string): boolean {
  const host = hostname.toLowerCase();
  return host === 'localhost' || host === '[::1]' || /^127(?:\.\d{1,3}){3}$/.test(host);
}

/** Why a URL breaks Paytiko's HTTPS rule (absolute https, or http to a loopback host), or undefined. */
export function httpsRuleBroken(raw: string): string | undefined {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return 'must be an absolute https URL';
  }
  if (url.protocol === 'https:') return undefined;
  if (url.protocol === 'http:' && isLoopbackHost(url.hostname)) return undefined;
  return 'must be an https URL (Paytiko accepts plain http only to a loopback host)';
}

/** A customer-facing return link we send (returnToWebsiteLink): INVALID_ARGUMENT naming our field. */
export function checkReturnLink(raw: string | undefined, field: string, v: Violations = new Violations()): Violations {
  if (raw) {
    const broken = httpsRuleBroken(raw);
    if (broken) v.add(field, broken);
  }
  return v;
}

/**
 * Our webhook ingress as Paytiko's `webhookUrl`. It comes from operator config (PUBLIC_BASE_URL), not from the
 * caller, so breaking the rule is FAILED_PRECONDITION for the operator to fix.
 */
export function requireWebhookUrl(webhookUrl: string): string {
  const broken = httpsRuleBroken(webhookUrl);
  if (broken) {
    throw failedPrecondition(
      `our webhook URL for Paytiko ${broken}: set PUBLIC_BASE_URL to this service's public https address`,
    );
  }
  return webhookUrl;
}

/**
 * A stored Paytiko reference we are about to send: it must carry Paytiko's key prefix, else what we stored is not
 * Paytiko's (FAILED_PRECONDITION: nothing the caller can fix in the request).
 */
export function requireKey(ref: string | undefined, prefix: string, what: string): string {
  if (!ref) throw failedPrecondition(`${what} has no Paytiko reference yet`);
  if (!ref.startsWith(prefix) || ref.length <= prefix.length || !/^[\x21-\x7e]+$/.test(ref)) {
    throw failedPrecondition(`${what}'s Paytiko reference is not a Paytiko key (${prefix}…)`);
  }
  return ref;
}

/** Paytiko's processorKey: a canonical, non-nil UUID. */
export function isProcessorKey(value: string | undefined): boolean {
  return value !== undefined && UUID.test(value) && value !== NIL_UUID;
}

/** Outcomes a sandbox's `chargeEmitterQueue` takes, and at most how many we send. */
const EMITTER_OUTCOMES = ['Success', 'Rejected'];
export const MAX_EMITTER_QUEUE = 50;

/**
 * The binding's `test_charge_emitter_queue` ("Success,Rejected,…") as Paytiko's chargeEmitterQueue, or a rule it
 * breaks. Empty or unset = none.
 */
export function parseEmitterQueue(
  text: string | undefined,
): { queue?: { transactionStatus: string; description: string }[] } | { error: string } {
  if (text === undefined || text.trim() === '') return {};
  const items = text.split(',').map((item) => item.trim());
  if (items.length > MAX_EMITTER_QUEUE) return { error: `must list at most ${MAX_EMITTER_QUEUE} outcomes` };
  const queue = [];
  for (const [index, item] of items.entries()) {
    const outcome = EMITTER_OUTCOMES.find((o) => o.toLowerCase() === item.toLowerCase());
    if (!outcome) return { error: `item ${index + 1} must be Success or Rejected (comma-separated)` };
    queue.push({ transactionStatus: outcome, description: `test charge ${index + 1}` });
  }
  return { queue };
}

export { Violations };
