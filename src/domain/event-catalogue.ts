/**
 * The event vocabulary every consumer codes against, and which Kafka topic ("stream") each family goes to.
 * Topic = `${KAFKA_TOPIC_PREFIX}.${stream}.v1`.
 */
export const EVENT_TYPES = [
  'billing.subscription.created',
  'billing.subscription.activated',
  'billing.subscription.trial_will_end',
  'billing.subscription.renewed',
  'billing.subscription.plan_changed',
  'billing.subscription.updated',
  'billing.subscription.paused',
  'billing.subscription.resumed',
  'billing.subscription.past_due',
  'billing.subscription.unpaid',
  'billing.subscription.cancellation_scheduled',
  'billing.subscription.cancellation_revoked',
  'billing.subscription.canceled',
  'billing.subscription.completed',
  'billing.subscription.expired',
  'billing.payment.succeeded',
  'billing.payment.failed',
  'billing.payment.refunded',
  'billing.refund.succeeded',
  'billing.refund.failed',
  'billing.invoice.paid',
  'billing.invoice.payment_failed',
  'billing.invoice.voided',
  'billing.entitlement.granted',
  'billing.entitlement.revoked',
  'billing.customer.created',
  'billing.customer.updated',
  'billing.storefront.created',
  'billing.storefront.updated',
  'billing.storefront.provider_switched',
  'billing.plan.created',
  'billing.plan.archived',
  'billing.discount.applied',
] as const;

export type EventType = (typeof EVENT_TYPES)[number];

export type EventStream = 'subscriptions' | 'payments' | 'customers' | 'storefronts';

const STREAM_BY_FAMILY: Record<string, EventStream> = {
  subscription: 'subscriptions',
  invoice: 'subscriptions',
  discount: 'subscriptions',
  payment: 'payments',
  refund: 'payments',
  customer: 'customers',
  entitlement: 'customers',
  storefront: 'storefronts',
  plan: 'storefronts',
};

export const EVENT_STREAMS: readonly EventStream[] = ['subscriptions', 'payments', 'customers', 'storefronts'];

/** The stream an event type is published on. */
export function streamOf(type: EventType): EventStream {
  const family = type.split('.')[1]!;
  return STREAM_BY_FAMILY[family]!;
}

export function topicName(prefix: string, stream: EventStream): string {
  return `${prefix}.${stream}.v1`;
}

export function isEventType(value: string): value is EventType {
  return (EVENT_TYPES as readonly string[]).includes(value);
}
