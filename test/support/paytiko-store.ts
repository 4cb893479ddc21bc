import * as grpc from '@grpc/grpc-js';
import { randomBytes } from 'node:crypto';
import type { PaytikoEmulator, PaytikoEmulatorMerchant } from '../../adapters/paytiko/emulator';
import { EntitlementServiceClient } from '../../src/gen/billing/v1/entitlement';
import { PaymentServiceClient } from '../../src/gen/billing/v1/payment';
import { CreateCheckoutSessionRequest, Subscription, SubscriptionStatus } from '../../src/gen/billing/v1/subscription';
import type { Clock } from '../../src/ports/clock.port';
import { subscriptionCheckout } from './fixtures';
import type { MembershipView } from './paytiko-emulator-bed';
import {
  createPaytikoCustomer,
  createPaytikoPlan,
  createPaytikoStorefront,
  paytikoControl,
  paytikoControls,
  PaytikoStorefrontOptions,
  subscriptionReads,
  SubscriptionReads,
} from './paytiko-world';
import { call, TestService } from './test-service';

/*
 * What only the cancellation, reconciliation and webhook tests need beyond paytiko-world.ts: several merchants'
 * storefronts on one emulator (`paytikoStore`) and one clock the service and the emulator share (`SharedClock`).
 */

/**
 * The service's clock, kept level with the emulator's: both are wall time plus an offset, and `moveTo` advances
 * the emulator (which bills what falls due on the way) and then gives the service the emulator's offset.
 */
export class SharedClock {
  private offsetMs = 0;
  readonly clock: Clock = { now: () => new Date(Date.now() + this.offsetMs) };

  constructor(private readonly emulator: PaytikoEmulator) {}

  emulatorNow(): Promise<Date> {
    return paytikoControls(this.emulator).now();
  }

  /** Both clocks to `at` (never back); resolves once the emulator's webhooks about what happened are sent. */
  async moveTo(at: Date): Promise<void> {
    const seconds = Math.ceil((at.getTime() - (await this.emulatorNow()).getTime()) / 1000);
    if (seconds > 0) await paytikoControls(this.emulator).advanceClock(seconds);
    await this.emulator.idle();
    const { offset_seconds } = await paytikoControl<{ offset_seconds: number }>(this.emulator, '/clock');
    this.offsetMs = offset_seconds * 1000;
  }
}

/** A storefront bound to a Paytiko merchant: one monthly plan granting `pro`, one customer. */
export interface PaytikoStore extends SubscriptionReads {
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
  /** CheckEntitlement of the plan's feature for the customer (default: the store's). */
  entitled(customerId?: string): Promise<boolean>;
  /** A merchant API call (what its back office does), with a fresh token. */
  paytiko(method: string, path: string, body?: unknown): Promise<{ status: number; body: Record<string, unknown> }>;
  /** GET membership, as Paytiko's API answers it to the merchant. */
  membership(key: string): Promise<MembershipView>;
  close(): void;
}

export async function paytikoStore(
  /** The service, or how to find the one running now when a test restarts it. */
  serviceNow: TestService | (() => TestService),
  emulator: PaytikoEmulator,
  merchant: PaytikoEmulatorMerchant,
  options: PaytikoStorefrontOptions,
): Promise<PaytikoStore> {
  const { storefrontId } = options;
  const current = typeof serviceNow === 'function' ? serviceNow : () => serviceNow;
  const { storefronts, catalog } = current().clients;
  const customers = () => current().clients.customers;
  const subs = () => current().clients.subscriptions;
  await createPaytikoStorefront(storefronts, emulator, merchant, options);
  const planId = await createPaytikoPlan(catalog, storefrontId, { name: 'Pro monthly', featureKeys: ['pro'] });
  const newCustomer = () => {
    const ref = randomBytes(4).toString('hex');
    return createPaytikoCustomer(customers(), storefrontId, {
      externalRef: `user-${ref}`,
      email: `ada.${ref}@example.com`,
      phone: '+447700900123',
      country: 'GB',
    });
  };
  const customerId = await newCustomer();
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
    ...subscriptionReads(subs, () => clientsNow().payments),
    storefrontId,
    merchant,
    planId,
    customerId,
    payments: () => clientsNow().payments,
    entitlements: () => clientsNow().entitlements,
    newCustomer,
    checkoutRequest: (forCustomer = customerId) => subscriptionCheckout(storefrontId, forCustomer, planId),
    async activeSubscription(forCustomer) {
      const request = store.checkoutRequest(forCustomer ?? (await newCustomer()));
      const checkout = await call(subs(), subs().createCheckoutSession, request);
      await paytikoControls(emulator).completeHostedCheckout(checkout.checkoutSession!.url);
      return store.waitFor(
        checkout.subscription!.id,
        (s) => s.status === SubscriptionStatus.SUBSCRIPTION_STATUS_ACTIVE,
      );
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
