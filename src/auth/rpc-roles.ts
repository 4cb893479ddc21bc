import type * as grpc from '@grpc/grpc-js';
import type { Role } from '../app/call-context';
import { BILLING_SERVICES } from './billing-services';

type RoleTable<S> = { [Rpc in keyof S]: Role };

/**
 * The least role each RPC needs, one entry per RPC of every service: the compiler refuses a service whose new RPC
 * is missing here. `service` runs its tenant's billing and may read storefronts and plans (a checkout needs plan
 * ids); `platform` also configures storefronts, plans and providers and operates the event log; `admin` is
 * `platform` over every tenant (tenant scope, not this table, makes the difference).
 */
const MINIMUM_ROLE: { [Name in keyof typeof BILLING_SERVICES]: RoleTable<(typeof BILLING_SERVICES)[Name]> } = {
  storefront: {
    createStorefront: 'platform',
    getStorefront: 'service',
    listStorefronts: 'service',
    updateStorefront: 'platform',
    switchProvider: 'platform',
    listProviderBindings: 'platform',
  },
  catalog: {
    createPlan: 'platform',
    getPlan: 'service',
    listPlans: 'service',
    archivePlan: 'platform',
    setPlanProviderReference: 'platform',
  },
  customer: {
    createCustomer: 'service',
    getCustomer: 'service',
    updateCustomer: 'service',
    listCustomers: 'service',
  },
  subscription: {
    createCheckoutSession: 'service',
    getSubscription: 'service',
    listSubscriptions: 'service',
    changePlan: 'service',
    updateQuantity: 'service',
    pauseSubscription: 'service',
    resumeSubscription: 'service',
    cancelSubscription: 'service',
    revokeCancellation: 'service',
    recordUsage: 'service',
    getUsage: 'service',
    createPortalSession: 'service',
    getCheckoutSession: 'service',
  },
  payment: {
    getPayment: 'service',
    listPayments: 'service',
    createRefund: 'service',
    getRefund: 'service',
    listRefunds: 'service',
    getInvoice: 'service',
    listInvoices: 'service',
  },
  entitlement: {
    checkEntitlement: 'service',
    listEntitlements: 'service',
  },
  event: {
    listEvents: 'service',
    replayEvents: 'platform',
    listDeadLetters: 'platform',
    retryDeadLetter: 'platform',
  },
};

/** Least role by RPC path (`billing.v1.CustomerService/CreateCustomer`). */
export const MINIMUM_ROLE_BY_PATH: ReadonlyMap<string, Role> = new Map(
  (Object.keys(BILLING_SERVICES) as (keyof typeof BILLING_SERVICES)[]).flatMap((name) =>
    Object.entries(BILLING_SERVICES[name] as grpc.ServiceDefinition).map(([rpc, method]): [string, Role] => [
      method.path.slice(1),
      (MINIMUM_ROLE[name] as Record<string, Role>)[rpc]!,
    ]),
  ),
);

/** The least role `path` needs; an RPC not in the table needs `admin` (closed by default). */
export function minimumRoleOf(path: string): Role {
  return MINIMUM_ROLE_BY_PATH.get(path) ?? 'admin';
}
