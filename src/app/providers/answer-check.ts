import { isCurrency } from '../../domain/currencies';
import { unavailable, type Violation } from '../../domain/errors';
import { MAX_AMOUNT_MINOR } from '../../domain/money';
import type { ProviderOperations } from '../../ports/provider-adapter.port';

/**
 * What the core takes from an adapter (an operation's answer, a webhook's events) must be storable and publishable
 * before anything of it is written: a provider's answer is the provider's to choose, and an adapter's mapping may
 * let through what its provider never meant. One NUL in a text makes PostgreSQL refuse the whole row, a reference
 * past btree's ~2.7 KB makes its index refuse it, an amount past int64 or an Invalid Date throws mid-transaction,
 * and a `javascript:` link would be handed to a caller's customer. Each such answer used to fail where it was
 * written, as INTERNAL to a caller or as a webhook retried until it became a dead letter naming a database error;
 * now it is refused whole, naming the field and the rule, and nothing of it is written.
 */

/** Identifiers: what our references and lookups hold (a caller's own references get the same 255). */
const MAX_REFERENCE_CHARS = 255;
/** A page the customer goes to. */
const MAX_URL_CHARS = 4_096;
/** An HTML step (a 3-D Secure form) the caller's page shows. */
const MAX_HTML_CHARS = 64 * 1024;
/** Any other text (a failure message, a discount's description): adapters cut theirs well below this. */
const MAX_TEXT_CHARS = 4_096;
/** Our integer columns (quantity, cycle index) are PostgreSQL integers; none of these counts is negative. */
const MAX_COUNT = 2 ** 31 - 1;
/** Any other whole number (a usage quantity) is a PostgreSQL bigint, kept exact in JavaScript. */
const MAX_WHOLE = BigInt(Number.MAX_SAFE_INTEGER);
/** Our events carry RFC 3339 times; PostgreSQL refuses years past 294276, JavaScript reaches 275760. */
const EARLIEST = Date.parse('0001-01-01T00:00:00.000Z');
const LATEST = Date.parse('9999-12-31T23:59:59.999Z');
/** Answers are a few levels deep; anything deeper is not one. */
const MAX_DEPTH = 12;
/** Enough to say what is wrong; a list of a million bad entries must not become a million violations. */
const MAX_VIOLATIONS = 20;

const URL_KEYS = new Set(['redirectUrl', 'url']);
const REFERENCE_KEY = /(?:^ref|Ref|Id|^code|^featureKey|^currency)$/;
/** Money under these keys is money that moved to or from the customer: never negative. */
const MOVED_MONEY = new Set(['payment', 'payments', 'refund', 'refunds']);
// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u001f\u007f-\u009f]/;
/** Half of a UTF-16 pair alone: jsonb refuses it, and text columns turn it into U+FFFD, so lookups by it miss. */
const LONE_SURROGATE = /\p{Cs}/u;

/**
 * Every rule `answer` breaks, each naming its field under `root` (e.g. `payment.failure.message`). `root` also says
 * what the answer is: a payment's or refund's amounts are never negative.
 */
export function answerViolations(answer: unknown, root: string): Violation[] {
  const violations: Violation[] = [];
  walk(answer, root, root, MOVED_MONEY.has(root), 0, violations);
  return violations;
}

function walk(value: unknown, field: string, key: string, moved: boolean, depth: number, out: Violation[]): void {
  if (out.length >= MAX_VIOLATIONS) return;
  if (value === undefined || value === null || typeof value === 'boolean') return;
  if (typeof value === 'string') return checkText(value, field, key, out);
  if (typeof value === 'number') {
    if (!Number.isInteger(value) || value < 0 || value > MAX_COUNT) {
      out.push({ field, rule: `must be a whole number from 0 to ${MAX_COUNT}` });
    }
    return;
  }
  if (typeof value === 'bigint') {
    if (value < -MAX_WHOLE || value > MAX_WHOLE) out.push({ field, rule: `must be within ±${MAX_WHOLE}` });
    return;
  }
  if (value instanceof Date) {
    const time = value.getTime();
    if (!(time >= EARLIEST && time <= LATEST)) out.push({ field, rule: 'must be a valid time in years 1 to 9999' });
    return;
  }
  if (depth >= MAX_DEPTH) {
    out.push({ field, rule: 'is nested too deeply' });
    return;
  }
  if (Array.isArray(value)) {
    value.forEach((item, i) => walk(item, `${field}[${i}]`, key, moved, depth + 1, out));
    return;
  }
  const prototype: unknown = typeof value === 'object' ? Object.getPrototypeOf(value) : undefined;
  if (prototype !== Object.prototype && prototype !== null) {
    // A Map, a Buffer, a class instance: nothing an answer is made of, and not walked by Object.entries.
    out.push({ field, rule: 'is not a plain value' });
    return;
  }
  const money = isMoney(value as object);
  if (money) checkMoney(value as MoneyLike, field, moved, out);
  for (const [name, item] of Object.entries(value as object)) {
    if (money && (name === 'amountMinor' || name === 'currency')) continue;
    walk(item, `${field}.${name}`, name, moved || MOVED_MONEY.has(name), depth + 1, out);
  }
}

