import { randomBytes } from 'node:crypto';
import net from 'node:net';
import type { AddressInfo } from 'node:net';
import {
  type PaytikoEmulator,
  type PaytikoEmulatorMerchant,
  startPaytikoEmulator,
} from '../../adapters/paytiko/emulator';
import { tenantEnvPrefix } from '../../src/domain/secret-reference';
import { IntervalUnit } from '../../src/gen/billing/v1/common';
import { EntitlementServiceClient } from '../../src/gen/billing/v1/entitlement';
import { Invoice, Payment, PaymentServiceClient } from '../../src/gen/billing/v1/payment';
import { CreateCheckoutSessionRequest, Subscription, SubscriptionStatus } from '../../src/gen/billing/v1/subscription';
import type { Clock } from '../../src/ports/clock.port';
import { eventually } from './eventually';
import { storefrontRequest, subscriptionCheckout } from './fixtures';
import type { MembershipView } from './paytiko-emulator-bed';
import { call, TestService } from './test-service';

/**
 * A minimal Paytiko world for the cancellation, reconciliation and webhook tests (until test/support/paytiko-world.ts
 * exists; the integrator may fold the two together): an emulator with one or more merchants, storefronts bound to
 * them over real HTTP, and one clock the service and the emulator share.
 */

/** A merchant with fresh credentials and webhook secretKey (the binding reads them from this process's env). */
export function paytikoMerchant(): PaytikoEmulatorMerchant {
  return {
    userName: `api-user-${randomBytes(4).toString('hex')}`,
    password: `pw-${randomBytes(12).toString('hex')}`,
    processorKey: '3b241101-e2bb-4255-8caf-4136c566a962',
    secretKey: `sk-${randomBytes(12).toString('hex')}`,
  };
}

export function startPaytiko(merchants: PaytikoEmulatorMerchant[]): Promise<PaytikoEmulator> {
  return startPaytikoEmulator({ merchants });
}

