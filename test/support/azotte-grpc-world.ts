import * as grpc from '@grpc/grpc-js';
import { randomBytes } from 'node:crypto';
import { type AzotteEmulator, startAzotteEmulator } from '../../adapters/azotte/emulator';
import { tenantEnvPrefix } from '../../src/domain/secret-reference';
import { IntervalUnit } from '../../src/gen/billing/v1/common';
import { EntitlementServiceClient } from '../../src/gen/billing/v1/entitlement';
import { CreateCheckoutSessionRequest, Subscription, SubscriptionStatus } from '../../src/gen/billing/v1/subscription';
import { emulatorControl } from './emulator-control';
import { eventually } from './eventually';
import { storefrontRequest, subscriptionCheckout } from './fixtures';
import { call, TestService } from './test-service';

/*
 * One Azotte storefront of a running service, on an emulator of its own (port of its own, clock of its own) whose
 * tenant sends its webhooks to that service's ingress: a monthly plan sold by reference to a bundle granting
 * `basic` and `extra`, and one customer with the emulator's test cards. Everything a test does goes over gRPC; the
 * emulator's controls (`/__emulator/…`) stand in for Azotte's own side (its clock, its records).
 */

const AZOTTE_STOREFRONT = 'st.00.001';
const BUNDLE = 'bn.grpc.basic';

export interface AzotteGrpcWorld {
  emulator: AzotteEmulator;
  storefrontId: string;
  planId: string;
  customerId: string;
  entitlements: EntitlementServiceClient;
  /** A subscription-mode checkout of the world's plan, charging the stored test card `pm.test.visa`. */
  checkoutRequest(overrides?: Partial<CreateCheckoutSessionRequest>): CreateCheckoutSessionRequest;
  /** Checkout with the test card, waited for until ACTIVE (Azotte's webhooks delivered to the service). */
  activeSubscription(): Promise<Subscription>;
  subscription(id: string): Promise<Subscription>;
  /** `/__emulator/…` control of this world's emulator. */
  control<T = Record<string, unknown>>(path: string, body?: unknown): Promise<T>;
  close(): Promise<void>;
}

export async function azotteGrpcWorld(
  service: TestService,
  options: { storefrontId?: string; tenantId?: string } = {},
): Promise<AzotteGrpcWorld> {
  const storefrontId = options.storefrontId ?? 'azotte-store';
  const tenantId = options.tenantId ?? 'tenant-a';
  const apiKey = `key_${randomBytes(8).toString('hex')}`;
  const webhookSecret = `whsec_${randomBytes(12).toString('hex')}`;
  const azotteTenant = `tn-${randomBytes(3).toString('hex')}`;
  const emulator = await startAzotteEmulator({
    processingDelaySeconds: 0,
    tenants: [
      {
        tenant: azotteTenant,
        apiKey,
        webhookUrl: `http://127.0.0.1:${service.httpPort}/webhooks/azotte/${storefrontId}`,
        webhookSecrets: [webhookSecret],
        testCards: true,
      },
    ],
    catalog: {
      storefronts: [{ storefrontUrn: AZOTTE_STOREFRONT, currency: 'EUR' }],
      bundles: [
        {
          storefrontUrn: AZOTTE_STOREFRONT,
          bundleUrn: BUNDLE,
          sku: 'GRPC-BASIC-M',
          name: 'Basic monthly',
          amountMilpieces: 999n,
          currency: 'EUR',
          period: { unit: 'Month', count: 1 },
          trialDays: 0,
          entitlements: ['basic', 'extra'],
        },
      ],
    },
  });
  // The binding's secrets live in this process's env under the tenant's own prefix, as an operator sets them.
  const scope = storefrontId.toUpperCase().replace(/[^A-Z0-9]/g, '_');
  const variable = (name: string) => `${tenantEnvPrefix(tenantId)}AZOTTE_${scope}_${name}`;
  process.env[variable('API_KEY')] = apiKey;
  process.env[variable('WEBHOOK_SECRET')] = webhookSecret;
  const { storefronts, catalog, customers, subscriptions } = service.clients;
  await call(
    storefronts,
    storefronts.createStorefront,
    storefrontRequest(storefrontId, {
      tenantId,
      provider: 'azotte',
      providerConfig: {
        base_url: emulator.url,
        tenant: azotteTenant,
        storefront_urn: AZOTTE_STOREFRONT,
        claimed_country: 'DE',
        claimed_language: 'de',
      },
      secretRefs: { api_key: `env:${variable('API_KEY')}`, webhook_secret: `env:${variable('WEBHOOK_SECRET')}` },
    }),
  );
  const { plan } = await call(catalog, catalog.createPlan, {
    storefrontId,
    name: 'Basic monthly',
    price: { currencyCode: 'EUR', amountMinor: 0n, amountDecimal: '9.99' },
    interval: { unit: IntervalUnit.INTERVAL_UNIT_MONTH, count: 1 },
    trialDays: 0,
    featureKeys: ['basic', 'extra'],
    providerRefs: { azotte: BUNDLE },
  });
  const { customer } = await call(customers, customers.createCustomer, {
    storefrontId,
    externalRef: '',
    email: `ada-${randomBytes(3).toString('hex')}@example.com`,
    name: 'Ada Lovelace',
    phone: '',
    country: 'DE',
    address: undefined,
  });
  const entitlements = new EntitlementServiceClient(`127.0.0.1:${service.grpcPort}`, grpc.credentials.createInsecure());
  const subscription = async (id: string) =>
    (await call(subscriptions, subscriptions.getSubscription, { subscriptionId: id })).subscription!;
  const world: AzotteGrpcWorld = {
    emulator,
    storefrontId,
    planId: plan!.id,
    customerId: customer!.id,
    entitlements,
    checkoutRequest: (overrides = {}) => ({
      ...subscriptionCheckout(storefrontId, customer!.id, plan!.id),
      paymentMethodRef: 'pm.test.visa',
      ...overrides,
    }),
    async activeSubscription() {
      const answer = await call(subscriptions, subscriptions.createCheckoutSession, world.checkoutRequest());
      const id = answer.subscription!.id;
      return eventually(
        () => subscription(id),
        (s) => s.status === SubscriptionStatus.SUBSCRIPTION_STATUS_ACTIVE,
      );
    },
    subscription,
    control: (path, body) => emulatorControl(emulator.url, path, body),
    async close() {
      entitlements.close();
      await emulator.stop();
    },
  };
  return world;
}
