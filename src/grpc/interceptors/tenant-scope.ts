import { permissionDenied } from '../../auth/auth-errors';
import { tenantScopeOf } from '../../app/tenant-scope';
import { invalidArgument, notFound } from '../../domain/errors';
import type { ScopedKind, TenantDirectory } from '../../ports/tenant-directory.port';
import type { Interceptor, RpcCall, RpcResult } from './interceptor';

/** Request fields that name an object, with the kind and field name a missing object's NOT_FOUND uses. */
const ID_FIELDS: Record<string, { kind: ScopedKind; field: string }> = {
  storefrontId: { kind: 'storefront', field: 'storefront_id' },
  planId: { kind: 'plan', field: 'plan_id' },
  customerId: { kind: 'customer', field: 'customer_id' },
  subscriptionId: { kind: 'subscription', field: 'subscription_id' },
  paymentId: { kind: 'payment', field: 'payment_id' },
  refundId: { kind: 'refund', field: 'refund_id' },
  invoiceId: { kind: 'invoice', field: 'invoice_id' },
  deadLetterId: { kind: 'dead letter', field: 'dead_letter_id' },
  checkoutSessionId: { kind: 'checkout session', field: 'checkout_session_id' },
};

/** Fields that name a new object rather than an existing one. */
const NEW_IDS: Record<string, string> = { 'billing.v1.StorefrontService/CreateStorefront': 'storefrontId' };
/**
 * RPCs whose ids are filters: a missing object there answers an empty result, not NOT_FOUND, so another tenant's
 * object must answer the same empty result (the proto default response).
 */
const FILTERS = new Set([
  'billing.v1.CatalogService/ListPlans',
  'billing.v1.CustomerService/ListCustomers',
  'billing.v1.SubscriptionService/ListSubscriptions',
  'billing.v1.PaymentService/ListPayments',
  'billing.v1.PaymentService/ListInvoices',
  'billing.v1.EventService/ListEvents',
  'billing.v1.EventService/ReplayEvents',
  'billing.v1.EventService/ListDeadLetters',
]);
/** Ids no valid object has; left to the handler and input limits. */
const PLAUSIBLE_ID = /^[\x21-\x7e]{1,128}$/;

/** What a tenant-scoped caller's tenant means for calls that carry a tenant or list across storefronts. */
const TENANT_RULES: Record<string, (call: RpcCall, tenant: string) => RpcResult | undefined> = {
  // Only admin names another tenant (an empty tenant_id was already made the caller's).
  'billing.v1.StorefrontService/CreateStorefront': (call, tenant) => {
    if ((call.request as { tenantId: string }).tenantId !== tenant) {
      throw permissionDenied('tenant_id: a caller may create storefronts only in its own tenant');
    }
    return undefined;
  },
  // Listing is confined to the caller's tenant; asking for another tenant's storefronts answers an empty list.
  'billing.v1.StorefrontService/ListStorefronts': (call, tenant) => {
    const request = call.request as { tenantId: string };
    if (request.tenantId && request.tenantId !== tenant) return { response: call.decodeResponse(new Uint8Array()) };
    request.tenantId = tenant;
    return undefined;
  },
  'billing.v1.EventService/ListDeadLetters': (call) => {
    if (!(call.request as { storefrontId: string }).storefrontId) {
      throw invalidArgument([{ field: 'storefront_id', rule: 'is required unless the caller is an admin' }]);
    }
    return undefined;
  },
};

/**
 * A caller sees only its tenant: every object a request names must belong to it, and another tenant's object
 * answers exactly what a missing one does (existence is not revealed): NOT_FOUND, or an empty result where the id
 * is a list filter. Admin callers pass. Events are also scoped in their use case (`tenantScopeOf`), since an
 * aggregate id alone does not say whose it is.
 */
export function tenantScope(directory: TenantDirectory): Interceptor {
  return (call, next) => {
    const created = NEW_IDS[call.path];
    // A storefront is created in the caller's tenant unless the request names one (admin included).
    const creating = call.request as { tenantId: string };
    if (created && call.ctx.caller && !creating.tenantId) creating.tenantId = call.ctx.caller.tenant;
    const tenant = tenantScopeOf(call.ctx);
    // Admin callers go on with no async layer of this interceptor's (see checkOnly).
    return tenant === undefined ? next() : scoped(directory, call, tenant, created, next);
  };
}

/** A tenant-scoped caller's call: every object it names must be its tenant's (see tenantScope). */
async function scoped(
  directory: TenantDirectory,
  call: RpcCall,
  tenant: string,
  created: string | undefined,
  next: () => Promise<RpcResult>,
): Promise<RpcResult> {
  const request = call.request as Record<string, unknown>;
  for (const [name, value] of Object.entries(request)) {
    const named = ID_FIELDS[name];
    if (!named || name === created || typeof value !== 'string' || !PLAUSIBLE_ID.test(value)) continue;
    const owner = await directory.tenantOf(named.kind, value);
    if (owner === undefined || owner === tenant) continue;
    if (FILTERS.has(call.path)) return { response: call.decodeResponse(new Uint8Array()) };
    throw notFound(named.kind, value, named.field);
  }
  const early = TENANT_RULES[call.path]?.(call, tenant);
  return early ?? next();
}
