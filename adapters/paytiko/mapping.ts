import { createHash } from 'node:crypto';
import { DomainError, invalidArgument, Violation } from '../../src/domain/errors';
import type { InvoiceStatus, InvoiceType } from '../../src/domain/invoice';
import type { PaymentStatus } from '../../src/domain/payment';
import type { SubscriptionStatus } from '../../src/domain/subscription';
import type {
  ProviderCheckoutState,
  ProviderInvoiceState,
  ProviderPaymentState,
  ProviderSubscriptionState,
} from '../../src/ports/provider-adapter.port';
import { providerText } from '../kit/provider-text';
import { fromAmountText } from './amounts';
import { arr, asObject, optionalInt, optionalString, optionalTime, requiredString, WireObject } from './wire';

/** The one place Paytiko's names meet ours (README: Mapping). */

function lookup<T>(table: Record<string, T>, value: string | undefined, field: string): T {
  const mapped = value !== undefined && Object.hasOwn(table, value) ? table[value] : undefined;
  if (mapped === undefined) {
    const said = (value ?? '').slice(0, 40).replace(/[^\x20-\x7e]/g, '?');
    throw invalidArgument([{ field, rule: `'${said}' is not one of ${Object.keys(table).join(', ')}` }]);
  }
  return mapped;
}

export const MEMBERSHIP_STATUS: Record<string, SubscriptionStatus> = {
  Incomplete: 'INCOMPLETE',
  Expired: 'INCOMPLETE_EXPIRED',
  Active: 'ACTIVE',
  PastDue: 'PAST_DUE',
  Unpaid: 'UNPAID',
  Canceled: 'CANCELED',
  Completed: 'COMPLETED',
};

export const INVOICE_TYPE: Record<string, InvoiceType> = {
  Initial: 'INITIAL',
  Recurring: 'RENEWAL',
  // A positive proration is charged as its own invoice: the upgrade's. A negative one becomes credits, no invoice.
  Proration: 'UPGRADE',
};

export const INVOICE_STATUS: Record<string, InvoiceStatus> = {
  Open: 'OPEN',
  Paid: 'PAID',
  Failed: 'FAILED',
  Void: 'VOID',
};

/** PayIn transaction outcomes: Success and Pending as they are, every other outcome a failed payment. */
export function transactionStatus(status: string): PaymentStatus {
  if (status === 'Success') return 'SUCCEEDED';
  if (status === 'Pending') return 'PROCESSING';
  return 'FAILED';
}

/** What our metadata JSON on a membership says (README: Assumptions); {} when it is not ours. */
export interface MembershipMetadata {
  subscription_id?: string;
  plan_id?: string;
  change?: string;
}

export function readMetadata(text: unknown): MembershipMetadata {
  if (typeof text !== 'string' || text === '') return {};
  try {
    const parsed: unknown = JSON.parse(text);
    if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) return {};
    const out: MembershipMetadata = {};
    for (const key of ['subscription_id', 'plan_id', 'change'] as const) {
      const value = (parsed as Record<string, unknown>)[key];
      if (typeof value === 'string' && value) out[key] = value;
    }
    return out;
  } catch {
    return {};
  }
}

/** The id of our change, from the call's idempotency key: the same on every retry of one call. */
export function changeIdOf(idempotencyKey: string, operation: string): string {
  return `chg_${createHash('sha256').update(`${idempotencyKey}:${operation}`, 'utf8').digest('hex').slice(0, 24)}`;
}

/** Our metadata text: which subscription, which plan, and the change that wrote it last. */
export function writeMetadata(metadata: Required<MembershipMetadata>): string {
  return JSON.stringify({
    subscription_id: metadata.subscription_id,
    plan_id: metadata.plan_id,
    change: metadata.change,
  });
}

/** The membership object of GET /membership/{key}, in our vocabulary, with its invoices and PayIn transactions. */
export function toSubscriptionState(value: unknown): ProviderSubscriptionState {
  const p = 'membership';
  const m = asObject(value, p);
  const ref = requiredString(m, 'membershipKey', p);
  const status = lookup(MEMBERSHIP_STATUS, optionalString(m, 'status', p), `${p}.status`);
  const orderId = optionalString(m, 'orderId', p);
  const customerRef = optionalString(m, 'customerKey', p);
  const currency = requiredString(m, 'currency', p);
  const updatedAt = optionalTime(m, 'updatedAt', p);
  const canceledAt = optionalTime(m, 'canceledAt', p);
  const endDate = optionalTime(m, 'endDate', p);
  const ended = status === 'CANCELED' || status === 'COMPLETED';
  const context = { subscriptionRef: ref, orderId, customerRef, currency };
  const invoices: ProviderInvoiceState[] = [];
  const payments: ProviderPaymentState[] = [];
  arr(m, 'invoices', p).forEach((raw, index) => {
    const read = toInvoice(raw, `${p}.invoices[${index}]`, context);
    invoices.push(read.invoice);
    payments.push(...read.payments);
  });
  const cycles = invoices.map((invoice) => invoice.cycleIndex);
  // Paytiko starts a cycle (and moves its period) before charging it; our period is the one paid for, so a membership
  // in dunning is still in its last paid period, and the charge that pays the new one is its renewal (as elsewhere).
  const inDunning = status === 'PAST_DUE' || status === 'UNPAID';
  const period = inDunning
    ? lastPaidPeriod(invoices)
    : { start: optionalTime(m, 'currentPeriodStart', p), end: optionalTime(m, 'currentPeriodEnd', p) };
  return {
    ref,
    orderId,
    customerRef,
    planRef: readMetadata(m.metadata).plan_id,
    status,
    currentPeriodStart: period.start,
    currentPeriodEnd: period.end,
    quantity: optionalInt(m, 'quantity', p),
    // Cancel at period end is ours to emulate: Paytiko never says it, so the state leaves it alone.
    canceledAt: status === 'CANCELED' ? (canceledAt ?? updatedAt) : undefined,
    endedAt: ended ? (canceledAt ?? endDate ?? updatedAt) : undefined,
    cycleIndex: cycles.length > 0 ? Math.max(...cycles) : undefined,
    observedAt: updatedAt,
    invoices,
    payments,
  };
}

