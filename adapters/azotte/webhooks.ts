import { invalidArgument } from '../../src/domain/errors';
import type {
  ProviderEvent,
  ProviderEventBase,
  ProviderInvoiceState,
  ProviderPaymentState,
  ProviderSubscriptionState,
  ProviderWebhooks,
  RawWebhook,
  ReceivedWebhook,
  SubscriptionHint,
  WebhookEnvelope,
  WebhookKeys,
  WebhookVerdict,
} from '../../src/ports/provider-adapter.port';
import { constantTimeEqual, hmacSha256Hex, timestampOutsideTolerance } from '../kit/signatures';
import { bounded } from './errors';
import { moneyField, orderIdOf, paymentCycle, toInvoiceState, toPaymentState, toSubscriptionState } from './mapping';
import { asObject, isoDate, obj, optInt, optIsoDate, optObj, optStr, parseJson, str } from '../kit/json';
import type { WireObject } from './wire';

/** Deliveries whose `t` is further than this from our clock are refused (README 34). */
const TOLERANCE_MS = 300_000;
const HEX_SHA256 = /^[0-9a-f]{64}$/i;
const MAX_SIGNATURES = 4;
const EVENT_TYPE = /^[a-z][a-z_]{0,31}\.[a-z][a-z_]{0,31}$/;
const PRINTABLE_ID = /^[\x21-\x7e]{1,255}$/;

/** `azotte-signature`'s v1: lower-case hex HMAC-SHA256 of `{t}.{raw body}`. */
export function azotteSignature(secret: string, timestamp: string, body: Buffer): string {
  return hmacSha256Hex(secret, `${timestamp}.`, body);
}

/** `t=<unix s>,v1=<hex>[,v1=<hex>…]`: other keys are ignored; every v1 is tried with both secrets. */
export function verifyAzotteWebhook(webhook: ReceivedWebhook, keys: WebhookKeys, now: Date): WebhookVerdict {
  const header = webhook.headers['azotte-signature'];
  if (!header) return { ok: false, reason: 'missing azotte-signature header' };
  let timestamp: string | undefined;
  const signatures: string[] = [];
  for (const part of header.split(',').slice(0, 20)) {
    const at = part.indexOf('=');
    if (at < 0) continue;
    const key = part.slice(0, at).trim();
    const value = part.slice(at + 1).trim();
    if (key === 't') timestamp = value;
    else if (key === 'v1') signatures.push(value);
  }
  if (!timestamp || !/^\d{1,12}$/.test(timestamp))
    return { ok: false, reason: 'azotte-signature has no t in unix seconds' };
  const stale = timestampOutsideTolerance(Number(timestamp) * 1000, now, TOLERANCE_MS);
  if (stale) return { ok: false, reason: `azotte-signature t ${stale}` };
  // A rotation has two or three secrets at a time: more v1 values than that are not Azotte's.
  const candidates = signatures.filter((s) => HEX_SHA256.test(s)).slice(0, MAX_SIGNATURES);
  if (candidates.length === 0) return { ok: false, reason: 'azotte-signature has no hex v1 signature' };
  const { secrets } = keys;
  if (!secrets.current && !secrets.previous) {
    return { ok: false, reason: 'no webhook secret is configured for this storefront' };
  }
  // Each secret signs the body once, whatever the sender put in the header; every candidate is then compared with
  // every expected value, so the time taken does not tell which one matched.
  const expected = [secrets.current, secrets.previous]
    .filter((secret): secret is string => Boolean(secret))
    .map((secret) => azotteSignature(secret, timestamp, webhook.body));
  let matched = false;
  for (const signature of candidates) {
    for (const value of expected) if (constantTimeEqual(value, signature.toLowerCase())) matched = true;
  }
  if (matched) return { ok: true };
  return { ok: false, reason: 'no v1 of azotte-signature matches the current or previous webhook secret' };
}

interface AzotteEvent {
  id: string;
  type: string;
  occurredAt: Date;
  sequence: string;
  correlationId?: string;
  actor: string;
  data: WireObject;
  customerUrn: string;
}

/** The envelope (README 35), each field checked and named on failure (INVALID_ARGUMENT). */
function readEvent(webhook: RawWebhook): AzotteEvent {
  const body = asObject(parseJson(webhook.body.toString('utf8')), 'body');
  const id = str(body, 'id', '');
  if (!PRINTABLE_ID.test(id)) throw invalidArgument([{ field: 'id', rule: 'must be 1 to 255 printable characters' }]);
  const type = str(body, 'type', '');
  if (!EVENT_TYPE.test(type))
    throw invalidArgument([{ field: 'type', rule: 'must be a lower-case family.event name' }]);
  const sequence = body.sequence;
  const digits = typeof sequence === 'number' && Number.isSafeInteger(sequence) ? String(sequence) : sequence;
  if (typeof digits !== 'string' || !/^\d{1,30}$/.test(digits)) {
    throw invalidArgument([{ field: 'sequence', rule: 'must be a non-negative integer' }]);
  }
  const data = obj(body, 'data', '');
  const customerUrn = str(data, 'customerUrn', 'data');
  const actorObject = optObj(body, 'actor', '');
  const actorType = (actorObject && optStr(actorObject, 'type', 'actor')) ?? 'System';
  const actorId = actorObject && optStr(actorObject, 'id', 'actor');
  return {
    id,
    type,
    occurredAt: isoDate(body, 'occurredAt', ''),
    sequence: digits.replace(/^0+(?=\d)/, ''),
    correlationId: optStr(body, 'correlationId', ''),
    actor: bounded(actorId ? `${actorType}:${actorId}` : actorType, 128),
    data,
    customerUrn,
  };
}

