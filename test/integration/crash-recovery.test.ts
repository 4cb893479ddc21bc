import * as grpc from '@grpc/grpc-js';
import { randomBytes } from 'node:crypto';
import { startSubotizEmulator, SubotizEmulator } from '../../adapters/subotiz/emulator';
import { CatalogServiceClient } from '../../src/gen/billing/v1/catalog';
import { IntervalUnit } from '../../src/gen/billing/v1/common';
import {
  CreateCustomerRequest,
  CreateCustomerResponse,
  CustomerServiceClient,
} from '../../src/gen/billing/v1/customer';
import { StorefrontServiceClient } from '../../src/gen/billing/v1/storefront';
import {
  CheckoutMode,
  CreateCheckoutSessionRequest,
  CreateCheckoutSessionResponse,
  SubscriptionServiceClient,
} from '../../src/gen/billing/v1/subscription';
import { storefrontRequest } from '../support/fixtures';
import { freeServicePorts, ServicePorts, ServiceProcess, serviceProcessEnv, until } from '../support/service-process';
import { createTestDatabase, TestDatabase, withClient } from '../support/test-database';
import { bearer, call, callWithTrailers, TEST_KEYS, writeKeysFile } from '../support/test-service';

/** The lease a dead owner's key keeps blocking retries for (service.ts IDEMPOTENCY_LEASE_MS). */
const LEASE_MS = 10_000;
const CUSTOMER_KEYS = 40;
const CHECKOUT_KEYS = 10;
/** Checkout answers Subotiz holds back after creating the session: the service dies while they are on the way. */
const HELD_CHECKOUT_ANSWERS = 4;

const SECRETS = {
  BILLING_SECRET_TENANT_A_SUBOTIZ_API_KEY: `sk_test_${randomBytes(8).toString('hex')}`,
  BILLING_SECRET_TENANT_A_SUBOTIZ_ACCESS_NO: 'acc_crash',
  BILLING_SECRET_TENANT_A_SUBOTIZ_WEBHOOK_SECRET: `whsec_${randomBytes(8).toString('hex')}`,
};

/** The callers the child service accepts (the tests' keys, hashed). */
const keysFile = writeKeysFile();

/** The service's environment: the relay is off, so events stay in the outbox, where the test checks them. */
function childEnv(databaseUrl: string, ports: ServicePorts): NodeJS.ProcessEnv {
  return serviceProcessEnv(databaseUrl, ports, { API_KEYS_FILE: keysFile, ...SECRETS });
}

/** Metadata of every call: tenant A's platform key (it owns the storefront), and the idempotency key. */
function metadataFor(key?: string): Record<string, string> {
  return { ...bearer(TEST_KEYS.tenantAPlatform), ...(key ? { 'idempotency-key': key } : {}) };
}

/** What one keyed call answered on its first attempt (the service died under some of them). */
type FirstAttempt = { ok: true; bytes: Buffer } | { ok: false; code: grpc.status };

/**
 * `kill -9` of the service under concurrent keyed load, then a restart and a retry of every key: one effect per key,
 * the first attempt's response replayed byte for byte where it had committed, no ABORTED beyond the dead owner's
 * lease, and an outbox event for every committed change.
 */