/** The period of the newest paid cycle (Initial or Recurring invoice); none when no cycle was ever paid. */
function lastPaidPeriod(invoices: ProviderInvoiceState[]): { start?: Date; end?: Date } {
  const paid = invoices
    .filter((i) => i.status === 'PAID' && (i.type === 'INITIAL' || i.type === 'RENEWAL') && i.periodEnd)
    .sort((a, b) => b.periodEnd!.getTime() - a.periodEnd!.getTime())[0];
  return { start: paid?.periodStart, end: paid?.periodEnd };
}

interface InvoiceContext {
  subscriptionRef: string;
  orderId?: string;
  customerRef?: string;
  currency: string;
}

/** One invoice of a membership and the payments of its PayIn transactions (refund transactions are not payments). */
function toInvoice(
  value: unknown,
  p: string,
  context: InvoiceContext,
): { invoice: ProviderInvoiceState; payments: ProviderPaymentState[] } {
  const inv = asObject(value, p);
  const ref = requiredString(inv, 'invoiceKey', p);
  const currency = optionalString(inv, 'currency', p) ?? context.currency;
  const type = lookup(INVOICE_TYPE, optionalString(inv, 'type', p), `${p}.type`);
  const cycleIndex = optionalInt(inv, 'cycle', p);
  if (cycleIndex === undefined) throw invalidArgument([{ field: `${p}.cycle`, rule: 'is required' }]);
  const payments: ProviderPaymentState[] = [];
  arr(inv, 'transactions', p).forEach((raw, index) => {
    const t = asObject(raw, `${p}.transactions[${index}]`);
    const tp = `${p}.transactions[${index}]`;
    if (optionalString(t, 'transactionType', tp) !== 'PayIn') return;
    payments.push(toPayment(t, tp, { ...context, currency, invoiceRef: ref, type }));
  });
  const paid = payments.find((payment) => payment.status === 'SUCCEEDED');
  return {
    invoice: {
      ref,
      subscriptionRef: context.subscriptionRef,
      orderId: context.orderId,
      customerRef: context.customerRef,
      paymentRef: paid?.ref,
      // What was charged: the invoice's amount is already net of the credits applied to it.
      amount: fromAmountText(inv.amount, currency, `${p}.amount`),
      type,
      status: lookup(INVOICE_STATUS, optionalString(inv, 'status', p), `${p}.status`),
      cycleIndex,
      periodStart: optionalTime(inv, 'periodStart', p),
      periodEnd: optionalTime(inv, 'periodEnd', p),
    },
    payments,
  };
}

function toPayment(
  t: WireObject,
  p: string,
  context: InvoiceContext & { invoiceRef: string; type: InvoiceType },
): ProviderPaymentState {
  const said = requiredString(t, 'transactionStatus', p);
  const status = transactionStatus(said);
  const amount = fromAmountText(t.amount, optionalString(t, 'currency', p) ?? context.currency, `${p}.amount`);
  return {
    ref: requiredString(t, 'transactionId', p),
    orderId: context.orderId,
    customerRef: context.customerRef,
    subscriptionRef: context.subscriptionRef,
    invoiceRef: context.invoiceRef,
    // A proration is charged off-session like a renewal.
    kind: context.type === 'INITIAL' ? 'initial' : 'recurring',
    amount,
    status,
    refundState: 'NONE',
    refundedAmount: { currency: amount.currency, amountMinor: 0n },
    failure:
      status === 'FAILED'
        ? { code: providerText(said, 100), message: providerText(optionalString(t, 'declineReasonText', p) ?? '') }
        : undefined,
    paidAt: status === 'SUCCEEDED' ? optionalTime(t, 'issuedAt', p) : undefined,
  };
}

/**
 * A checkout is its membership: Incomplete = still open, Expired = unpaid for 24 h. Any other status once paid is
 * complete; one that ended without ever being paid (canceled while Incomplete: no start date) is expired.
 */
