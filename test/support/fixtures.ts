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

/** A Paytiko binding's API user, as references to the tenant's own secrets. */
export function paytikoSecretRefs(tenantId: string): Record<string, string> {
  return {
    username: `env:${tenantEnvPrefix(tenantId)}PAYTIKO_USERNAME`,
    password: `env:${tenantEnvPrefix(tenantId)}PAYTIKO_PASSWORD`,
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
