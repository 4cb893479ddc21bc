import { DomainError, ErrorCode, invalidArgument, Violation } from '../../src/domain/errors';
import { ProviderUnavailable } from '../kit/errors';
import { arr, asObject, optStr } from '../kit/json';
import { WireObject, PROVIDER } from './wire';

/**
 * The one table of Azotte's `messageCode`s (README 12): the HTTP status the emulator answers each with, our code,
 * and our message. `OK` codes are answers the operations read; INTERNAL ones (our own bug: a malformed request, a
 * showcase offer) are plain Errors, which the service logs and answers INTERNAL without detail.
 */

/** What a message may name: the call and the objects it was about (none of them secret). */
export interface CallSubject {
  storefrontId: string;
  operation: string;
  tenant?: string;
  customerUrn?: string;
  externalId?: string;
  email?: string;
  phone?: string;
  bundleUrn?: string;
  storefrontUrn?: string;
  trackingNumber?: string;
  orderIdentifier?: string;
  paymentMethodRef?: string;
  state?: string;
}

type Outcome = ErrorCode | 'OK' | 'INTERNAL';

interface CodeRule {
  http: number;
  outcome: Outcome;
  message?: (s: CallSubject) => string;
  /** For INVALID_ARGUMENT codes that concern one of our fields. */
  field?: string;
}

const X = (s: CallSubject) => `storefront '${s.storefrontId}'`;
const q = (value: string | undefined) => `'${value ?? ''}'`;

export const MESSAGE_CODES: Readonly<Record<string, CodeRule>> = {
  SUCCESS: { http: 200, outcome: 'OK' },
  BAD_REQUEST: {
    http: 400,
    outcome: 'INTERNAL',
    message: (s) => `Azotte refused a malformed ${s.operation} request`,
  },
  // Its violations come from the envelope's `errors` (errorFromEnvelope).
  INVALID_REQUEST: { http: 400, outcome: 'INVALID_ARGUMENT' },
  CUSTOMER_NOT_FOUND: {
    http: 404,
    outcome: 'NOT_FOUND',
    message: (s) => `Azotte has no customer ${q(s.customerUrn ?? s.externalId)} in tenant ${q(s.tenant)}`,
  },
  // Success on customer/store (README 16): the operation lists it as an answer it reads.
  CUSTOMER_ALREADY_STORED: {
    http: 409,
    outcome: 'ALREADY_EXISTS',
    message: (s) => `an Azotte customer with externalIdentifier ${q(s.externalId)} exists`,
  },
  USER_WITH_SAME_EMAIL_EXISTS: {
    http: 409,
    outcome: 'ALREADY_EXISTS',
    message: (s) => `another Azotte customer of this tenant has email ${q(s.email)}`,
  },
  USER_WITH_SAME_PHONE_NUMBER_EXISTS: {
    http: 409,
    outcome: 'ALREADY_EXISTS',
    message: (s) => `another Azotte customer of this tenant has phone ${q(s.phone)}`,
  },
  SQL_DATABASE_FAILURE: {
    http: 500,
    outcome: 'UNAVAILABLE',
    message: (s) => `${X(s)}: Azotte ${s.operation} failed: SQL_DATABASE_FAILURE`,
  },
  INTERNAL_SERVER_ERROR: {
    http: 500,
    outcome: 'UNAVAILABLE',
    message: (s) => `${X(s)}: Azotte ${s.operation} failed: INTERNAL_SERVER_ERROR`,
  },
  NO_OFFER_FOUND: {
    http: 404,
    outcome: 'FAILED_PRECONDITION',
    message: (s) => `${X(s)}: Azotte offers no bundle ${q(s.bundleUrn)} to customer ${q(s.customerUrn)}`,
  },
  INVALID_PROMOTION_CODE: {
    http: 400,
    outcome: 'INVALID_ARGUMENT',
    field: 'promotion_code',
    message: () => 'unknown or expired at Azotte',
  },
  STOREFRONT_NOT_FOUND: {
    http: 404,
    outcome: 'FAILED_PRECONDITION',
    message: (s) => `${X(s)}: Azotte has no storefront ${q(s.storefrontUrn)} (binding storefront_urn)`,
  },
  // createCheckout fetches a fresh offer and resubmits once; a second one ends here.
  OFFER_EXPIRED: {
    http: 409,
    outcome: 'UNAVAILABLE',
    message: (s) => `${X(s)}: Azotte ${s.operation}: the offer expired twice in a row`,
  },
  OFFER_NOT_PURCHASABLE: {
    http: 409,
    outcome: 'INTERNAL',
    message: () => 'Azotte refused a showcase offer at checkout',
  },
  CHECK_OUT_PROCESSING: { http: 202, outcome: 'OK' },
  CHECK_OUT_3DS_REQUIRED: { http: 200, outcome: 'OK' },
  CHECK_OUT_DONE: { http: 200, outcome: 'OK' },
  CHECK_OUT_FAILED: { http: 200, outcome: 'OK' },
  ORDERED_ITEM_NOT_FOUND: {
    http: 404,
    outcome: 'NOT_FOUND',
    message: (s) => `Azotte has no checkout ${q(s.trackingNumber)}`,
  },
  PAYMENT_METHOD_NOT_FOUND: {
    http: 404,
    outcome: 'FAILED_PRECONDITION',
    message: (s) =>
      `payment method ${q(s.paymentMethodRef)} is not an active method of customer ${q(s.customerUrn)} at Azotte`,
  },
  CARD_DECLINED: { http: 402, outcome: 'FAILED_PRECONDITION', message: () => 'Azotte: the card was declined' },
  INVALID_CARD: {
    http: 400,
    outcome: 'INVALID_ARGUMENT',
    field: 'payment_method_ref',
    message: () => 'Azotte: invalid card',
  },
  PSP_UNAVAILABLE: {
    http: 503,
    outcome: 'UNAVAILABLE',
    message: (s) => `${X(s)}: Azotte's payment provider is unavailable (${s.operation})`,
  },
  SUBSCRIPTION_NOT_FOUND: {
    http: 404,
    outcome: 'NOT_FOUND',
    message: (s) => `Azotte has no subscription ${q(s.orderIdentifier)}`,
  },
  SUBSCRIPTION_NOT_CANCELABLE: {
    http: 409,
    outcome: 'FAILED_PRECONDITION',
    message: (s) => `Azotte cannot cancel subscription ${q(s.orderIdentifier)} in state ${q(s.state)}`,
  },
  SUBSCRIPTION_NOT_REACTIVATABLE: {
    http: 409,
    outcome: 'FAILED_PRECONDITION',
    message: (s) =>
      `Azotte cannot reactivate subscription ${q(s.orderIdentifier)}: its period has ended or it was not canceled`,
  },
};

