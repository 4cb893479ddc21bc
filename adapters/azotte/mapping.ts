import { invalidArgument } from '../../src/domain/errors';
import type { InvoiceType } from '../../src/domain/invoice';
import { MAX_AMOUNT_MINOR, type Money } from '../../src/domain/money';
import { refundStateOf, PaymentKind, PaymentStatus } from '../../src/domain/payment';
import type { SubscriptionStatus } from '../../src/domain/subscription';
import type {
  NextAction,
  ProviderCheckoutState,
  ProviderInvoiceState,
  ProviderPaymentState,
  ProviderSubscriptionState,
} from '../../src/ports/provider-adapter.port';
import { moneyOfMilpieces } from './amounts';
import { bounded } from './errors';
import { asObject, int, optBigInt, optInt, optIsoDate, optObj, optStr, str } from '../kit/json';
import type { WireObject } from './wire';

/** The one place Azotte's objects meet our names (README 24, 27, 28, 38). */

function lookup<T>(table: Record<string, T>, value: string | undefined, field: string): T {
  const mapped = value !== undefined && Object.hasOwn(table, value) ? table[value] : undefined;
  if (mapped === undefined) {
    throw invalidArgument([
      { field, rule: `'${bounded(value ?? '', 40)}' is not one of ${Object.keys(table).join(', ')}` },
    ]);
  }
  return mapped;
}

/** Our order id in any correlationId: the part before the first `.` (README 23; a Replace's adds `.replace.…`). */
export function orderIdOf(correlationId: string | undefined): string | undefined {
  if (!correlationId) return undefined;
  const id = correlationId.split('.', 1)[0];
  return id || undefined;
}

/** Amount fields: milpieces (README 11) in `currency`, read exactly or refused naming the field. */
export function moneyField(o: WireObject, key: string, currency: string, prefix: string): Money {
  const milpieces = optBigInt(o, key, prefix);
  const read = milpieces === undefined ? undefined : moneyOfMilpieces(milpieces, currency);
  // Never negative, never beyond what our columns and events carry.
  const money = read && read.amountMinor >= 0n && read.amountMinor <= MAX_AMOUNT_MINOR ? read : undefined;
  if (!money) {
    throw invalidArgument([
      { field: `${prefix}.${key}`, rule: `is not an amount in ${bounded(currency, 8)} (milpieces)` },
    ]);
  }
  return money;
}

/** Azotte's living states (README 28); Canceled and Expired are decided by `endDate`. */
const LIVE_STATE: Record<string, SubscriptionStatus> = {
  Trial: 'TRIALING',
  Active: 'ACTIVE',
  Reactivated: 'ACTIVE',
  PastDue: 'PAST_DUE',
  // Only from portal controls (README 38: C2A cannot pause), still a state their events carry.
  Paused: 'PAUSED',
};
const ENDING_STATES = ['Canceled', 'Expired'];

/**
 * A `Subscription` (README 27) in our vocabulary. An Immediate cancel has ended it, whatever the clocks say (Azotte's
 * `endDate` is its own now, which need not be ours); otherwise `now` decides whether a Canceled one still runs to its
 * `endDate`;
 * `observedAt` is when it was true (the event's time, or the moment we read it). A canceled one that still runs keeps
 * the state it had: `previousState` when an event says it, else trialing while its trial lasts, else active.
 */
export function toSubscriptionState(
  value: unknown,
  prefix: string,
  now: Date,
  observedAt = now,
): ProviderSubscriptionState {
  const s = asObject(value, prefix);
  const ref = str(s, 'orderIdentifier', prefix);
  const state = str(s, 'state', prefix);
  const endDate = optIsoDate(s, 'endDate', prefix);
  const canceledAt = optIsoDate(s, 'canceledAt', prefix);
  const trialEnd = optIsoDate(s, 'trialEndDate', prefix);
  const method = optStr(s, 'cancelationMethod', prefix);
  let status: SubscriptionStatus;
  let cancelAtPeriodEnd = false;
  let endedAt: Date | undefined;
  if (ENDING_STATES.includes(state)) {
    if (state === 'Canceled' && method !== 'Immediate' && endDate && endDate > now) {
      const before = optStr(s, 'previousState', prefix);
      status =
        before && Object.hasOwn(LIVE_STATE, before) && before !== 'Paused'
          ? LIVE_STATE[before]!
          : trialEnd && trialEnd > now
            ? 'TRIALING'
            : 'ACTIVE';
      cancelAtPeriodEnd = method === 'EndOfPeriod';
    } else {
      status = 'CANCELED';
      endedAt = endDate ?? canceledAt ?? observedAt;
    }
  } else {
    status = lookup(LIVE_STATE, state, `${prefix}.state`);
  }
  const replaced = optStr(s, 'initialAssignmentType', prefix) === 'Replace';
  return {
    ref,
    status,
    cancelAtPeriodEnd,
    canceledAt,
    endedAt,
    currentPeriodStart: optIsoDate(s, 'currentPeriodStart', prefix),
    currentPeriodEnd: optIsoDate(s, 'currentPeriodEnd', prefix),
    trialEnd,
    quantity: optInt(s, 'quantity', prefix),
    planRef: optStr(s, 'bundleUrn', prefix),
    customerRef: optStr(s, 'customerUrn', prefix),
    orderId: orderIdOf(optStr(s, 'correlationId', prefix)),
    previousRef: replaced ? optStr(s, 'originalOrderIdentifier', prefix) : undefined,
    paymentMethodRef: optStr(s, 'paymentMethodUrn', prefix),
    observedAt,
  };
}

