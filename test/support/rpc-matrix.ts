import * as grpc from '@grpc/grpc-js';
import { BILLING_SERVICES } from '../../src/auth/billing-services';
import { BillingInterval, IntervalUnit } from '../../src/gen/billing/v1/common';
import { CheckoutMode } from '../../src/gen/billing/v1/subscription';
import { sampleAzotteBinding, storefrontRequest } from './fixtures';

/** Tenant A's objects that the matrix names in its requests. */
export interface TenantObjects {
  storefrontId: string;
  planId: string;
  customerId: string;
  subscriptionId: string;
  paymentId: string;
  refundId: string;
  invoiceId: string;
  deadLetterId: string;
  checkoutSessionId: string;
}

/**
 * What another tenant's caller gets: NOT_FOUND (the object is not theirs), PERMISSION_DENIED (role or tenant
 * rule), or EMPTY (a list answers, with nothing of tenant A in it).
 */
export type Refusal = 'NOT_FOUND' | 'PERMISSION_DENIED' | 'EMPTY';

export interface MatrixEntry {
  /** The least role the RPC needs, stated here independently of src/auth/rpc-roles.ts. */
  role: 'service' | 'platform';
  /** A request naming tenant A's objects. */
  request(a: TenantObjects): Record<string, unknown>;
  /** Tenant B's platform key on that request (its service key gets PERMISSION_DENIED when `role` is platform). */
  otherTenant: Refusal;
}

const money = (amountMinor: bigint) => ({ currencyCode: 'EUR', amountMinor, amountDecimal: '' });
const page = { pageSize: 50, pageToken: '' };
const month: BillingInterval = { unit: IntervalUnit.INTERVAL_UNIT_MONTH, count: 1 };
const eventFilter = (storefrontId: string) => ({ storefrontId, aggregateId: '', types: [] as string[] });

