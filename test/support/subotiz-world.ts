import { randomBytes } from 'node:crypto';
import { startSubotizEmulator, SubotizEmulator } from '../../adapters/subotiz/emulator';
import { tenantEnvPrefix } from '../../src/domain/secret-reference';
import { IntervalUnit } from '../../src/gen/billing/v1/common';
import { EntitlementServiceClient } from '../../src/gen/billing/v1/entitlement';
import { Payment, PaymentServiceClient } from '../../src/gen/billing/v1/payment';
import { CreateCheckoutSessionRequest, Subscription, SubscriptionStatus } from '../../src/gen/billing/v1/subscription';
import { emulatorControl } from './emulator-control';
import { eventually } from './eventually';
import { storefrontRequest, subscriptionCheckout } from './fixtures';
import { createTestDatabase, TestDatabase } from './test-database';
import { call, startTestService, TestService } from './test-service';

/** Secrets the storefront binding references; set in this process's environment like an operator would. */
const SECRETS = {
  apiKey: `sk_test_${randomBytes(8).toString('hex')}`,
  accessSecret: `as_${randomBytes(8).toString('hex')}`,
  webhookSecret: `whsec_${randomBytes(8).toString('hex')}`,
};
// The names tests use to read the values (sign a webhook, call the emulator directly).
process.env.TEST_SUBOTIZ_API_KEY = SECRETS.apiKey;
process.env.TEST_SUBOTIZ_ACCESS_NO = 'acc_test';
process.env.TEST_SUBOTIZ_ACCESS_SECRET = SECRETS.accessSecret;
process.env.TEST_SUBOTIZ_WEBHOOK_SECRET = SECRETS.webhookSecret;

/** The binding's default return and cancel pages (the world's checkouts name none). */
export const SUBOTIZ_RETURN_URL = 'https://shop.example/thanks';
export const SUBOTIZ_CANCEL_URL = 'https://shop.example/cart';

/** The tenant of the storefronts tests create (fixtures' storefrontRequest). */
export const TEST_TENANT = 'tenant-a';

/**
 * The Subotiz secret references of a storefront of `tenantId`, with the values set in this process's environment
 * under that tenant's own names (`BILLING_SECRET_<TENANT>_SUBOTIZ_*`), the only env vars its bindings may name.
 */
export function subotizSecretRefs(tenantId = TEST_TENANT): {
  api_key: string;
  access_no: string;
  access_secret: string;
  webhook_secret: string;
} {
  const prefix = tenantEnvPrefix(tenantId);
  const values = {
    api_key: SECRETS.apiKey,
    access_no: 'acc_test',
    access_secret: SECRETS.accessSecret,
    webhook_secret: SECRETS.webhookSecret,
  };
  const refs = {} as Record<keyof typeof values, string>;
  for (const [name, value] of Object.entries(values) as [keyof typeof values, string][]) {
    const variable = `${prefix}SUBOTIZ_${name.toUpperCase()}`;
    process.env[variable] = value;
    refs[name] = `env:${variable}`;
  }
  return refs;
}

/** Service settings that keep webhook retries short in tests. */
export const FAST_WEBHOOKS = {
  WEBHOOK_RETRY_BASE_MS: '50',
  WEBHOOK_POLL_INTERVAL_MS: '50',
  WEBHOOK_MAX_ATTEMPTS: '3',
};

/** A Subotiz emulator wired to a running service: one storefront, one plan (price), one customer. */
export interface SubotizWorld {
  emulator: SubotizEmulator;
  storefrontId: string;
  planId: string;
  customerId: string;
  payments: PaymentServiceClient;
  entitlements: EntitlementServiceClient;
  /** A subscription-mode CreateCheckoutSession request for the world's customer and plan. */
  checkoutRequest(): CreateCheckoutSessionRequest;
  /** Checkout, paid on the emulator, waited for until ACTIVE (or `status`); our id, Subotiz's, and the checkout's. */
  activeSubscription(status?: SubscriptionStatus): Promise<{ id: string; ref: string; checkoutSessionId: string }>;
  /** GetSubscription's subscription. */
  subscription(id: string): Promise<Subscription>;
  /** ListPayments of one subscription. */
  paymentsOf(subscriptionId: string): Promise<Payment[]>;
  /** Calls an `/__emulator/…` control and returns its JSON. */
  control<T = Record<string, unknown>>(path: string, body?: unknown, method?: string): Promise<T>;
  close(): Promise<void>;
}

