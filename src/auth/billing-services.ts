import type * as grpc from '@grpc/grpc-js';
import { CatalogServiceService } from '../gen/billing/v1/catalog';
import { CustomerServiceService } from '../gen/billing/v1/customer';
import { EntitlementServiceService } from '../gen/billing/v1/entitlement';
import { EventServiceService } from '../gen/billing/v1/event';
import { PaymentServiceService } from '../gen/billing/v1/payment';
import { StorefrontServiceService } from '../gen/billing/v1/storefront';
import { SubscriptionServiceService } from '../gen/billing/v1/subscription';

/** Every generated billing.v1 service definition, by a short name; anything per-RPC is keyed from these. */
export const BILLING_SERVICES = {
  storefront: StorefrontServiceService,
  catalog: CatalogServiceService,
  customer: CustomerServiceService,
  subscription: SubscriptionServiceService,
  payment: PaymentServiceService,
  entitlement: EntitlementServiceService,
  event: EventServiceService,
} as const;

/** The path (`billing.v1.CustomerService/CreateCustomer`) of every billing.v1 RPC. */
export function allRpcPaths(): string[] {
  return Object.values(BILLING_SERVICES).flatMap((definition) =>
    Object.values(definition as grpc.ServiceDefinition).map((method) => method.path.slice(1)),
  );
}