/** One entry per RPC of every billing.v1 service, keyed by path; the matrix test fails when an RPC has none. */
export const RPC_MATRIX: Record<string, MatrixEntry> = {
  'billing.v1.StorefrontService/CreateStorefront': {
    role: 'platform',
    request: () => storefrontRequest('store-a-two', { tenantId: 'tenant-a' }) as never,
    otherTenant: 'PERMISSION_DENIED',
  },
  'billing.v1.StorefrontService/GetStorefront': {
    role: 'service',
    request: (a) => ({ storefrontId: a.storefrontId }),
    otherTenant: 'NOT_FOUND',
  },
  'billing.v1.StorefrontService/ListStorefronts': {
    role: 'service',
    request: () => ({ tenantId: 'tenant-a', ...page }),
    otherTenant: 'EMPTY',
  },
  'billing.v1.StorefrontService/UpdateStorefront': {
    role: 'platform',
    request: (a) => ({ storefrontId: a.storefrontId, name: 'Taken over' }),
    otherTenant: 'NOT_FOUND',
  },
  'billing.v1.StorefrontService/SwitchProvider': {
    role: 'platform',
    // A binding Azotte would accept, so only whose storefront it is decides the answer.
    request: (a) => ({
      storefrontId: a.storefrontId,
      ...sampleAzotteBinding(),
      reason: 'take over',
    }),
    otherTenant: 'NOT_FOUND',
  },
  'billing.v1.StorefrontService/ListProviderBindings': {
    role: 'platform',
    request: (a) => ({ storefrontId: a.storefrontId }),
    otherTenant: 'NOT_FOUND',
  },
  'billing.v1.CatalogService/CreatePlan': {
    role: 'platform',
    request: (a) => ({ storefrontId: a.storefrontId, name: 'Free', price: money(0n), interval: month }),
    otherTenant: 'NOT_FOUND',
  },
  'billing.v1.CatalogService/GetPlan': {
    role: 'service',
    request: (a) => ({ planId: a.planId }),
    otherTenant: 'NOT_FOUND',
  },
  'billing.v1.CatalogService/ListPlans': {
    role: 'service',
    request: (a) => ({ storefrontId: a.storefrontId, ...page }),
    otherTenant: 'EMPTY',
  },
  'billing.v1.CatalogService/ArchivePlan': {
    role: 'platform',
    request: (a) => ({ planId: a.planId }),
    otherTenant: 'NOT_FOUND',
  },
  'billing.v1.CatalogService/SetPlanProviderReference': {
    role: 'platform',
    request: (a) => ({ planId: a.planId, provider: 'azotte', reference: 'az_plan_1' }),
    otherTenant: 'NOT_FOUND',
  },
  'billing.v1.CustomerService/CreateCustomer': {
    role: 'service',
    request: (a) => ({ storefrontId: a.storefrontId, email: 'intruder@example.com', name: 'Eve', country: 'DE' }),
    otherTenant: 'NOT_FOUND',
  },
  'billing.v1.CustomerService/GetCustomer': {
    role: 'service',
    request: (a) => ({ customerId: a.customerId }),
    otherTenant: 'NOT_FOUND',
  },
  'billing.v1.CustomerService/UpdateCustomer': {
    role: 'service',
    request: (a) => ({ customerId: a.customerId, name: 'Eve' }),
    otherTenant: 'NOT_FOUND',
  },
  'billing.v1.CustomerService/ListCustomers': {
    role: 'service',
    request: (a) => ({ storefrontId: a.storefrontId, ...page }),
    otherTenant: 'EMPTY',
  },
  'billing.v1.SubscriptionService/CreateCheckoutSession': {
    role: 'service',
    request: (a) => ({
      storefrontId: a.storefrontId,
      customerId: a.customerId,
      mode: CheckoutMode.CHECKOUT_MODE_SUBSCRIPTION,
      planId: a.planId,
      quantity: 1,
    }),
    otherTenant: 'NOT_FOUND',
  },
  'billing.v1.SubscriptionService/GetSubscription': {
    role: 'service',
    request: (a) => ({ subscriptionId: a.subscriptionId }),
    otherTenant: 'NOT_FOUND',
  },
  'billing.v1.SubscriptionService/ListSubscriptions': {
    role: 'service',
    request: (a) => ({ storefrontId: a.storefrontId, ...page }),
    otherTenant: 'EMPTY',
  },
  'billing.v1.SubscriptionService/ChangePlan': {
    role: 'service',
    request: (a) => ({ subscriptionId: a.subscriptionId, planId: a.planId }),
    otherTenant: 'NOT_FOUND',
  },
  'billing.v1.SubscriptionService/UpdateQuantity': {
    role: 'service',
    request: (a) => ({ subscriptionId: a.subscriptionId, quantity: 3 }),
    otherTenant: 'NOT_FOUND',
  },
  'billing.v1.SubscriptionService/PauseSubscription': {
    role: 'service',
    request: (a) => ({ subscriptionId: a.subscriptionId }),
    otherTenant: 'NOT_FOUND',
  },
  'billing.v1.SubscriptionService/ResumeSubscription': {
    role: 'service',
    request: (a) => ({ subscriptionId: a.subscriptionId }),
    otherTenant: 'NOT_FOUND',
  },
  'billing.v1.SubscriptionService/CancelSubscription': {
    role: 'service',
    request: (a) => ({ subscriptionId: a.subscriptionId, atPeriodEnd: true, reason: 'take over' }),
    otherTenant: 'NOT_FOUND',
  },
  'billing.v1.SubscriptionService/RevokeCancellation': {
    role: 'service',
    request: (a) => ({ subscriptionId: a.subscriptionId }),
    otherTenant: 'NOT_FOUND',
  },
  'billing.v1.SubscriptionService/RecordUsage': {
    role: 'service',
    request: (a) => ({ subscriptionId: a.subscriptionId, quantity: 5n }),
    otherTenant: 'NOT_FOUND',
  },
  'billing.v1.SubscriptionService/GetUsage': {
    role: 'service',
    request: (a) => ({ subscriptionId: a.subscriptionId }),
    otherTenant: 'NOT_FOUND',
  },
  'billing.v1.SubscriptionService/CreatePortalSession': {
    role: 'service',
    request: (a) => ({ customerId: a.customerId }),
    otherTenant: 'NOT_FOUND',
  },
  'billing.v1.SubscriptionService/GetCheckoutSession': {
    role: 'service',
    request: (a) => ({ checkoutSessionId: a.checkoutSessionId }),
    otherTenant: 'NOT_FOUND',
  },
  'billing.v1.PaymentService/GetPayment': {
    role: 'service',
    request: (a) => ({ paymentId: a.paymentId }),
    otherTenant: 'NOT_FOUND',
  },
  'billing.v1.PaymentService/ListPayments': {
    role: 'service',
    request: (a) => ({ subscriptionId: a.subscriptionId, ...page }),
    otherTenant: 'EMPTY',
  },
  'billing.v1.PaymentService/CreateRefund': {
    role: 'service',
    request: (a) => ({ paymentId: a.paymentId, amount: money(100n), reason: 'take over' }),
    otherTenant: 'NOT_FOUND',
  },
  'billing.v1.PaymentService/GetRefund': {
    role: 'service',
    request: (a) => ({ refundId: a.refundId }),
    otherTenant: 'NOT_FOUND',
  },
  'billing.v1.PaymentService/ListRefunds': {
    role: 'service',
    request: (a) => ({ paymentId: a.paymentId, ...page }),
    otherTenant: 'NOT_FOUND',
  },
  'billing.v1.PaymentService/GetInvoice': {
    role: 'service',
    request: (a) => ({ invoiceId: a.invoiceId }),
    otherTenant: 'NOT_FOUND',
  },
  'billing.v1.PaymentService/ListInvoices': {
    role: 'service',
    request: (a) => ({ customerId: a.customerId, ...page }),
    otherTenant: 'EMPTY',
  },
  'billing.v1.EntitlementService/CheckEntitlement': {
    role: 'service',
    request: (a) => ({ customerId: a.customerId, featureKey: 'pro' }),
    otherTenant: 'NOT_FOUND',
  },
  'billing.v1.EntitlementService/ListEntitlements': {
    role: 'service',
    request: (a) => ({ customerId: a.customerId }),
    otherTenant: 'NOT_FOUND',
  },
  'billing.v1.EventService/ListEvents': {
    role: 'service',
    request: (a) => ({ ...eventFilter(a.storefrontId), ...page }),
    otherTenant: 'EMPTY',
  },
  'billing.v1.EventService/ReplayEvents': {
    role: 'platform',
    request: (a) => eventFilter(a.storefrontId),
    otherTenant: 'EMPTY',
  },
  'billing.v1.EventService/ListDeadLetters': {
    role: 'platform',
    request: (a) => ({ storefrontId: a.storefrontId, ...page }),
    otherTenant: 'EMPTY',
  },
  'billing.v1.EventService/RetryDeadLetter': {
    role: 'platform',
    request: (a) => ({ deadLetterId: a.deadLetterId }),
    otherTenant: 'NOT_FOUND',
  },
};