/** Event id, type, and per-customer order: ordering key = customerUrn, sequence = `sequence` (README 36). */
export function azotteEnvelope(webhook: RawWebhook): WebhookEnvelope {
  const event = readEvent(webhook);
  return { providerEventId: event.id, eventType: event.type, orderingKey: event.customerUrn, sequence: event.sequence };
}

const SUBSCRIPTION_HINT: Record<string, SubscriptionHint> = {
  created: 'activated',
  renewed: 'updated',
  upgraded: 'plan_changed',
  downgraded: 'plan_changed',
  paused: 'paused',
  resumed: 'resumed',
  reactivated: 'cancellation_revoked',
  expired: 'canceled',
};

/** Every family of README 38, normalized; types we do not act on become nothing. */
export function parseAzotteWebhook(webhook: RawWebhook): ProviderEvent[] {
  const event = readEvent(webhook);
  const base: ProviderEventBase = { providerEventId: event.id, providerType: event.type, occurredAt: event.occurredAt };
  const [family, name] = event.type.split('.') as [string, string];
  const { data, occurredAt } = event;
  switch (family) {
    case 'subscription':
      return subscriptionEvents(base, name, data);
    case 'payment': {
      if (!['captured', 'failed', 'refunded', 'recovered'].includes(name)) return [];
      const subscriptionData = optObj(data, 'subscription', 'data');
      const kind = optStr(data, 'kind', 'data');
      // Our order: the subscription's correlationId, or the checkout's own for a first charge (README 35, 23).
      const correlation =
        (subscriptionData && optStr(subscriptionData, 'correlationId', 'data.subscription')) ??
        (kind === 'Initial' || kind === 'Replace' ? event.correlationId : undefined);
      const payment = toPaymentState(data, 'data', orderIdOf(correlation));
      // Every payment names the period it pays; one without it is refused rather than billed to a guessed cycle.
      const cycle = paymentCycle(data, 'data');
      payment.paidAt = payment.status === 'SUCCEEDED' ? occurredAt : undefined;
      const outcome = name === 'failed' ? 'failed' : 'succeeded';
      const invoice = invoiceEvent(base, name, data, payment, cycle);
      payment.invoiceRef = invoice?.invoice.ref;
      // The payment first, then its invoice (as the other providers send them, and so the invoice finds its
      // payment to link); a failed renewal's state last (README 39).
      const events: ProviderEvent[] = [{ ...base, kind: 'payment', outcome, payment }];
      if (invoice) events.push(invoice);
      // A failed renewal is the one change no subscription.* event reports (README 38, 39).
      if (name === 'failed' && kind === 'Renewal' && subscriptionData) {
        const subscription = reportedSubscription(subscriptionData, 'data.subscription', occurredAt);
        events.push({ ...base, kind: 'subscription', hint: 'past_due', subscription });
      }
      return events;
    }
    case 'entitlement': {
      if (!['granted', 'updated', 'revoked'].includes(name)) return [];
      const entitlement = {
        customerRef: event.customerUrn,
        subscriptionRef: optStr(data, 'orderIdentifier', 'data'),
        featureKey: str(data, 'featureKey', 'data'),
        activeFrom: optIsoDate(data, 'activeFrom', 'data'),
        activeUntil: optIsoDate(data, 'activeUntil', 'data'),
      };
      return [{ ...base, kind: 'entitlement', action: name === 'revoked' ? 'revoked' : 'granted', entitlement }];
    }
    case 'campaign':
      return name === 'offer_applied' ? [discountEvent(base, data, event.customerUrn)] : [];
    case 'audit':
      if (name !== 'state_changed') return [];
      return [
        {
          ...base,
          kind: 'audit',
          record: {
            entity: bounded(str(data, 'entity', 'data'), 64),
            // 254 and bounded's '…': within the 255 characters the core allows a reference.
            entityRef: bounded(str(data, 'entityUrn', 'data'), 254),
            field: bounded(str(data, 'field', 'data'), 64),
            from: textOf(data, 'from'),
            to: textOf(data, 'to'),
            customerRef: event.customerUrn,
            actor: event.actor,
            correlationId: event.correlationId && bounded(event.correlationId, 254),
          },
        },
      ];
    default:
      return [];
  }
}

