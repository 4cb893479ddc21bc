import type { Entitlement } from '../domain/entitlement';
import type { EventDraft } from '../domain/event';
import type { EventType } from '../domain/event-catalogue';
import type { Invoice } from '../domain/invoice';
import type { Payment, Refund } from '../domain/payment';
import type { Storefront } from '../domain/storefront';
import type { Subscription } from '../domain/subscription';

/**
 * Events as ARCHITECTURE keys them: subscription and invoice events, and payments that belong to a subscription,
 * by subscription id (so one consumer partition sees a subscription's whole life in order); entitlements by customer.
 */
export const drafts = {
  subscription(type: EventType, storefront: Storefront, s: Subscription, providerEventId?: string): EventDraft {
    return {
      type,
      key: s.id,
      aggregateId: s.id,
      storefrontId: s.storefrontId,
      tenantId: storefront.tenantId,
      provider: s.provider,
      data: { kind: 'subscription', subscription: s },
      providerEventId,
    };
  },
  invoice(type: EventType, storefront: Storefront, s: Subscription, i: Invoice, providerEventId?: string): EventDraft {
    return {
      type,
      key: s.id,
      aggregateId: i.id,
      storefrontId: s.storefrontId,
      tenantId: storefront.tenantId,
      provider: s.provider,
      data: { kind: 'invoice', invoice: i },
      providerEventId,
    };
  },
  payment(type: EventType, storefront: Storefront, p: Payment, providerEventId?: string): EventDraft {
    return {
      type,
      key: p.subscriptionId ?? p.id,
      aggregateId: p.id,
      storefrontId: p.storefrontId,
      tenantId: storefront.tenantId,
      provider: p.provider,
      data: { kind: 'payment', payment: p },
      providerEventId,
    };
  },
  refund(type: EventType, storefront: Storefront, p: Payment, r: Refund, providerEventId?: string): EventDraft {
    return {
      type,
      key: p.subscriptionId ?? p.id,
      aggregateId: r.id,
      storefrontId: p.storefrontId,
      tenantId: storefront.tenantId,
      provider: p.provider,
      data: { kind: 'refund', refund: r },
      providerEventId,
    };
  },
  entitlement(type: EventType, storefront: Storefront, provider: string, e: Entitlement): EventDraft {
    return {
      type,
      key: e.customerId,
      aggregateId: e.id,
      storefrontId: storefront.id,
      tenantId: storefront.tenantId,
      provider,
      data: { kind: 'entitlement', entitlement: e },
    };
  },
};