type Method = grpc.MethodDefinition<object, object>;

/** Every billing.v1 RPC: its path, its definition, and a generic client method to call it. */
export interface AnyRpc {
  path: string;
  method: Method;
  /** A complete request: the proto defaults with `fields` over them. */
  request(fields: Record<string, unknown>): object;
  call(request: object, metadata: Record<string, string>): Promise<{ error?: grpc.ServiceError; response?: object }>;
}

/** Generic clients for every RPC of every generated service definition (so a new RPC shows up by itself). */
export function everyRpc(address: string): { rpcs: AnyRpc[]; close(): void } {
  const clients: grpc.Client[] = [];
  const rpcs: AnyRpc[] = [];
  for (const definition of Object.values(BILLING_SERVICES)) {
    const Client = grpc.makeGenericClientConstructor(definition as grpc.ServiceDefinition, 'billing');
    const client = new Client(address, grpc.credentials.createInsecure()) as unknown as Record<
      string,
      (...args: unknown[]) => void
    > &
      grpc.Client;
    clients.push(client);
    for (const [name, method] of Object.entries(definition as Record<string, Method>)) {
      rpcs.push({
        path: method.path.slice(1),
        method,
        request: (fields) => ({ ...method.requestDeserialize(Buffer.alloc(0)), ...fields }),
        call: (request, metadata) =>
          new Promise((resolve) => {
            const md = new grpc.Metadata();
            for (const [k, v] of Object.entries(metadata)) if (v !== '') md.set(k, v);
            client[name]!(
              request,
              md,
              { deadline: Date.now() + 30_000 },
              (error: grpc.ServiceError | null, r: object) => resolve(error ? { error } : { response: r }),
            );
          }),
      });
    }
  }
  return { rpcs, close: () => clients.forEach((c) => c.close()) };
}