/** A `CheckoutResult` (README 22, 24) as our checkout state; `retryAfterSeconds` from the header, if any. */
export function toCheckoutState(
  value: unknown,
  messageCode: string,
  now: Date,
  retryAfterSeconds?: number,
): ProviderCheckoutState {
  const p = 'checkout';
  const c = asObject(value, p);
  const ref = str(c, 'trackingNumber', p);
  const orderId = orderIdOf(optStr(c, 'correlationId', p));
  const follow = optObj(c, 'followUpInstructions', p);
  const waitSeconds = retryAfterSeconds ?? (follow && optInt(follow, 'retryAfterSeconds', `${p}.followUpInstructions`));
  // Bounded: a hint of 2^53 seconds made an Invalid Date (the core polls within a minute anyway).
  const checkAt = new Date(now.getTime() + Math.min(MAX_POLL_HINT_SECONDS, Math.max(1, waitSeconds ?? 5)) * 1000);
  switch (messageCode) {
    case 'CHECK_OUT_PROCESSING':
      return { ref, status: 'PROCESSING', orderId, checkAt };
    case 'CHECK_OUT_3DS_REQUIRED':
      return { ref, status: 'ACTION_REQUIRED', orderId, checkAt, nextAction: nextActionOf(c, p) };
    case 'CHECK_OUT_DONE':
      return { ref, status: 'COMPLETE', orderId, subscriptionRef: str(c, 'orderIdentifier', p) };
    case 'CHECK_OUT_FAILED': {
      const failure = optObj(c, 'failure', p);
      return {
        ref,
        status: 'FAILED',
        orderId,
        failure: {
          code: bounded((failure && optStr(failure, 'code', `${p}.failure`)) ?? 'FAILED', 64),
          message: bounded((failure && optStr(failure, 'message', `${p}.failure`)) ?? 'Azotte: the checkout failed'),
        },
      };
    }
    default:
      throw invalidArgument([
        { field: 'status.messageCode', rule: `'${bounded(messageCode, 64)}' is not a checkout state` },
      ]);
  }
}

/** 3-D Secure: the redirect when Azotte asks for one, else the HTML it wants shown (README 24). */
function nextActionOf(c: WireObject, p: string): NextAction {
  const r = optObj(c, 'redirectInstructions', p);
  const rp = `${p}.redirectInstructions`;
  if (r) {
    const url = optStr(r, 'redirectUrl', rp);
    if (r.isRedirectRequired === true && url) return { redirectUrl: url };
    const html = optStr(r, 'htmlContent', rp);
    if (r.showHtmlContent === true && html) return { html };
    if (url) return { redirectUrl: url };
  }
  throw invalidArgument([{ field: rp, rule: 'has neither a redirectUrl nor htmlContent for 3-D Secure' }]);
}

const PAYMENT_KIND: Record<string, PaymentKind> = {
  Initial: 'initial',
  Renewal: 'recurring',
  // A Replace's charge is the new subscription's first.
  Replace: 'initial',
};

const PAYMENT_STATUS: Record<string, PaymentStatus> = {
  Captured: 'SUCCEEDED',
  Failed: 'FAILED',
  Refunded: 'SUCCEEDED',
};