type InvoiceEvent = Extract<ProviderEvent, { kind: 'invoice' }>;

/**
 * The invoice a subscription payment pays (mapping.toInvoiceState): captured/recovered → paid; a failed renewal →
 * payment_failed (a failed first charge has no subscription to bill); refunded → refunded, (partially) by amount.
 */
function invoiceEvent(
  base: ProviderEventBase,
  name: string,
  data: WireObject,
  payment: ProviderPaymentState,
  cycle: number,
): InvoiceEvent | undefined {
  let outcome: InvoiceEvent['outcome'];
  let status: ProviderInvoiceState['status'];
  if (name === 'captured' || name === 'recovered') {
    [outcome, status] = ['paid', 'PAID'];
  } else if (name === 'failed' && payment.kind === 'recurring') {
    [outcome, status] = ['payment_failed', 'FAILED'];
  } else if (name === 'refunded') {
    // More refunded than paid is no refund Azotte could have made: the core refuses the payment's report, and its
    // invoice must not turn REFUNDED on the same claim.
    if (payment.refundedAmount.amountMinor > payment.amount.amountMinor) return undefined;
    outcome = 'refunded';
    status = payment.refundState === 'PARTIALLY_REFUNDED' ? 'PARTIALLY_REFUNDED' : 'REFUNDED';
  } else {
    return undefined;
  }
  const invoice = toInvoiceState(data, 'data', payment, status, cycle);
  return invoice && { ...base, kind: 'invoice', outcome, invoice };
}

function subscriptionEvents(base: ProviderEventBase, name: string, data: WireObject): ProviderEvent[] {
  const subscription = reportedSubscription(data, 'data', base.occurredAt);
  let hint: SubscriptionHint;
  if (name === 'canceled') {
    // The old one of a Replace: ours lives on as the new subscription (README 39).
    if (optStr(data, 'replacedByOrderIdentifier', 'data')) return [];
    hint = subscription.status === 'CANCELED' ? 'canceled' : 'cancellation_scheduled';
  } else if (Object.hasOwn(SUBSCRIPTION_HINT, name)) {
    hint = SUBSCRIPTION_HINT[name]!;
  } else {
    return [];
  }
  return [{ ...base, kind: 'subscription', hint, subscription }];
}

function discountEvent(base: ProviderEventBase, data: WireObject, customerUrn: string): ProviderEvent {
  const p = 'data';
  const currency = optStr(data, 'currency', p);
  const hasAmount = data.amountOffMilpieces !== undefined && data.amountOffMilpieces !== null;
  if (hasAmount && !currency)
    throw invalidArgument([{ field: 'data.currency', rule: 'is required with amountOffMilpieces' }]);
  return {
    ...base,
    kind: 'discount',
    discount: {
      subscriptionRef: optStr(data, 'orderIdentifier', p),
      customerRef: customerUrn,
      code: bounded(optStr(data, 'promotionCode', p) ?? str(data, 'campaignCode', p), 64),
      description: bounded(optStr(data, 'description', p) ?? ''),
      amountOff: hasAmount ? moneyField(data, 'amountOffMilpieces', currency!, p) : undefined,
      percentOffBasisPoints: basisPoints(data, p),
      cycles: optInt(data, 'cycles', p),
    },
  };
}

/** A share off, 0–10000 basis points (10000 = 100 %), or none. */
function basisPoints(data: WireObject, prefix: string): number | undefined {
  const value = optInt(data, 'percentOffBasisPoints', prefix);
  if (value !== undefined && (value < 0 || value > 10_000)) {
    throw invalidArgument([{ field: `${prefix}.percentOffBasisPoints`, rule: 'must be 0 to 10000 basis points' }]);
  }
  return value;
}

/** An audit value as text (Azotte may send strings, numbers or null), bounded. */
function textOf(data: WireObject, key: string): string | undefined {
  const value = data[key];
  if (value === undefined || value === null) return undefined;
  return bounded(typeof value === 'string' ? value : JSON.stringify(value), 255);
}

/** Azotte webhooks: signature, envelope, signed state (features.webhooks = state). */
export const azotteWebhooks: ProviderWebhooks = {
  verify: verifyAzotteWebhook,
  envelope: azotteEnvelope,
  parse: parseAzotteWebhook,
};

/**
 * An event's subscription, dated for the state machine's order: Azotte dates events to the whole second, so its state
 * was true somewhere within that second. Taken as late as its end, a read we made earlier in that second (dated to
 * our millisecond) is not newer than the event that followed it; and a state we hold from within that second (an
 * answer to our own call) cannot be ordered against it by time, so the state machine asks Azotte.
 */
function reportedSubscription(value: unknown, prefix: string, occurredAt: Date): ProviderSubscriptionState {
  const second = Math.floor(occurredAt.getTime() / 1000) * 1000;
  const state = toSubscriptionState(value, prefix, occurredAt, new Date(second + 999));
  return { ...state, observedSince: new Date(second) };
}
