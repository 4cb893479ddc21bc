import { createHmac, timingSafeEqual } from 'node:crypto';
import { invalidArgument } from '../../src/domain/errors';
import type {
  ProviderEvent,
  ProviderSubscriptionState,
  ProviderWebhooks,
  RawWebhook,
  SubscriptionHint,
  WebhookSecrets,
} from '../../src/ports/provider-adapter.port';

/**
 * The fake provider's webhook format: a JSON envelope `{ id, type, created_at, ordering_key?, sequence?, data }`
 * signed as `x-fake-signature: sha256=<hex HMAC-SHA256 of the body with the binding's webhook_secret>`. Its own
 * format (not any real provider's), so the engine is driven only through what the port promises.
 */
export const SIGNATURE_HEADER = 'x-fake-signature';

export const fakeWebhooks: ProviderWebhooks = {
  // Typed to take today's secrets or the ingress's `{ secrets, config }`, so the fake survives that change.
  verify: (webhook: RawWebhook, keys: WebhookSecrets | { secrets: WebhookSecrets }) => {
    const secrets = 'secrets' in keys ? keys.secrets : keys;
    const given = webhook.headers[SIGNATURE_HEADER] ?? '';
    if (!given) return { ok: false, reason: `missing ${SIGNATURE_HEADER}` };
    const matches = [secrets.current, secrets.previous]
      .filter((s): s is string => Boolean(s))
      .some((secret) => sameText(sign(secret, webhook.body), given));
    return matches ? { ok: true } : { ok: false, reason: 'signature does not match' };
  },
  envelope: (webhook) => {
    const body = readBody(webhook);
    const envelope = {
      providerEventId: body.id,
      eventType: body.type,
      orderingKey: body.ordering_key,
      sequence: body.sequence,
    };
    return envelope;
  },
  parse: (webhook) => parseEvent(readBody(webhook)),
};

export function sign(secret: string, body: string | Buffer): string {
  return `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`;
}

function sameText(a: string, b: string): boolean {
  const left = Buffer.from(a);
  const right = Buffer.from(b);
  return left.length === right.length && timingSafeEqual(left, right);
}

interface FakeEnvelope {
  id: string;
  type: string;
  created_at: string;
  ordering_key?: string;
  sequence?: string;
  data: Record<string, unknown>;
}

function readBody(webhook: RawWebhook): FakeEnvelope {
  let body: Partial<FakeEnvelope>;
  try {
    body = JSON.parse(webhook.body.toString('utf8')) as Partial<FakeEnvelope>;
  } catch {
    throw invalidArgument([{ field: 'body', rule: 'must be JSON' }]);
  }
  if (typeof body.id !== 'string' || typeof body.type !== 'string' || typeof body.data !== 'object') {
    throw invalidArgument([{ field: 'body', rule: 'must carry id, type and data' }]);
  }
  return body as FakeEnvelope;
}

function parseEvent(body: FakeEnvelope): ProviderEvent[] {
  const base = { providerEventId: body.id, providerType: body.type, occurredAt: new Date(body.created_at) };
  const data = body.data;
  switch (body.type) {
    case 'subscription.updated':
      return [
        {
          ...base,
          kind: 'subscription',
          hint: data.hint as SubscriptionHint,
          subscription: stateOf(data.subscription as Record<string, unknown>),
        },
      ];
    case 'subscription.changed':
      return [{ ...base, kind: 'changed', object: 'subscription', ref: String(data.ref), orderId: opt(data.order_id) }];
    case 'entitlement.granted':
    case 'entitlement.revoked':
      return [
        {
          ...base,
          kind: 'entitlement',
          action: body.type === 'entitlement.granted' ? 'granted' : 'revoked',
          entitlement: {
            customerRef: String(data.customer_ref),
            subscriptionRef: opt(data.subscription_ref),
            featureKey: String(data.feature_key),
            activeUntil: date(data.active_until),
          },
        },
      ];
    default:
      return [];
  }
}

/** The fake's wire form of a subscription: our field names, dates as RFC 3339. */
export function stateJson(s: ProviderSubscriptionState): Record<string, unknown> {
  return {
    ref: s.ref,
    order_id: s.orderId,
    customer_ref: s.customerRef,
    plan_ref: s.planRef,
    quantity: s.quantity,
    status: s.status,
    current_period_start: s.currentPeriodStart?.toISOString(),
    current_period_end: s.currentPeriodEnd?.toISOString(),
    cancel_at_period_end: s.cancelAtPeriodEnd,
    canceled_at: s.canceledAt?.toISOString(),
    ended_at: s.endedAt?.toISOString(),
    updated_at: s.observedAt?.toISOString(),
    // A provider that dates to a coarser unit says since when the state may have held (see ObservedSubscription).
    updated_since: s.observedSince?.toISOString(),
  };
}

function stateOf(json: Record<string, unknown>): ProviderSubscriptionState {
  return {
    ref: String(json.ref),
    orderId: opt(json.order_id),
    customerRef: opt(json.customer_ref),
    planRef: opt(json.plan_ref),
    quantity: typeof json.quantity === 'number' ? json.quantity : undefined,
    status: json.status as ProviderSubscriptionState['status'],
    currentPeriodStart: date(json.current_period_start),
    currentPeriodEnd: date(json.current_period_end),
    cancelAtPeriodEnd: typeof json.cancel_at_period_end === 'boolean' ? json.cancel_at_period_end : undefined,
    canceledAt: date(json.canceled_at),
    endedAt: date(json.ended_at),
    observedAt: date(json.updated_at),
    observedSince: date(json.updated_since),
  };
}

function opt(value: unknown): string | undefined {
  return typeof value === 'string' && value !== '' ? value : undefined;
}

function date(value: unknown): Date | undefined {
  return typeof value === 'string' ? new Date(value) : undefined;
}