describe('crash recovery: kill -9 under keyed load', () => {
  let db: TestDatabase;
  let emulator: SubotizEmulator;
  let ports: ServicePorts;
  let child: ServiceProcess | undefined;

  beforeAll(async () => {
    db = await createTestDatabase();
    ports = await freeServicePorts();
    emulator = await startSubotizEmulator({
      merchants: [
        {
          accessNo: SECRETS.BILLING_SECRET_TENANT_A_SUBOTIZ_ACCESS_NO,
          subMerchantId: 'm-crash',
          apiKey: SECRETS.BILLING_SECRET_TENANT_A_SUBOTIZ_API_KEY,
          accessSecret: 'unused',
          webhookSecret: SECRETS.BILLING_SECRET_TENANT_A_SUBOTIZ_WEBHOOK_SECRET,
          webhookUrl: `http://127.0.0.1:${ports.http}/webhooks/subotiz/crash-store`,
        },
      ],
      prices: [
        { priceId: 'price_crash', amount: '9.99', currency: 'EUR', interval: 'month', intervalCount: 1, trialDays: 0 },
      ],
    });
  });

  afterAll(async () => {
    await child?.stop();
    await emulator?.stop();
    await db?.drop();
  });

  it('runs every key once, replays what committed, and takes over dead keys within the lease', async () => {
    child = await ServiceProcess.start(childEnv(db.url, ports), ports);
    let clients = connect(ports.grpc);
    const { planId, checkoutCustomers } = await seed(clients, emulator.url);

    const customerRequest = (i: number): CreateCustomerRequest => ({
      storefrontId: 'crash-store',
      externalRef: `user-${i}`,
      email: `load-${i}@example.com`,
      name: `Load ${i}`,
      phone: '',
      country: 'DE',
      address: undefined,
    });
    const checkoutRequest = (i: number): CreateCheckoutSessionRequest => ({
      storefrontId: 'crash-store',
      customerId: checkoutCustomers[i]!,
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
    });
    const keyed = [
      ...range(CHECKOUT_KEYS).map((i) => ({
        key: `crash-checkout-${i}`,
        send: (c: Clients, md: Record<string, string>) =>
          callWithTrailers(c.subscriptions, c.subscriptions.createCheckoutSession, checkoutRequest(i), md),
        encode: (r: unknown) => CreateCheckoutSessionResponse.encode(r as CreateCheckoutSessionResponse).finish(),
      })),
      ...range(CUSTOMER_KEYS).map((i) => ({
        key: `crash-customer-${i}`,
        send: (c: Clients, md: Record<string, string>) =>
          callWithTrailers(c.customers, c.customers.createCustomer, customerRequest(i), md),
        encode: (r: unknown) => CreateCustomerResponse.encode(r as CreateCustomerResponse).finish(),
      })),
    ];

    // Subotiz creates the first sessions, then holds their answers back: the service dies before they arrive.
    await emulatorControl(emulator, '/faults', {
      count: HELD_CHECKOUT_ANSWERS,
      status: 200,
      delay_ms: 60_000,
      after: true,
      path: '/api/v1/session',
    });
    const first = new Map<string, FirstAttempt>();
    const attempts = keyed.map(async (k, index) => {
      // Checkouts first, then customers one by one, so the kill lands with calls at every stage.
      await sleep(index * 20);
      try {
        const { response } = await k.send(clients, metadataFor(k.key));
        first.set(k.key, { ok: true, bytes: Buffer.from(k.encode(response)) });
      } catch (error) {
        first.set(k.key, { ok: false, code: (error as grpc.ServiceError).code });
      }
    });
    await until(
      async () => (await sessionsAtSubotiz(emulator)) >= HELD_CHECKOUT_ANSWERS && first.size >= 20,
      30_000,
      'the load to reach Subotiz and the first customers to be answered',
    ).catch(async (error: Error) => {
      const seen = [...first].map(([key, a]) => `${key}: ${a.ok ? 'ok' : grpc.status[a.code]}`);
      throw new Error(`${error.message} (sessions ${await sessionsAtSubotiz(emulator)}; ${seen.join(', ')})`);
    });
    const killedAt = Date.now();
    await child.kill9();
    await Promise.all(attempts);
    const unanswered = keyed.filter((k) => !first.get(k.key)!.ok);
    expect(unanswered.length).toBeGreaterThanOrEqual(HELD_CHECKOUT_ANSWERS);
    const one = (sql: string) => withClient(db.url, (c) => c.query(sql)).then((r) => Number(r.rows[0].n));
    // The dead process left keys held: at least the checkouts whose sessions Subotiz made but never answered.
    expect(
      await one("SELECT count(*) AS n FROM idempotency_keys WHERE key LIKE 'crash-%' AND state = 'IN_FLIGHT'"),
    ).toBeGreaterThanOrEqual(HELD_CHECKOUT_ANSWERS);

    closeAll(clients);
    child = await ServiceProcess.start(childEnv(db.url, ports), ports);
    clients = connect(ports.grpc);

    let lastAborted = 0;
    const retried = await Promise.all(
      keyed.map(async (k) => {
        for (;;) {
          try {
            const { response, trailers } = await k.send(clients, metadataFor(k.key));
            return { key: k.key, bytes: Buffer.from(k.encode(response)), response, trailers };
          } catch (error) {
            const code = (error as grpc.ServiceError).code;
            if (code !== grpc.status.ABORTED) throw error;
            lastAborted = Date.now();
            if (lastAborted - killedAt > 3 * LEASE_MS) throw new Error(`${k.key} still ABORTED long after the kill`);
            await sleep(200);
          }
        }
      }),
    );
    closeAll(clients);

    // No key stays blocked past the dead owner's lease (and a little time to notice).
    if (lastAborted) expect(lastAborted - killedAt).toBeLessThan(LEASE_MS + 10_000);
    for (const r of retried) {
      const before = first.get(r.key)!;
      if (before.ok) {
        expect({ key: r.key, bytes: r.bytes.toString('hex') }).toEqual({
          key: r.key,
          bytes: before.bytes.toString('hex'),
        });
        expect(r.trailers.get('idempotent-replayed')).toEqual(['true']);
      }
    }
    // Every CreateCustomer answered as the first attempt did: created, never "already there".
    for (const r of retried.filter((x) => x.key.startsWith('crash-customer-'))) {
      expect((r.response as CreateCustomerResponse).created).toBe(true);
    }

    // One effect per key: a customer per CreateCustomer key, a subscription and a Subotiz session per checkout key.
    expect(await one("SELECT count(DISTINCT email) AS n FROM customers WHERE email LIKE 'load-%'")).toBe(CUSTOMER_KEYS);
    expect(await one("SELECT count(*) AS n FROM customers WHERE email LIKE 'load-%'")).toBe(CUSTOMER_KEYS);
    const subscriptionIds = retried
      .filter((r) => r.key.startsWith('crash-checkout-'))
      .map((r) => (r.response as CreateCheckoutSessionResponse).subscription!.id);
    expect(new Set(subscriptionIds).size).toBe(CHECKOUT_KEYS);
    expect(await one('SELECT count(*) AS n FROM subscriptions')).toBe(CHECKOUT_KEYS);
    expect(await sessionsAtSubotiz(emulator)).toBe(CHECKOUT_KEYS);
    // No lost event, no doubled one: each committed change has exactly its one event.
    expect(
      await one(`SELECT count(*) AS n FROM customers c WHERE (SELECT count(*) FROM outbox o
        WHERE o.aggregate_id = c.id AND o.type = 'billing.customer.created') <> 1`),
    ).toBe(0);
    expect(
      await one(`SELECT count(*) AS n FROM subscriptions s WHERE (SELECT count(*) FROM outbox o
        WHERE o.aggregate_id = s.id AND o.type = 'billing.subscription.created') <> 1`),
    ).toBe(0);
    expect(await one("SELECT count(*) AS n FROM idempotency_keys WHERE key LIKE 'crash-%' AND state = 'DONE'")).toBe(
      keyed.length,
    );
  }, 300_000);
});