export async function subotizWorld(
  service: TestService,
  options: {
    storefrontId?: string;
    trialDays?: number;
    authMode?: 'bearer' | 'hub_signature';
    /** The storefront's tenant (default TEST_TENANT). */
    tenantId?: string;
    /** Binding settings added to (or replacing) the world's. */
    providerConfig?: Record<string, string>;
    /** Options of the emulator's merchant (e.g. `renewals: 'merchant'`). */
    merchant?: { renewals?: 'provider' | 'merchant' };
  } = {},
): Promise<SubotizWorld> {
  const storefrontId = options.storefrontId ?? 'sub-store';
  const tenantId = options.tenantId ?? TEST_TENANT;
  const refs = subotizSecretRefs(tenantId);
  const priceId = `price_${randomBytes(4).toString('hex')}`;
  const emulator = await startSubotizEmulator({
    merchants: [
      {
        accessNo: 'acc_test',
        subMerchantId: 'm-1',
        apiKey: SECRETS.apiKey,
        accessSecret: SECRETS.accessSecret,
        webhookSecret: SECRETS.webhookSecret,
        webhookUrl: `http://127.0.0.1:${service.httpPort}/webhooks/subotiz/${storefrontId}`,
        ...options.merchant,
      },
    ],
    prices: [
      {
        priceId,
        amount: '19.99',
        currency: 'EUR',
        interval: 'month',
        intervalCount: 1,
        trialDays: options.trialDays ?? 0,
      },
    ],
    webhookRetryBaseMs: 100,
  });
  await call(
    service.clients.storefronts,
    service.clients.storefronts.createStorefront,
    storefrontRequest(storefrontId, {
      tenantId,
      provider: 'subotiz',
      providerConfig: {
        base_url: emulator.url,
        auth_mode: options.authMode ?? 'bearer',
        sub_merchant_id: 'm-1',
        // Checkouts that name no success/cancel URL use the binding's defaults (the adapter always sends both).
        return_url: SUBOTIZ_RETURN_URL,
        cancel_url: SUBOTIZ_CANCEL_URL,
        ...options.providerConfig,
      },
      secretRefs: {
        // A Hub-* storefront gets no API key, so a client falling back to Bearer fails instead of passing.
        ...(options.authMode === 'hub_signature' ? {} : { api_key: refs.api_key }),
        access_no: refs.access_no,
        access_secret: refs.access_secret,
        webhook_secret: refs.webhook_secret,
      },
    }),
  );
  const { plan } = await call(service.clients.catalog, service.clients.catalog.createPlan, {
    storefrontId,
    name: 'Pro monthly',
    price: { currencyCode: 'EUR', amountMinor: 1999n, amountDecimal: '' },
    interval: { unit: IntervalUnit.INTERVAL_UNIT_MONTH, count: 1 },
    trialDays: options.trialDays ?? 0,
    featureKeys: ['pro', 'export'],
    providerRefs: { subotiz: priceId },
  });
  const { customer } = await call(service.clients.customers, service.clients.customers.createCustomer, {
    storefrontId,
    externalRef: 'user-1',
    email: 'ada@example.com',
    name: 'Ada',
    phone: '',
    country: 'DE',
    address: undefined,
  });
  const address = `127.0.0.1:${service.grpcPort}`;
  const grpc = await import('@grpc/grpc-js');
  const payments = new PaymentServiceClient(address, grpc.credentials.createInsecure());
  const entitlements = new EntitlementServiceClient(address, grpc.credentials.createInsecure());
  const subs = service.clients.subscriptions;
  const checkoutRequest = (): CreateCheckoutSessionRequest =>
    subscriptionCheckout(storefrontId, customer!.id, plan!.id);
  const world: SubotizWorld = {
    emulator,
    storefrontId,
    planId: plan!.id,
    customerId: customer!.id,
    payments,
    entitlements,
    checkoutRequest,
    async subscription(id) {
      return (await call(subs, subs.getSubscription, { subscriptionId: id })).subscription!;
    },
    async paymentsOf(subscriptionId) {
      const request = { storefrontId: '', customerId: '', subscriptionId, pageSize: 50, pageToken: '' };
      return (await call(payments, payments.listPayments, request)).payments;
    },
    async activeSubscription(status = SubscriptionStatus.SUBSCRIPTION_STATUS_ACTIVE) {
      const checkout = await call(subs, subs.createCheckoutSession, checkoutRequest());
      await world.control(`/sessions/${checkout.checkoutSession!.providerRef}/complete`, {});
      const id = checkout.subscription!.id;
      const active = await eventually(
        () => world.subscription(id),
        (s) => s.status === status,
      );
      return { id, ref: active.providerRef, checkoutSessionId: checkout.checkoutSession!.id };
    },
    control: <T>(path: string, body?: unknown, method?: string) => emulatorControl<T>(emulator.url, path, body, method),
    async close() {
      payments.close();
      entitlements.close();
      await emulator.stop();
    },
  };
  return world;
}

/** A fresh database, a service (FAST_WEBHOOKS, with `env` besides) and a Subotiz world on it (`subotizWorldService`). */
export interface SubotizWorldService {
  db: TestDatabase;
  service: TestService;
  world: SubotizWorld;
}

/**
 * For a test file (or describe block) on one Subotiz storefront: the database, the service and the world before all
 * its tests, all closed after them; the Subotiz counterpart of `fakeStorefrontService`. Read its fields inside tests
 * and hooks, once they are set.
 */
export function subotizWorldService(
  options: Parameters<typeof subotizWorld>[1] = {},
  env: Record<string, string> = {},
): SubotizWorldService {
  const handle = {} as SubotizWorldService;
  beforeAll(async () => {
    handle.db = await createTestDatabase();
    handle.service = await startTestService({ DATABASE_URL: handle.db.url, ...FAST_WEBHOOKS, ...env });
    handle.world = await subotizWorld(handle.service, options);
  });
  afterAll(async () => {
    await handle.world?.close();
    await handle.service?.close();
    await handle.db?.drop();
  });
  return handle;
}