/** A port free right now, so that a restarted service listens where the emulator's webhooks already go. */
export async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/** Calls an emulator's `/__emulator/…` control and returns its JSON; throws on a non-2xx. */
export async function emulatorControl<T = Record<string, unknown>>(
  emulator: PaytikoEmulator,
  path: string,
  body?: unknown,
): Promise<T> {
  const method = body === undefined ? 'GET' : 'POST';
  const response = await fetch(`${emulator.url}/__emulator${path}`, {
    method,
    headers: { 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await response.text();
  if (!response.ok) throw new Error(`emulator ${method} ${path} → ${response.status}: ${text}`);
  return (text ? JSON.parse(text) : {}) as T;
}

/**
 * The service's clock, kept level with the emulator's: both are wall time plus an offset, and `moveTo` advances
 * the emulator (which bills what falls due on the way) and then gives the service the emulator's offset.
 */
export class SharedClock {
  private offsetMs = 0;
  readonly clock: Clock = { now: () => new Date(Date.now() + this.offsetMs) };

  constructor(private readonly emulator: PaytikoEmulator) {}

  async emulatorNow(): Promise<Date> {
    return new Date((await emulatorControl<{ now: string }>(this.emulator, '/clock')).now);
  }

  /** Both clocks to `at` (never back); resolves once the emulator's webhooks about what happened are sent. */
  async moveTo(at: Date): Promise<void> {
    const seconds = Math.ceil((at.getTime() - (await this.emulatorNow()).getTime()) / 1000);
    if (seconds > 0) await emulatorControl(this.emulator, '/clock/advance', { seconds });
    await this.emulator.idle();
    const { offset_seconds } = await emulatorControl<{ offset_seconds: number }>(this.emulator, '/clock');
    this.offsetMs = offset_seconds * 1000;
  }
}

/** A storefront bound to a Paytiko merchant: one monthly plan granting `pro`, one customer. */
export interface PaytikoStore {
  storefrontId: string;
  merchant: PaytikoEmulatorMerchant;
  planId: string;
  customerId: string;
  /** Clients of the service running now (a test may restart it). */
  payments(): PaymentServiceClient;
  entitlements(): EntitlementServiceClient;
  /** A new customer of the storefront (each subscription its own, so entitlements do not overlap). */
  newCustomer(): Promise<string>;
  checkoutRequest(customerId?: string): CreateCheckoutSessionRequest;
  /** Checkout (of a new customer unless named) paid on the emulator's hosted page, waited for until ACTIVE. */
  activeSubscription(customerId?: string): Promise<Subscription>;
  subscription(id: string): Promise<Subscription>;
  /** Waits until GetSubscription satisfies `done`. */
  waitFor(id: string, done: (s: Subscription) => boolean): Promise<Subscription>;
  paymentsOf(subscriptionId: string): Promise<Payment[]>;
  invoicesOf(subscriptionId: string): Promise<Invoice[]>;
  /** CheckEntitlement of the plan's feature for the customer (default: the store's). */
  entitled(customerId?: string): Promise<boolean>;
  /** A merchant API call (what its back office does), with a fresh token. */
  paytiko(method: string, path: string, body?: unknown): Promise<{ status: number; body: Record<string, unknown> }>;
  /** GET membership, as Paytiko answers it. */
  membership(key: string): Promise<MembershipView>;
  close(): void;
}

export async function paytikoStore(
  /** The service, or how to find the one running now when a test restarts it. */
  serviceNow: TestService | (() => TestService),
  emulator: PaytikoEmulator,
  merchant: PaytikoEmulatorMerchant,
  options: { storefrontId: string; tenantId?: string; providerConfig?: Record<string, string> },
): Promise<PaytikoStore> {
  const { storefrontId } = options;
  const tenantId = options.tenantId ?? 'tenant-a';
  // Each storefront its own variables (under its tenant's prefix), so two merchants' secrets never mix.
  const variable = (name: string) =>
    `${tenantEnvPrefix(tenantId)}PAYTIKO_${storefrontId.toUpperCase().replace(/[^A-Z0-9]/g, '_')}_${name}`;
  const secrets = { username: merchant.userName, password: merchant.password, webhook_secret: merchant.secretKey };
  const secretRefs: Record<string, string> = {};
  for (const [name, value] of Object.entries(secrets)) {
    process.env[variable(name.toUpperCase())] = value;
    secretRefs[name] = `env:${variable(name.toUpperCase())}`;
  }
  const current = typeof serviceNow === 'function' ? serviceNow : () => serviceNow;
  const { storefronts, catalog } = current().clients;
  const customers = () => current().clients.customers;
  const subs = () => current().clients.subscriptions;
  await call(
    storefronts,
    storefronts.createStorefront,
    storefrontRequest(storefrontId, {
      tenantId,
      provider: 'paytiko',
      providerConfig: {
        base_url: emulator.url,
        processor_key: merchant.processorKey,
        return_url: 'https://shop.example/thanks',
        ...options.providerConfig,
      },
      secretRefs,
    }),
  );
  const { plan } = await call(catalog, catalog.createPlan, {
    storefrontId,
    name: 'Pro monthly',
    price: { currencyCode: 'EUR', amountMinor: 999n, amountDecimal: '' },
    interval: { unit: IntervalUnit.INTERVAL_UNIT_MONTH, count: 1 },
    trialDays: 0,
    featureKeys: ['pro'],
    providerRefs: {},
  });
  const newCustomer = async () => {
    const ref = randomBytes(4).toString('hex');
    const { customer } = await call(customers(), customers().createCustomer, {
      storefrontId,
      externalRef: `user-${ref}`,
      email: `ada.${ref}@example.com`,
      name: 'Ada Lovelace',
      phone: '+447700900123',
      country: 'GB',
      address: undefined,
    });
    return customer!.id;
  };
  const customerId = await newCustomer();
  const grpc = await import('@grpc/grpc-js');
  // Clients of the service listening now: a restarted one has a new gRPC port.
  let clients: { port: number; payments: PaymentServiceClient; entitlements: EntitlementServiceClient } | undefined;
  const clientsNow = () => {
    const port = current().grpcPort;
    if (clients?.port !== port) {
      clients?.payments.close();
      clients?.entitlements.close();
      const address = `127.0.0.1:${port}`;
      clients = {
        port,
        payments: new PaymentServiceClient(address, grpc.credentials.createInsecure()),
        entitlements: new EntitlementServiceClient(address, grpc.credentials.createInsecure()),
      };
    }
    return clients;
  };

  const paytiko: PaytikoStore['paytiko'] = async (method, path, body) => {
    const api = `${emulator.url}/api/subscriptions/v1`;
    const json = { 'content-type': 'application/json' };
    const auth = await fetch(`${api}/auth`, {
      method: 'POST',
      headers: json,
      body: JSON.stringify({ userName: merchant.userName, password: merchant.password }),
    });
    const { token } = (await auth.json()) as { token: string };
    const response = await fetch(`${api}${path}`, {
      method,
      headers: { ...json, authorization: `Bearer ${token}` },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await response.text();
    return { status: response.status, body: text ? (JSON.parse(text) as Record<string, unknown>) : {} };
  };

  const store: PaytikoStore = {
    storefrontId,
    merchant,
    planId: plan!.id,
    customerId,
    payments: () => clientsNow().payments,
    entitlements: () => clientsNow().entitlements,
    newCustomer,
    checkoutRequest: (forCustomer = customerId) => subscriptionCheckout(storefrontId, forCustomer, plan!.id),
    async activeSubscription(forCustomer) {
      const request = store.checkoutRequest(forCustomer ?? (await newCustomer()));
      const checkout = await call(subs(), subs().createCheckoutSession, request);
      const token = checkout.checkoutSession!.url.split('/').pop();
      await emulatorControl(emulator, `/checkout/${token}/pay`, {});
      return store.waitFor(
        checkout.subscription!.id,
        (s) => s.status === SubscriptionStatus.SUBSCRIPTION_STATUS_ACTIVE,
      );
    },
    async subscription(id) {
      return (await call(subs(), subs().getSubscription, { subscriptionId: id })).subscription!;
    },
    waitFor: (id, done) => eventually(() => store.subscription(id), done),
    async paymentsOf(subscriptionId) {
      const request = { storefrontId: '', customerId: '', subscriptionId, pageSize: 50, pageToken: '' };
      const { payments } = clientsNow();
      return (await call(payments, payments.listPayments, request)).payments;
    },
    async invoicesOf(subscriptionId) {
      const request = { subscriptionId, customerId: '', pageSize: 50, pageToken: '' };
      const { payments } = clientsNow();
      return (await call(payments, payments.listInvoices, request)).invoices;
    },
    async entitled(forCustomer = customerId) {
      const request = { customerId: forCustomer, featureKey: 'pro' };
      const { entitlements } = clientsNow();
      return (await call(entitlements, entitlements.checkEntitlement, request)).granted;
    },
    paytiko,
    async membership(key) {
      const answer = await paytiko('GET', `/membership/${key}`);
      if (answer.status !== 200) throw new Error(`GET membership ${key}: ${answer.status}`);
      return answer.body as unknown as MembershipView;
    },
    close() {
      clients?.payments.close();
      clients?.entitlements.close();
    },
  };
  return store;
}
