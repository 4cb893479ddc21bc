import * as grpc from '@grpc/grpc-js';
import { IntervalUnit } from '../../src/gen/billing/v1/common';
import { EntitlementServiceClient } from '../../src/gen/billing/v1/entitlement';
import { Subscription, SubscriptionStatus } from '../../src/gen/billing/v1/subscription';
import { eventually } from './eventually';
import type { FakeProvider } from './fake-provider';
import { storefrontRequest, subscriptionCheckout } from './fixtures';
import { createTestDatabase, TestDatabase } from './test-database';
import { call, startTestService, TestService } from './test-service';

/** A storefront bound to a fake provider over real gRPC: two plans (basic, pro), one customer. */
export interface FakeStorefront {
  fake: FakeProvider;
  storefrontId: string;
  basicPlanId: string;
  proPlanId: string;
  customerId: string;
  entitlements: EntitlementServiceClient;
  /** Opens a subscription checkout of `planId` (default: basic); our subscription id. */
  checkout(planId?: string): Promise<string>;
  /** Checkout, completed at the fake, waited for until ACTIVE. */
  activeSubscription(): Promise<Subscription>;
  subscription(id: string): Promise<Subscription>;
  /** Waits until GetSubscription satisfies `done`. */
  waitFor(id: string, done: (s: Subscription) => boolean): Promise<Subscription>;
  /** The fake's checkout for our subscription (found by the order id the core gave it). */
  sessionRefOf(subscriptionId: string): string;
  close(): void;
}

export const FAKE_TENANT = 'tenant-a';

export async function fakeStorefront(
  service: TestService,
  fake: FakeProvider,
  storefrontId: string,
): Promise<FakeStorefront> {
  fake.deliverTo(`http://127.0.0.1:${service.httpPort}`);
  const { storefronts, catalog, customers, subscriptions: subs } = service.clients;
  await call(
    storefronts,
    storefronts.createStorefront,
    storefrontRequest(storefrontId, {
      tenantId: FAKE_TENANT,
      provider: fake.id,
      providerConfig: {},
      secretRefs: fake.secretRefs(FAKE_TENANT),
    }),
  );
  const plan = async (name: string, ref: string, featureKeys: string[]) =>
    (
      await call(catalog, catalog.createPlan, {
        storefrontId,
        name,
        price: { currencyCode: 'EUR', amountMinor: 1999n, amountDecimal: '' },
        interval: { unit: IntervalUnit.INTERVAL_UNIT_MONTH, count: 1 },
        trialDays: 0,
        featureKeys,
        providerRefs: fake.features.pricing === 'reference' ? { [fake.id]: ref } : {},
      })
    ).plan!.id;
  const basicPlanId = await plan('Basic monthly', 'price_basic', ['basic']);
  const proPlanId = await plan('Pro monthly', 'price_pro', ['pro', 'export']);
  const { customer } = await call(customers, customers.createCustomer, {
    storefrontId,
    externalRef: `user-${storefrontId}`,
    email: 'ada@example.com',
    name: 'Ada',
    phone: '',
    country: 'DE',
    address: undefined,
  });
  const entitlements = new EntitlementServiceClient(`127.0.0.1:${service.grpcPort}`, grpc.credentials.createInsecure());
  const subscription = async (id: string) =>
    (await call(subs, subs.getSubscription, { subscriptionId: id })).subscription!;
  const world: FakeStorefront = {
    fake,
    storefrontId,
    basicPlanId,
    proPlanId,
    customerId: customer!.id,
    entitlements,
    async checkout(planId = basicPlanId) {
      const answer = await call(
        subs,
        subs.createCheckoutSession,
        subscriptionCheckout(storefrontId, customer!.id, planId),
      );
      return answer.subscription!.id;
    },
    async activeSubscription() {
      const id = await world.checkout();
      await fake.completeCheckout(world.sessionRefOf(id));
      return world.waitFor(id, (s) => s.status === SubscriptionStatus.SUBSCRIPTION_STATUS_ACTIVE);
    },
    subscription,
    waitFor: (id, done) => eventually(() => subscription(id), done),
    sessionRefOf(subscriptionId) {
      const found = [...fake.checkouts.values()].find((c) => c.orderId === subscriptionId);
      if (!found) throw new Error(`the fake opened no checkout for ${subscriptionId}`);
      return found.ref;
    },
    close: () => entitlements.close(),
  };
  return world;
}

/** A fresh database, a service that has `fake` as a provider, and one storefront bound to it (`fakeStorefrontService`). */
export interface FakeStorefrontService {
  db: TestDatabase;
  service: TestService;
  store: FakeStorefront;
}

/**
 * For a test file (or describe block) on one fake-provider storefront: the database, the service (with `env` besides
 * its DATABASE_URL) and the storefront before all its tests, all closed after them. Read its fields inside tests and
 * hooks, once they are set.
 */
export function fakeStorefrontService(
  fake: FakeProvider,
  storefrontId: string,
  env: Record<string, string> = {},
): FakeStorefrontService {
  const handle = {} as FakeStorefrontService;
  beforeAll(async () => {
    handle.db = await createTestDatabase();
    handle.service = await startTestService({ DATABASE_URL: handle.db.url, ...env }, { extraProviders: [fake.module] });
    handle.store = await fakeStorefront(handle.service, fake, storefrontId);
  });
  afterAll(async () => {
    handle.store?.close();
    await handle.service?.close();
    await handle.db?.drop();
  });
  return handle;
}
