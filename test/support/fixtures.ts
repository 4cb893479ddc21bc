import type { Customer } from '../../src/domain/customer';
import type { Plan } from '../../src/domain/plan';
import type { Storefront } from '../../src/domain/storefront';
import type { Subscription } from '../../src/domain/subscription';
import type { EventDraft } from '../../src/domain/event';
import type { CatalogServiceClient } from '../../src/gen/billing/v1/catalog';
import { tenantEnvPrefix } from '../../src/domain/secret-reference';
import { IntervalUnit } from '../../src/gen/billing/v1/common';
import type { CreateStorefrontRequest, StorefrontServiceClient } from '../../src/gen/billing/v1/storefront';
import { CheckoutMode, CreateCheckoutSessionRequest } from '../../src/gen/billing/v1/subscription';
import { call } from './test-service';
import type { CreateCustomerRequest } from '../../src/gen/billing/v1/customer';

/** A valid CreateStorefront request, as a platform team would send it; `overrides` make it what a test needs. */
export function storefrontRequest(
  id: string,
  overrides: Partial<CreateStorefrontRequest> = {},
): CreateStorefrontRequest {
  const tenantId = overrides.tenantId ?? 'tenant-a';
  const provider = overrides.provider ?? 'subotiz';
  // A binding may name only its own tenant's secrets (BILLING_SECRET_<TENANT>_…).
  const webhookSecret = `env:${tenantEnvPrefix(tenantId)}WEBHOOK_SECRET`;
  // A Subotiz binding requires its merchant id and access number (every Checkout Session names them), and a
  // checkout that names no URLs needs the binding's return/cancel pages: overrides are laid over these.
  const subotiz = provider === 'subotiz';
  const paytiko = provider === 'paytiko';
  const defaults = subotiz ? SUBOTIZ_CONFIG : paytiko ? PAYTIKO_CONFIG : {};
  const credentials = subotiz
    ? { access_no: `env:${tenantEnvPrefix(tenantId)}SUBOTIZ_ACCESS_NO` }
    : paytiko
      ? paytikoSecretRefs(tenantId)
      : undefined;
  return {
    storefrontId: id,
    tenantId,
    name: `Store ${id}`,
    country: 'DE',
    defaultCurrency: 'EUR',
    ...overrides,
    provider,
    providerConfig: { ...defaults, ...overrides.providerConfig },
    secretRefs: credentials
      ? { webhook_secret: webhookSecret, ...credentials, ...overrides.secretRefs }
      : (overrides.secretRefs ?? { webhook_secret: webhookSecret }),
  };
}

/** What a valid Subotiz binding holds beyond its URL and credentials. */
const SUBOTIZ_CONFIG = {
  sub_merchant_id: 'm-1',
  return_url: 'https://shop.example/thanks',
  cancel_url: 'https://shop.example/cart',
};

/** What a valid Paytiko binding holds beyond its URL: the merchant's processor key (a UUID). */
export const PAYTIKO_CONFIG = { processor_key: '3f2a1c9e-8b7d-4e6f-9a1b-2c3d4e5f6a7b' };

/** What a valid Azotte binding holds beyond a base URL: its project (sandbox), tenant (x-tn) and storefront URN. */
export const AZOTTE_CONFIG = {
  project: 'acme',
  environment: 'sandbox',
  tenant: 'tn-acme',
  storefront_urn: 'st.00.001',
};

/** A SwitchProvider to Azotte that its binding rules accept, naming the tenant's own api key reference. */
export function sampleAzotteBinding(tenantId = 'tenant-a') {
  return {
    provider: 'azotte',
    providerConfig: AZOTTE_CONFIG,
    secretRefs: { api_key: `env:${tenantEnvPrefix(tenantId)}AZOTTE_API_KEY` },
  };
}

/** A Paytiko binding's API user, as references to the tenant's own secrets. */
export function paytikoSecretRefs(tenantId: string): Record<string, string> {
  return {
    username: `env:${tenantEnvPrefix(tenantId)}PAYTIKO_USERNAME`,
    password: `env:${tenantEnvPrefix(tenantId)}PAYTIKO_PASSWORD`,
  };
}

/**
 * Sets a binding's `secrets` in this process's environment as an operator would, under the tenant's own prefix
 * (`BILLING_SECRET_<TENANT>_…`), the provider's name and the storefront's, so that two storefronts' secrets never mix;
 * the binding's secret references to them.
 */
export function envSecretRefs(
  provider: string,
  scope: { tenantId?: string; storefrontId: string },
  secrets: Record<string, string>,
): Record<string, string> {
  const storefront = scope.storefrontId.toUpperCase().replace(/[^A-Z0-9]/g, '_');
  const prefix = `${tenantEnvPrefix(scope.tenantId ?? 'tenant-a')}${provider.toUpperCase()}_${storefront}_`;
  const secretRefs: Record<string, string> = {};
  for (const [name, value] of Object.entries(secrets)) {
    const variable = `${prefix}${name.toUpperCase()}`;
    process.env[variable] = value;
    secretRefs[name] = `env:${variable}`;
  }
  return secretRefs;
}

