import type { Money } from '../domain/money';
import type {
  ProviderInvoiceState,
  ProviderPaymentState,
  ProviderRefundState,
  ProviderSubscriptionState,
} from './provider-state';

/**
 * What a subscription webhook reports. The state it carries decides the transition; `hint` only says what the
 * provider meant where the state alone cannot (a trial ending soon, a plan change).
 */
export type SubscriptionHint =
  | 'activated'
  | 'trial_will_end'
  | 'plan_changed'
  | 'paused'
  | 'resumed'
  | 'past_due'
  | 'unpaid'
  | 'cancellation_scheduled'
  | 'cancellation_revoked'
  | 'canceled'
  | 'updated';

/** One webhook, normalized by the adapter. `providerEventId` and `occurredAt` come from the envelope. */
export interface ProviderEventBase {
  providerEventId: string;
  /** The provider's own event type, kept for records and dead letters. */
  providerType: string;
  occurredAt: Date;
}

export type ProviderEvent = ProviderEventBase &
  (
    | { kind: 'subscription'; hint: SubscriptionHint; subscription: ProviderSubscriptionState }
    | { kind: 'payment'; outcome: 'created' | 'succeeded' | 'failed'; payment: ProviderPaymentState }
    | { kind: 'invoice'; outcome: 'paid' | 'payment_failed' | 'refunded'; invoice: ProviderInvoiceState }
    | { kind: 'refund'; outcome: 'succeeded' | 'failed'; refund: ProviderRefundState }
    /** Native entitlements (providers whose features say `entitlements: native`). */
    | { kind: 'entitlement'; action: 'granted' | 'revoked'; entitlement: ProviderEntitlement }
    /** A discount (campaign, promotion code) applied to a subscription: `billing.discount.applied`. */
    | { kind: 'discount'; discount: ProviderDiscount }
    /** A change the provider wrote into its own audit trail: kept in our audit log with its actor and correlation id. */
    | { kind: 'audit'; record: ProviderAuditRecord }
    /**
     * Notify-only: something about this object changed; fetch it and apply what the provider says now. Also what a
     * `notification` provider's webhooks become, since their bodies are not signed state.
     */
    | {
        kind: 'changed';
        object: 'subscription' | 'payment' | 'refund';
        ref: string;
        orderId?: string;
        customerRef?: string;
      }
  );

export interface ProviderEntitlement {
  customerRef: string;
  /** The provider's subscription that grants it, when it says. */
  subscriptionRef?: string;
  featureKey: string;
  activeFrom?: Date;
  activeUntil?: Date;
}

export interface ProviderDiscount {
  subscriptionRef?: string;
  customerRef?: string;
  code: string;
  description: string;
  /** A fixed amount off, or a share in basis points (10000 = 100 %); never a float. */
  amountOff?: Money;
  percentOffBasisPoints?: number;
  /** How many billing cycles it lasts; absent = forever or once, as the provider says in `description`. */
  cycles?: number;
}

/** One entry of a provider's audit trail, as it reported it (signed, but still the provider's words: bounded). */
export interface ProviderAuditRecord {
  /** What changed: the kind of object (e.g. `Subscription`), its reference at the provider, the field and values. */
  entity: string;
  entityRef: string;
  field: string;
  from?: string;
  to?: string;
  /** The customer it concerns at the provider: it must be ours on this storefront, or the record is only kept raw. */
  customerRef: string;
  /** Who made the change at the provider (e.g. `C2A:key_01`, `System`). */
  actor: string;
  /** The provider's correlation id (our order id when the change stems from our checkout). */
  correlationId?: string;
}
