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
  );