/** Whether `code` is one Azotte answers with a payload we read (SUCCESS, the checkout states). */
export function isOkCode(code: string): boolean {
  return Object.hasOwn(MESSAGE_CODES, code) && MESSAGE_CODES[code]!.outcome === 'OK';
}

/** A provider's text in our messages: one printable line, bounded (it may be hostile). */
export function bounded(text: string, max = 200): string {
  const line = text
    .replace(/\s+/g, ' ')
    .replace(/[^\x20-\x7e]/g, '?')
    .trim();
  return line.length > max ? `${line.slice(0, max)}…` : line;
}

/**
 * Azotte's field (the camelCase JSON path of our request) as OUR field: what the caller sent. Fields the caller did
 * not send are named under `provider.` (the binding or our adapter made them).
 */
export function ourField(azotteField: string): string {
  const field = bounded(azotteField, 100);
  if (field === 'customer.email') return 'customer.email';
  if (field === 'customer.phoneNumber') return 'customer.phone';
  if (field === 'customer.firstName' || field === 'customer.lastName') return 'customer.name';
  if (/^(order|paymentMethod)(\.|\[|$)/.test(field)) return 'payment_method_ref';
  if (field === 'promotionCode' || field === 'context.promotionCode') return 'promotion_code';
  return `provider.${field}`;
}

/** The error an envelope's messageCode means (never called for OK codes the caller reads). */
export function errorFromEnvelope(envelope: WireObject, httpStatus: number, subject: CallSubject): Error {
  const status = asObject(envelope.status, 'status');
  const code = optStr(status, 'messageCode', 'status') ?? '';
  const said = optStr(status, 'message', 'status');
  const rule = Object.hasOwn(MESSAGE_CODES, code) ? MESSAGE_CODES[code] : undefined;
  const call = { provider: PROVIDER, operation: subject.operation };
  if (!rule || rule.outcome === 'OK') {
    const what = rule ? `messageCode ${code} with HTTP ${httpStatus}` : `unknown messageCode ${bounded(code, 64)}`;
    return new ProviderUnavailable(call, `${X(subject)}: Azotte answered ${what} (HTTP ${httpStatus})`);
  }
  if (code === 'INVALID_REQUEST') return invalidArgument(violationsOf(status, said));
  const base = rule.message!(subject);
  if (rule.field) return invalidArgument([{ field: rule.field, rule: base }]);
  const message = said ? `${base}: ${bounded(said)}` : base;
  if (rule.outcome === 'INTERNAL') return new Error(message);
  if (rule.outcome === 'UNAVAILABLE') return new ProviderUnavailable(call, message);
  return new DomainError(rule.outcome, message);
}

/** One violation per `errors` item; none given → one naming the request as a whole. */
function violationsOf(status: WireObject, said: string | undefined): Violation[] {
  const violations: Violation[] = [];
  for (const item of arr(status, 'errors', 'status').slice(0, 50)) {
    if (typeof item !== 'object' || item === null) continue;
    const { field, message } = item as Record<string, unknown>;
    violations.push({
      field: typeof field === 'string' && field ? ourField(field) : 'provider',
      rule: typeof message === 'string' && message ? `Azotte: ${bounded(message)}` : 'refused by Azotte',
    });
  }
  if (violations.length === 0) violations.push({ field: 'provider', rule: `Azotte: ${bounded(said ?? 'invalid')}` });
  return violations;
}

/** The messageCode a failed transport call quoted from a 5xx envelope (for a message that names it). */
export function quotedMessageCode(message: string): string | undefined {
  return /"messageCode"\s*:\s*"([A-Z0-9_]{1,64})"/.exec(message)?.[1];
}
