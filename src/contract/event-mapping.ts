import type { EventData } from '../domain/event';
import type { BillingEvent } from '../gen/billing/v1/event';
import { toCustomerMessage } from './customer-mapping';
import { toDiscountMessage } from './discount-mapping';
import { toEntitlementMessage } from './entitlement-mapping';
import { toInvoiceMessage, toPaymentMessage, toRefundMessage } from './payment-mapping';
import { toPlanMessage } from './plan-mapping';
import { toStorefrontMessage } from './storefront-mapping';
import { toSubscriptionMessage } from './subscription-mapping';

/** The BillingEvent.data oneof member for an event's aggregate. */
export function toEventData(data: EventData): Partial<BillingEvent> {
  switch (data.kind) {
    case 'customer':
      return { customer: toCustomerMessage(data.customer) };
    case 'storefront':
      return { storefront: toStorefrontMessage(data.storefront) };
    case 'plan':
      return { plan: toPlanMessage(data.plan) };
    case 'subscription':
      return { subscription: toSubscriptionMessage(data.subscription) };
    case 'payment':
      return { payment: toPaymentMessage(data.payment) };
    case 'refund':
      return { refund: toRefundMessage(data.refund) };
    case 'invoice':
      return { invoice: toInvoiceMessage(data.invoice) };
    case 'entitlement':
      return { entitlement: toEntitlementMessage(data.entitlement) };
    case 'discount':
      return { discount: toDiscountMessage(data.discount) };
  }
}