interface Clients {
  storefronts: StorefrontServiceClient;
  catalog: CatalogServiceClient;
  customers: CustomerServiceClient;
  subscriptions: SubscriptionServiceClient;
}

function connect(port: number): Clients {
  const address = `127.0.0.1:${port}`;
  const credentials = grpc.credentials.createInsecure();
  return {
    storefronts: new StorefrontServiceClient(address, credentials),
    catalog: new CatalogServiceClient(address, credentials),
    customers: new CustomerServiceClient(address, credentials),
    subscriptions: new SubscriptionServiceClient(address, credentials),
  };
}

function closeAll(clients: Clients): void {
  for (const client of Object.values(clients)) client.close();
}

/** A storefront bound to the emulator, its plan, and one customer per checkout key. */
async function seed(clients: Clients, emulatorUrl: string) {
  await call(
    clients.storefronts,
    clients.storefronts.createStorefront,
    storefrontRequest('crash-store', {
      providerConfig: {
        base_url: emulatorUrl,
        auth_mode: 'bearer',
        sub_merchant_id: 'm-crash',
        // The checkouts here name no return/cancel URL: the binding's defaults apply.
        return_url: 'https://shop.example/thanks',
        cancel_url: 'https://shop.example/cart',
      },
      secretRefs: {
        api_key: 'env:BILLING_SECRET_TENANT_A_SUBOTIZ_API_KEY',
        access_no: 'env:BILLING_SECRET_TENANT_A_SUBOTIZ_ACCESS_NO',
        webhook_secret: 'env:BILLING_SECRET_TENANT_A_SUBOTIZ_WEBHOOK_SECRET',
      },
    }),
    metadataFor(),
  );
  const { plan } = await call(
    clients.catalog,
    clients.catalog.createPlan,
    {
      storefrontId: 'crash-store',
      name: 'Crash monthly',
      price: { currencyCode: 'EUR', amountMinor: 999n, amountDecimal: '' },
      interval: { unit: IntervalUnit.INTERVAL_UNIT_MONTH, count: 1 },
      trialDays: 0,
      featureKeys: ['pro'],
      providerRefs: { subotiz: 'price_crash' },
    },
    metadataFor(),
  );
  const checkoutCustomers: string[] = [];
  for (const i of range(CHECKOUT_KEYS)) {
    const { customer } = await call(
      clients.customers,
      clients.customers.createCustomer,
      {
        storefrontId: 'crash-store',
        externalRef: `buyer-${i}`,
        email: `buyer-${i}@example.com`,
        name: `Buyer ${i}`,
        phone: '',
        country: 'DE',
        address: undefined,
      },
      metadataFor(),
    );
    checkoutCustomers.push(customer!.id);
  }
  return { planId: plan!.id, checkoutCustomers };
}

async function sessionsAtSubotiz(emulator: SubotizEmulator): Promise<number> {
  return ((await emulatorControl(emulator, '/state')) as { sessions: number }).sessions;
}

async function emulatorControl(emulator: SubotizEmulator, path: string, body?: unknown): Promise<unknown> {
  const response = await fetch(`${emulator.url}/__emulator${path}`, {
    method: body === undefined ? 'GET' : 'POST',
    headers: { 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  if (!response.ok) throw new Error(`emulator ${path} → ${response.status}: ${await response.text()}`);
  return response.json();
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const range = (n: number) => Array.from({ length: n }, (_, i) => i);