/** A storefront bound to `provider`. */
export async function createStorefront(client: StorefrontServiceClient, id: string, provider = 'subotiz') {
  const response = await call(client, client.createStorefront, storefrontRequest(id, { provider }));
  return response.storefront!;
}

export async function createPlan(
  client: CatalogServiceClient,
  storefrontId: string,
  refs: Record<string, string> = {},
) {
  const response = await call(client, client.createPlan, {
    storefrontId,
    name: 'Pro monthly',
    price: { currencyCode: 'EUR', amountMinor: 0n, amountDecimal: '19.99' },
    interval: { unit: IntervalUnit.INTERVAL_UNIT_MONTH, count: 1 },
    trialDays: 7,
    featureKeys: ['pro'],
    providerRefs: refs,
  });
  return response.plan!;
}

/** A subscription checkout of one unit of `planId` for `customerId`, with no URLs or description. */
export function subscriptionCheckout(
  storefrontId: string,
  customerId: string,
  planId: string,
): CreateCheckoutSessionRequest {
  return {
    storefrontId,
    customerId,
    mode: CheckoutMode.CHECKOUT_MODE_SUBSCRIPTION,
    planId,
    quantity: 1,
    amount: undefined,
    description: '',
    successUrl: '',
    cancelUrl: '',
    paymentMethodRef: '',
    uiMode: 0,
    promotionCode: '',
  };
}

/** A customer of `storefrontId` whose external ref, email and name all come from `ref`. */
export function customerRequest(storefrontId: string, ref: string): CreateCustomerRequest {
  return {
    storefrontId,
    externalRef: ref,
    email: `${ref}@example.com`,
    name: ref,
    phone: '',
    country: 'DE',
    address: undefined,
  };
}

/** A customer event as a use case drafts it, for tests that write the outbox directly (key = the customer id). */
export function customerEventDraft(
  key: string,
  name: string,
  type: 'billing.customer.created' | 'billing.customer.updated' = 'billing.customer.created',
): EventDraft {
  const customer = customerRecord(key, 'sf', new Date(), { externalRef: '', name });
  return {
    type,
    key,
    aggregateId: key,
    storefrontId: 'sf',
    tenantId: 'tenant-a',
    provider: '',
    data: { kind: 'customer', customer },
  };
}

/** A plan as the repositories store it: monthly, 10.00 EUR, active, no features; `overrides` for what a test needs. */
export function planRecord(id: string, storefrontId: string, createdAt: Date, overrides: Partial<Plan> = {}): Plan {
  return {
    id,
    storefrontId,
    name: 'Plan',
    price: { currency: 'EUR', amountMinor: 1000n },
    interval: { unit: 'MONTH', count: 1 },
    trialDays: 0,
    featureKeys: [],
    providerRefs: {},
    status: 'ACTIVE',
    createdAt,
    ...overrides,
  };
}

/** A customer as the repositories store it, in DE, version 1; `overrides` for what a test needs. */
export function customerRecord(
  id: string,
  storefrontId: string,
  at: Date,
  overrides: Partial<Customer> = {},
): Customer {
  return {
    id,
    storefrontId,
    externalRef: `user-${id}`,
    email: `${id}@example.com`,
    name: id,
    phone: '',
    country: 'DE',
    providerRefs: {},
    version: 1,
    createdAt: at,
    updatedAt: at,
    ...overrides,
  };
}

/** A storefront as the repositories store it: tenant-a, DE/EUR, bound to `provider` since `at`, version 1. */
export function storefrontRecord(id: string, provider: string, at: Date): Storefront {
  return {
    id,
    tenantId: 'tenant-a',
    name: id,
    country: 'DE',
    defaultCurrency: 'EUR',
    binding: { provider, config: {}, secretRefs: {}, validFrom: at, actor: 'test', reason: 'test' },
    version: 1,
    createdAt: at,
    updatedAt: at,
  };
}

/**
 * An ACTIVE subscription of one seat at the storefront's provider, as the repositories store it, for the storefront's
 * customer `cus_<storefront id>` on its plan `plan_<storefront id>`; `overrides` for what a test needs.
 */
export function subscriptionRecord(
  id: string,
  storefront: Storefront,
  at: Date,
  overrides: Partial<Subscription> = {},
): Subscription {
  return {
    id,
    storefrontId: storefront.id,
    customerId: `cus_${storefront.id}`,
    planId: `plan_${storefront.id}`,
    quantity: 1,
    provider: storefront.binding.provider,
    status: 'ACTIVE',
    cancelAtPeriodEnd: false,
    version: 1,
    createdAt: at,
    updatedAt: at,
    ...overrides,
  };
}