function checkText(text: string, field: string, key: string, out: Violation[]): void {
  if (text.includes('\u0000')) {
    out.push({ field, rule: 'contains a NUL character' });
    return;
  }
  if (LONE_SURROGATE.test(text)) {
    out.push({ field, rule: 'contains half of a UTF-16 surrogate pair' });
    return;
  }
  if (URL_KEYS.has(key)) return checkUrl(text, field, out);
  if (REFERENCE_KEY.test(key)) {
    if (text.length > MAX_REFERENCE_CHARS || CONTROL.test(text)) {
      out.push({ field, rule: `must be at most ${MAX_REFERENCE_CHARS} characters without control characters` });
    }
    return;
  }
  const max = key === 'html' ? MAX_HTML_CHARS : MAX_TEXT_CHARS;
  if (text.length > max) out.push({ field, rule: `must be at most ${max} characters` });
}

function checkUrl(text: string, field: string, out: Violation[]): void {
  let protocol: string | undefined;
  try {
    protocol = text.length <= MAX_URL_CHARS ? new URL(text).protocol : undefined;
  } catch {
    protocol = undefined;
  }
  if (protocol !== 'https:' && protocol !== 'http:') {
    out.push({ field, rule: `must be an http(s) URL of at most ${MAX_URL_CHARS} characters` });
  }
}

interface MoneyLike {
  currency: unknown;
  amountMinor: bigint;
}

function isMoney(value: object): value is MoneyLike {
  return 'amountMinor' in value && typeof value.amountMinor === 'bigint' && 'currency' in value;
}

function checkMoney(money: MoneyLike, field: string, moved: boolean, out: Violation[]): void {
  if (typeof money.currency !== 'string' || !isCurrency(money.currency)) {
    out.push({ field: `${field}.currency`, rule: 'must be an ISO 4217 code' });
  }
  const min = moved ? 0n : -MAX_AMOUNT_MINOR;
  if (money.amountMinor < min || money.amountMinor > MAX_AMOUNT_MINOR) {
    out.push({ field: `${field}.amountMinor`, rule: `must be from ${min} to ${MAX_AMOUNT_MINOR} minor units` });
  }
}

/** What each operation answers, as the root its violations are named under (a payment's amounts are never negative). */
const ANSWER_ROOT: Record<keyof ProviderOperations, string> = {
  ensureCustomer: 'customerRef',
  updateCustomer: 'answer',
  createCheckout: 'checkout',
  getCheckout: 'checkout',
  getSubscription: 'subscription',
  cancelSubscription: 'outcome',
  revokeCancellation: 'outcome',
  pauseSubscription: 'outcome',
  resumeSubscription: 'outcome',
  changePlan: 'outcome',
  updateQuantity: 'outcome',
  recordUsage: 'usageRecord',
  getUsage: 'usage',
  getPayment: 'payment',
  getInvoice: 'invoice',
  refund: 'refund',
  getRefund: 'refund',
  createPortalSession: 'portalSession',
  chargeRenewal: 'payment',
};

/**
 * `operation` answering only what passes `answerViolations`; anything else is UNAVAILABLE naming the storefront,
 * the operation and the broken fields (never their values): the provider's trouble, asked again later.
 */
export function checkedOperation<K extends keyof ProviderOperations>(
  name: K,
  operation: NonNullable<ProviderOperations[K]>,
  provider: string,
  storefrontId: string,
): NonNullable<ProviderOperations[K]> {
  const call = operation as (...args: unknown[]) => Promise<unknown>;
  const checked = async (...args: unknown[]): Promise<unknown> => {
    const answer = await call(...args);
    const violations = answerViolations(answer, ANSWER_ROOT[name]);
    if (violations.length === 0) return answer;
    const why = violations
      .slice(0, 5)
      .map((v) => `${v.field} ${v.rule}`)
      .join('; ');
    throw unavailable(
      `storefront '${storefrontId}': provider '${provider}' answered ${name} with what cannot be stored: ${why}`,
    );
  };
  return checked as NonNullable<ProviderOperations[K]>;
}