export function toCheckoutState(value: unknown): ProviderCheckoutState {
  const p = 'membership';
  const m = asObject(value, p);
  const ref = requiredString(m, 'membershipKey', p);
  const said = optionalString(m, 'status', p);
  lookup(MEMBERSHIP_STATUS, said, `${p}.status`);
  const orderId = optionalString(m, 'orderId', p);
  if (said === 'Incomplete') return { ref, status: 'OPEN', orderId };
  const neverPaid = optionalTime(m, 'startDate', p) === undefined;
  if (said === 'Expired' || neverPaid) return { ref, status: 'EXPIRED', orderId };
  return { ref, status: 'COMPLETE', orderId, subscriptionRef: ref };
}

/** Paytiko's request fields (camelCase JSON paths) as our request's fields, where one of ours maps to it. */
const OUR_FIELDS: Record<string, string> = {
  firstName: 'customer.name',
  lastName: 'customer.name',
  email: 'customer.email',
  phone: 'customer.phone',
  countryCode: 'customer.country',
  address1: 'customer.address.line1',
  address2: 'customer.address.line2',
  city: 'customer.address.city',
  state: 'customer.address.region',
  zipCode: 'customer.address.postal_code',
  processorKey: 'provider_config.processor_key',
  customerKey: 'customer.provider_ref',
  subscriptionName: 'plan.name',
  'productInfo.orderId': 'order_id',
  'pricingInfo.currency': 'plan.currency',
  'pricingInfo.totalAmount': 'plan.price',
  'pricingInfo.pricePerUnit': 'plan.price',
  'pricingInfo.quantity': 'quantity',
  'billingCycle.intervalType': 'plan.interval.unit',
  'billingCycle.intervalCount': 'plan.interval.count',
  returnToWebsiteLink: 'success_url',
  pricePerUnit: 'plan.price',
  quantity: 'quantity',
  intervalType: 'plan.interval.unit',
  intervalCount: 'plan.interval.count',
  name: 'plan.name',
};

/** Our field for Paytiko's JSON path (case-insensitive); others keep Paytiko's name under `paytiko.`. */
export function ourField(path: string): string {
  const found = Object.keys(OUR_FIELDS).find((key) => key.toLowerCase() === path.toLowerCase());
  return found ? OUR_FIELDS[found]! : `paytiko.${path.slice(0, 100)}`;
}

/** Printable, one line, bounded: a provider's text may be hostile. */
function clean(text: string, max = 300): string {
  return text
    .replace(/\s+/g, ' ')
    .replace(/[^\x20-\x7e]/g, '?')
    .trim()
    .slice(0, max);
}

/**
 * An RFC 7807 problem answer (400, 404, 409, other 4xx) as our error: 400 → INVALID_ARGUMENT with one violation per
 * message of `errors`, named as our fields; 404 → NOT_FOUND; 409 → FAILED_PRECONDITION. 401 is auth's to handle.
 */
export function problemToError(status: number, body: string, call: string, resource?: string): DomainError {
  let problem: WireObject = {};
  try {
    const parsed: unknown = JSON.parse(body);
    if (typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed)) problem = parsed as WireObject;
  } catch {
    // Not a problem document: the status alone speaks.
  }
  const title = typeof problem.title === 'string' ? clean(problem.title) : '';
  const detail = typeof problem.detail === 'string' ? clean(problem.detail) : '';
  const said = [title, detail].filter(Boolean).join(': ') || `HTTP ${status}`;
  if (status === 404) {
    return new DomainError('NOT_FOUND', resource ? `Paytiko ${resource} not found (${said})` : `${call}: ${said}`);
  }
  if (status === 409) return new DomainError('FAILED_PRECONDITION', `${call} refused: ${said}`);
  const violations: Violation[] = [];
  const errors = typeof problem.errors === 'object' && problem.errors !== null ? problem.errors : {};
  for (const [path, messages] of Object.entries(errors as Record<string, unknown>).slice(0, 20)) {
    const list = Array.isArray(messages) ? messages : [messages];
    for (const message of list.slice(0, 5)) {
      violations.push({ field: ourField(path), rule: `Paytiko ${clean(path, 100)}: ${clean(String(message))}` });
    }
  }
  if (violations.length === 0) violations.push({ field: 'paytiko', rule: said });
  const summary = violations.map((v) => `${v.field}: ${v.rule}`).join('; ');
  return new DomainError('INVALID_ARGUMENT', `${call} refused: ${summary}`, violations);
}

/** `{membershipKey}`, `{customerKey}` … from an answer: the named key, which must carry its prefix. */
export function keyOf(value: unknown, key: string, prefix: string, noun: string): string {
  const obj = asObject(value, noun);
  const ref = requiredString(obj, key, noun);
  if (!ref.startsWith(prefix) || !/^[\x21-\x7e]{1,200}$/.test(ref)) {
    throw invalidArgument([{ field: `${noun}.${key}`, rule: `is not a Paytiko key (${prefix}…)` }]);
  }
  return ref;
}
