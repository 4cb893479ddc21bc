import type { ProviderEvent } from '../../ports/provider-adapter.port';

/**
 * For providers whose signature does not cover the state a webhook carries (features `webhooks: notification`),
 * a webhook only says which object changed: its body's state is never applied; the object is fetched instead. An
 * unsigned audit record says nothing to fetch and is not ours to believe: it stays only in the inbox as received.
 */
export function asNotification(event: ProviderEvent): ProviderEvent[] {
  const base = {
    providerEventId: event.providerEventId,
    providerType: event.providerType,
    occurredAt: event.occurredAt,
  };
  switch (event.kind) {
    case 'subscription':
      return [
        {
          ...base,
          kind: 'changed',
          object: 'subscription',
          ref: event.subscription.ref,
          orderId: event.subscription.orderId,
          customerRef: event.subscription.customerRef,
        },
      ];
    case 'payment':
      return [{ ...base, kind: 'changed', object: 'payment', ref: event.payment.ref, orderId: event.payment.orderId }];
    case 'refund':
      return [{ ...base, kind: 'changed', object: 'refund', ref: event.refund.ref }];
    case 'invoice':
      // An invoice is news about its subscription: its state decides what the invoice did.
      return [
        {
          ...base,
          kind: 'changed',
          object: 'subscription',
          ref: event.invoice.subscriptionRef ?? '',
          orderId: event.invoice.orderId,
        },
      ];
    case 'entitlement':
    case 'discount': {
      // Unsigned claims about a subscription: what it grants is fetched with it, never taken from the body.
      const ref = event.kind === 'entitlement' ? event.entitlement.subscriptionRef : event.discount.subscriptionRef;
      return [{ ...base, kind: 'changed', object: 'subscription', ref: ref ?? '' }];
    }
    case 'audit':
      return [];
    case 'changed':
      return [event];
  }
}