/** A `payment.*` event's data (README 38). `orderId`: our order id, when the payment stems from our checkout. */
export function toPaymentState(value: unknown, prefix: string, orderId?: string): ProviderPaymentState {
  const d = asObject(value, prefix);
  const currency = str(d, 'currency', prefix);
  const amount = moneyField(d, 'amountMilpieces', currency, prefix);
  const refundedAmount =
    d.refundedMilpieces === undefined || d.refundedMilpieces === null
      ? { currency: amount.currency, amountMinor: 0n }
      : moneyField(d, 'refundedMilpieces', currency, prefix);
  const failure = optObj(d, 'failure', prefix);
  const status = lookup(PAYMENT_STATUS, optStr(d, 'state', prefix), `${prefix}.state`);
  return {
    ref: str(d, 'paymentUrn', prefix),
    kind: lookup(PAYMENT_KIND, optStr(d, 'kind', prefix), `${prefix}.kind`),
    amount,
    status,
    refundState: refundStateOf(amount.amountMinor, refundedAmount.amountMinor),
    refundedAmount,
    failure: failure && {
      code: bounded(optStr(failure, 'code', `${prefix}.failure`) ?? 'FAILED', 64),
      message: bounded(optStr(failure, 'message', `${prefix}.failure`) ?? ''),
    },
    orderId,
    customerRef: optStr(d, 'customerUrn', prefix),
    subscriptionRef: optStr(d, 'orderIdentifier', prefix),
    paymentMethodRef: optStr(d, 'paymentMethodUrn', prefix),
  };
}

const INVOICE_TYPE: Record<string, InvoiceType> = {
  Initial: 'INITIAL',
  Renewal: 'RENEWAL',
  // The new subscription's first charge after a Replace (a downgrade too: our invoice types have no other name).
  Replace: 'UPGRADE',
};

/**
 * The billing period a `payment.*` event pays (README 38, `data.cycle`): 1 for the first paid period, +1 per
 * renewal, the same for every dunning attempt of one period; numbered as the other providers number their cycles.
 */
export function paymentCycle(value: unknown, prefix: string): number {
  const cycle = int(asObject(value, prefix), 'cycle', prefix);
  if (cycle < 1) throw invalidArgument([{ field: `${prefix}.cycle`, rule: 'must be at least 1' }]);
  return cycle;
}

/**
 * The invoice our model gives the cycle a `payment.*` event pays (Azotte has no invoice object). One invoice per
 * subscription cycle, not per payment: a dunning run charges one cycle several times (each attempt its own
 * paymentUrn, all with the same `cycle`), and its failed attempts and the recovery must be one invoice that fails,
 * then is paid (our store keeps one RENEWAL invoice per cycle index). So the ref is `inv:<orderIdentifier>:<cycle>`
 * and the cycle index is `cycle`. Undefined when the payment names no period (nothing to bill it to).
 */
export function toInvoiceState(
  value: unknown,
  prefix: string,
  payment: ProviderPaymentState,
  status: ProviderInvoiceState['status'],
  cycle: number,
): ProviderInvoiceState | undefined {
  const d = asObject(value, prefix);
  const periodStart = optIsoDate(d, 'periodStart', prefix);
  const subscriptionRef = payment.subscriptionRef;
  if (!periodStart || !subscriptionRef) return undefined;
  const type = lookup(INVOICE_TYPE, optStr(d, 'kind', prefix), `${prefix}.kind`);
  return {
    ref: `inv:${subscriptionRef}:${cycle}`,
    type,
    status,
    cycleIndex: cycle,
    amount: payment.amount,
    periodStart,
    periodEnd: optIsoDate(d, 'periodEnd', prefix),
    subscriptionRef,
    orderId: payment.orderId,
    customerRef: payment.customerRef,
    paymentRef: payment.ref,
  };
}

/** The longest wait Azotte's checkout poll hint is taken at. */
const MAX_POLL_HINT_SECONDS = 3_600;

/**
 * The newest subscription `start` became through Replaces (`replacedByOrderIdentifier` links, README 32), and the one
 * it replaced when it is not `start` itself. A loop in the links ends where it would revisit one.
 */
export function followReplacements(
  list: readonly WireObject[],
  start: WireObject,
): { newest: WireObject; previous?: WireObject } {
  // Indexed once: a search of the list per link took seconds for a list of 60,000 chained in reverse.
  const byOrder = new Map<unknown, WireObject>();
  for (const s of list) if (!byOrder.has(s.orderIdentifier)) byOrder.set(s.orderIdentifier, s);
  let newest = start;
  let previous: WireObject | undefined;
  const seen = new Set<WireObject>([start]);
  for (;;) {
    const link = newest.replacedByOrderIdentifier;
    const next = typeof link === 'string' && link ? byOrder.get(link) : undefined;
    if (!next || seen.has(next)) return { newest, previous };
    seen.add(next);
    previous = newest;
    newest = next;
  }
}
