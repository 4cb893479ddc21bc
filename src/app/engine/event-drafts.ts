import type { Discount } from '../../domain/discount';
import type { Entitlement } from '../../domain/entitlement';
import type { EventData, EventDraft } from '../../domain/event';
import type { EventType } from '../../domain/event-catalogue';
import type { Invoice } from '../../domain/invoice';
import type { Payment, Refund } from '../../domain/payment';
import type { Storefront } from '../../domain/storefront';
import type { Subscription } from '../../domain/subscription';

/** The event fields that vary per aggregate; storefront and tenant come from the storefront. */
interface Keyed {
  key: string;
  aggregateId: string;
  provider: string;
  data: EventData;
}

function draft(type: EventType, storefront: Storefront, keyed: Keyed, providerEventId?: string): EventDraft {
  return { type, storefrontId: storefront.id, tenantId: storefront.tenantId, providerEventId, ...keyed };
}

/**
 * Events as ARCHITECTURE keys them: subscription and invoice events, and payments that belong to a subscription,
 * by subscription id (so one consumer partition sees a subscription's whole life in order); entitlements by customer.
 */
export const drafts = {
  subscription: (type: EventType, storefront: Storefront, s: Subscription, providerEventId?: string) =>
    draft(
      type,
      storefront,
      { key: s.id, aggregateId: s.id, provider: s.provider, data: { kind: 'subscription', subscription: s } },
      providerEventId,
    ),
  invoice: (type: EventType, storefront: Storefront, s: Subscription, i: Invoice, providerEventId?: string) =>
    draft(
      type,
      storefront,
      { key: s.id, aggregateId: i.id, provider: s.provider, data: { kind: 'invoice', invoice: i } },
      providerEventId,
    ),
  payment: (type: EventType, storefront: Storefront, p: Payment, providerEventId?: string) =>
    draft(
      type,
      storefront,
      { key: p.subscriptionId ?? p.id, aggregateId: p.id, provider: p.provider, data: { kind: 'payment', payment: p } },
      providerEventId,
    ),
  refund: (type: EventType, storefront: Storefront, p: Payment, r: Refund, providerEventId?: string) =>
    draft(
      type,
      storefront,
      { key: p.subscriptionId ?? p.id, aggregateId: r.id, provider: p.provider, data: { kind: 'refund', refund: r } },
      providerEventId,
    ),
  entitlement: (type: EventType, storefront: Storefront, provider: string, e: Entitlement) =>
    draft(type, storefront, {
      key: e.customerId,
      aggregateId: e.id,
      provider,
      data: { kind: 'entitlement', entitlement: e },
    }),
  /** `billing.discount.applied`: about its subscription (ce_subject), in that subscription's order on its topic. */
  discount: (storefront: Storefront, provider: string, d: Discount, providerEventId?: string) =>
    draft(
      'billing.discount.applied',
      storefront,
      { key: d.subscriptionId, aggregateId: d.subscriptionId, provider, data: { kind: 'discount', discount: d } },
      providerEventId,
    ),
};
