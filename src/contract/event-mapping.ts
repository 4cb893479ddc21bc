import type { EventData } from '../domain/event';
import type { BillingEvent } from '../gen/billing/v1/event';
import { toCustomerMessage } from './customer-mapping';
import { toPlanMessage } from './plan-mapping';
import { toStorefrontMessage } from './storefront-mapping';

/** The BillingEvent.data oneof member for an event's aggregate. */
export function toEventData(data: EventData): Partial<BillingEvent> {
  switch (data.kind) {
    case 'customer':
      return { customer: toCustomerMessage(data.customer) };
    case 'storefront':
      return { storefront: toStorefrontMessage(data.storefront) };
    case 'plan':
      return { plan: toPlanMessage(data.plan) };
  }
}
