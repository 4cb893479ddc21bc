import * as grpc from '@grpc/grpc-js';
import { randomBytes } from 'node:crypto';
import { startSubotizEmulator, SubotizEmulator } from '../../adapters/subotiz/emulator';
import { tenantEnvPrefix } from '../../src/domain/secret-reference';
import { CatalogServiceClient } from '../../src/gen/billing/v1/catalog';
import { IntervalUnit } from '../../src/gen/billing/v1/common';
import { CustomerServiceClient } from '../../src/gen/billing/v1/customer';
import { StorefrontServiceClient } from '../../src/gen/billing/v1/storefront';
import { SubscriptionServiceClient } from '../../src/gen/billing/v1/subscription';
import { subscriptionCheckout } from '../../test/support/fixtures';
import { call, writeKeysFile } from '../../test/support/test-service';

export const STOREFRONT = 'bench-store';
const TENANT = 'bench';
const PRICE = 'price_bench';

/** The bench's Subotiz credentials: set in the service's environment under the tenant's own names. */
const SECRETS = {
  apiKey: `sk_bench_${randomBytes(8).toString('hex')}`,
  accessSecret: `as_bench_${randomBytes(8).toString('hex')}`,
  webhookSecret: `whsec_bench_${randomBytes(8).toString('hex')}`,
};

/** The emulator's merchant, as the checkout baseline's raw HTTP call names it. */
export const EMULATOR_MERCHANT = {
  apiKey: SECRETS.apiKey,
  accessNo: 'acc_bench',
  subMerchantId: 'm-bench',
  priceId: PRICE,
};

/** What every run of the service in this bench shares: database, callers, secrets, the emulator it is bound to. */
export interface BenchWorld {
  databaseUrl: string;
  emulator: SubotizEmulator;
  webhookSecret: string;
  serviceEnv(kafkaBrokers: string, topicPrefix: string): NodeJS.ProcessEnv;
}

/** Starts the Subotiz emulator (webhooks go to the service's ingress at `httpPort`) for a service on `databaseUrl`. */
export async function createWorld(databaseUrl: string, httpPort: number): Promise<BenchWorld> {
  const emulator = await startSubotizEmulator({
    host: '127.0.0.1',
    // Redeliveries after a refusal come soon rather than after Subotiz's minute.
    webhookRetryBaseMs: 200,
    merchants: [
      {
        accessNo: EMULATOR_MERCHANT.accessNo,
        subMerchantId: 'm-bench',
        apiKey: SECRETS.apiKey,
        accessSecret: SECRETS.accessSecret,
        webhookSecret: SECRETS.webhookSecret,
        webhookUrl: `http://127.0.0.1:${httpPort}/webhooks/subotiz/${STOREFRONT}`,
      },
    ],
    prices: [{ priceId: PRICE, amount: '9.99', currency: 'EUR', interval: 'month', intervalCount: 1, trialDays: 0 }],
  });
  const keysFile = writeKeysFile();
  const prefix = tenantEnvPrefix(TENANT);
  return {
    databaseUrl,
    emulator,
    webhookSecret: SECRETS.webhookSecret,
    serviceEnv: (kafkaBrokers, topicPrefix) => ({
      PATH: process.env.PATH,
      HOME: process.env.HOME,
      DATABASE_URL: databaseUrl,
      HOST: '127.0.0.1',
      DEMO_SEED: 'false',
      EMULATORS: 'false',
      KAFKA_BROKERS: kafkaBrokers,
      KAFKA_TOPIC_PREFIX: topicPrefix,
      LOG_LEVEL: 'warn',
      ALLOW_INSECURE_PROVIDER_URLS: 'true',
      RECONCILE_INTERVAL_MS: '3600000',
      WEBHOOK_POLL_INTERVAL_MS: '50',
      WEBHOOK_WORKERS: String(WEBHOOK_LANES),
      API_KEYS_FILE: keysFile,
      [`${prefix}SUBOTIZ_API_KEY`]: SECRETS.apiKey,
      [`${prefix}SUBOTIZ_ACCESS_NO`]: EMULATOR_MERCHANT.accessNo,
      [`${prefix}SUBOTIZ_ACCESS_SECRET`]: SECRETS.accessSecret,
      [`${prefix}WEBHOOK_SECRET`]: SECRETS.webhookSecret,
    }),
  };
}

/**
 * The bench service's inbox lanes (WEBHOOK_WORKERS; 4 unless set, which the README suggests for a provider over
 * the internet). The processing baseline runs as many transactions at once.
 */
export const WEBHOOK_LANES = Number(process.env.WEBHOOK_WORKERS || 4);

export interface Seeded {
  planId: string;
  /** An existing subscription, read by the GetSubscription path. */
  subscriptionId: string;
}

/** The storefront bound to the emulator, its plan, and one subscription (a checkout) to read. */
export async function seed(grpcPort: number, world: BenchWorld): Promise<Seeded> {
  const address = `127.0.0.1:${grpcPort}`;
  const credentials = grpc.credentials.createInsecure();
  const storefronts = new StorefrontServiceClient(address, credentials);
  const catalog = new CatalogServiceClient(address, credentials);
  const customers = new CustomerServiceClient(address, credentials);
  const subscriptions = new SubscriptionServiceClient(address, credentials);
  const prefix = tenantEnvPrefix(TENANT);
  try {
    await call(storefronts, storefronts.createStorefront, {
      storefrontId: STOREFRONT,
      tenantId: TENANT,
      name: 'Bench store',
      country: 'DE',
      defaultCurrency: 'EUR',
      provider: 'subotiz',
      providerConfig: {
        base_url: world.emulator.url,
        auth_mode: 'bearer',
        sub_merchant_id: 'm-bench',
        return_url: 'https://shop.example/thanks',
        cancel_url: 'https://shop.example/cart',
      },
      secretRefs: {
        api_key: `env:${prefix}SUBOTIZ_API_KEY`,
        access_no: `env:${prefix}SUBOTIZ_ACCESS_NO`,
        webhook_secret: `env:${prefix}WEBHOOK_SECRET`,
      },
    });
    const { plan } = await call(catalog, catalog.createPlan, {
      storefrontId: STOREFRONT,
      name: 'Bench monthly',
      price: { currencyCode: 'EUR', amountMinor: 999n, amountDecimal: '' },
      interval: { unit: IntervalUnit.INTERVAL_UNIT_MONTH, count: 1 },
      trialDays: 0,
      featureKeys: ['pro'],
      providerRefs: { subotiz: PRICE },
    });
    const { customer } = await call(customers, customers.createCustomer, {
      storefrontId: STOREFRONT,
      externalRef: 'reader',
      email: 'reader@example.com',
      name: 'Reader',
      phone: '',
      country: 'DE',
      address: undefined,
    });
    const checkout = await call(
      subscriptions,
      subscriptions.createCheckoutSession,
      subscriptionCheckout(STOREFRONT, customer!.id, plan!.id),
    );
    return { planId: plan!.id, subscriptionId: checkout.subscription!.id };
  } finally {
    for (const client of [storefronts, catalog, customers, subscriptions]) client.close();
  }
}
