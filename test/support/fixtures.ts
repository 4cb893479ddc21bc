import type { CatalogServiceClient } from '../../src/gen/billing/v1/catalog';
import { tenantEnvPrefix } from '../../src/domain/secret-reference';
import { IntervalUnit } from '../../src/gen/billing/v1/common';
import type { CreateStorefrontRequest, StorefrontServiceClient } from '../../src/gen/billing/v1/storefront';
import { CheckoutMode, CreateCheckoutSessionRequest } from '../../src/gen/billing/v1/subscription';
import { call } from './test-service';

/** A valid CreateStorefront request, as a platform team would send it; `overrides` make it what a test needs. */
export function storefrontRequest(
  id: string,
  overrides: Partial<CreateStorefrontRequest> = {},
): CreateStorefrontRequest {
  const tenantId = overrides.tenantId ?? 'tenant-a';
  return {
    storefrontId: id,
    tenantId,
    name: `Store ${id}`,
    country: 'DE',
    defaultCurrency: 'EUR',
    provider: 'subotiz',
    providerConfig: {},
    // A binding may name only its own tenant's secrets (BILLING_SECRET_<TENANT>_…).
    secretRefs: { webhook_secret: `env:${tenantEnvPrefix(tenantId)}WEBHOOK_SECRET` },
    ...overrides,
  };
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
