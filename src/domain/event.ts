import type { Customer } from './customer';
import type { Discount } from './discount';
import type { Entitlement } from './entitlement';
import type { Invoice } from './invoice';
import type { Payment, Refund } from './payment';
import type { Subscription } from './subscription';
import type { EventType } from './event-catalogue';
import type { Plan } from './plan';
import type { Storefront } from './storefront';

/** The aggregate an event carries as its payload (BillingEvent.data). */
export type EventData =
  | { kind: 'customer'; customer: Customer }
  | { kind: 'storefront'; storefront: Storefront }
  | { kind: 'plan'; plan: Plan }
  | { kind: 'subscription'; subscription: Subscription }
  | { kind: 'payment'; payment: Payment }
  | { kind: 'refund'; refund: Refund }
  | { kind: 'invoice'; invoice: Invoice }
  | { kind: 'entitlement'; entitlement: Entitlement }
  | { kind: 'discount'; discount: Discount };

/**
 * An event as a use case raises it. The outbox gives it an id, a sequence within its key and the trace context.
 * `key` is the Kafka key: subscription id, customer id or storefront id (see ARCHITECTURE).
 */
export interface EventDraft {
  type: EventType;
  key: string;
  aggregateId: string;
  storefrontId: string;
  tenantId: string;
  provider: string;
  data: EventData;
  providerEventId?: string;
}
