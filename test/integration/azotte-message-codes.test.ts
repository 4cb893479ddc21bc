import * as grpc from '@grpc/grpc-js';
import { randomBytes } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { CheckoutSessionStatus, type Subscription } from '../../src/gen/billing/v1/subscription';
import {
  azotteWorld,
  type AzotteWorld,
  createAzotteCustomer,
  createAzottePlan,
  createAzotteStorefront,
  TEST_CARDS,
} from '../support/azotte-world';
import { brokersFromEnv } from '../support/kafka-collector';
import { FAST_WEBHOOKS } from '../support/subotiz-world';
import { createTestDatabase, type TestDatabase } from '../support/test-database';
import { call, startTestService, type TestService } from '../support/test-service';

const STOREFRONT = 'azotte-codes';
const BAD_KEY_STOREFRONT = 'azotte-codes-badkey';
const STRANGE_STOREFRONT = 'azotte-codes-strange';
/** More than the kit transport's attempts: a replayable call retried on a 5xx still meets the code. */
const EVERY_ATTEMPT = 10;

/** What one RPC ended in: its gRPC status and message (OK with no message when it succeeded). */
interface Outcome {
  code: grpc.status;
  message: string;
}

/**
 * Every messageCode of README item 12, answered by the emulator (its `/faults/message-code` control, or a natural
 * request) to the RPC that reaches it over gRPC; the gRPC status and what its message names are the table's. Where
 * the core promises a refusal writes nothing (UpdateCustomer, CreateCheckoutSession, CancelSubscription,
 * RevokeCancellation), what the caller can read afterwards is as before.
 */
describe('Azotte messageCodes → gRPC (README item 12)', () => {
  let db: TestDatabase;
  let service: TestService;
  let world: AzotteWorld;
  let strange: http.Server;
  /** The world customer's Azotte customerUrn. */
  let customerUrn = '';
  /** An active subscription of the world's customer. */
  let active: Subscription;
  /** One canceled at the end of its period (only RevokeCancellation reaches reactivate). */
  let ending: Subscription;
  let badKeyCustomer = '';
  let badKeyPlan = '';
  let strangeCustomer = '';
  let strangePlan = '';

  beforeAll(async () => {
    db = await createTestDatabase();
    // The scheduler waits long: GetCheckoutSession is what asks Azotte about a session here.
    service = await startTestService({
      DATABASE_URL: db.url,
      KAFKA_BROKERS: brokersFromEnv().join(','),
      ...FAST_WEBHOOKS,
      SCHEDULER_POLL_INTERVAL_MS: '60000',
    });
    // Checkouts decided a second after they are made: one decided before CreateCheckoutSession recorded it is adopted
    // as a second subscription (a core bug, reproduced in azotte-webhooks.test.ts), which is not what this file tests.
    world = await azotteWorld(service, { storefrontId: STOREFRONT, processingDelaySeconds: 1 });
    active = await world.activeSubscription();
    ending = await world.activeSubscription();
    const { subscriptions: subs, storefronts, catalog } = service.clients;
    await call(subs, subs.cancelSubscription, { subscriptionId: ending.id, atPeriodEnd: true, reason: 'test' });
    await world.waitFor(ending.id, (s) => s.cancelAtPeriodEnd);
    customerUrn = await world.customerUrnOf();

    // The same tenant, but the binding's api_key is not the one Azotte issued.
    await createAzotteStorefront(
      storefronts,
      world.emulator,
      { ...world.tenant, apiKey: `ak_${randomBytes(12).toString('hex')}` },
      { storefrontId: BAD_KEY_STOREFRONT },
    );
    badKeyPlan = await createAzottePlan(catalog, BAD_KEY_STOREFRONT);
    badKeyCustomer = await createAzotteCustomer(service.clients.customers, BAD_KEY_STOREFRONT);

    // A messageCode the table lacks: no emulator control makes one, so an endpoint that answers only that.
    strange = http.createServer((req, res) => {
      req.resume();
      res.writeHead(409, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ status: { messageCode: 'QUOTA_EXCEEDED', message: 'try next month' } }));
    });
    await new Promise<void>((resolve) => strange.listen(0, '127.0.0.1', resolve));
    await createAzotteStorefront(
      storefronts,
      { url: `http://127.0.0.1:${(strange.address() as AddressInfo).port}/azotte` },
      world.tenant,
      { storefrontId: STRANGE_STOREFRONT },
    );
    strangePlan = await createAzottePlan(catalog, STRANGE_STOREFRONT);
    strangeCustomer = await createAzotteCustomer(service.clients.customers, STRANGE_STOREFRONT);
  });

  afterEach(async () => {
    await world.control('/faults/clear', {});
    await world.processingDelay(1);
  });

  afterAll(async () => {
    await world?.close();
    await new Promise<void>((resolve) => (strange ? strange.close(() => resolve()) : resolve()));
    await service?.close();
    await db?.drop();
  });

  const outcome = async (rpc: () => Promise<unknown>): Promise<Outcome> => {
    try {
      await rpc();
      return { code: grpc.status.OK, message: '' };
    } catch (error) {
      const e = error as grpc.ServiceError;
      if (e.code === undefined) throw error;
      return { code: e.code, message: e.details };
    }
  };
  const armCode = (code: string, path: string, count = 1) =>
    world.control('/faults/message-code', { code, path, count });

  // What the RPCs do, and what their callers read afterwards.
  const customerEmail = async () =>
    (await call(service.clients.customers, service.clients.customers.getCustomer, { customerId: world.customerId }))
      .customer!.email;
  /** The email the last UpdateCustomer asked for (a new one each time, so Azotte is always told). */
  let newEmail = '';
  const updateEmail = () => {
    newEmail = `changed+${randomBytes(4).toString('hex')}@example.com`;
    return call(service.clients.customers, service.clients.customers.updateCustomer, {
      customerId: world.customerId,
      email: newEmail,
      address: undefined,
    });
  };
  const subscriptionsOf = async (storefrontId: string, customerId: string) => {
    const subs = service.clients.subscriptions;
    const request = { storefrontId, customerId, statuses: [], pageSize: 100, pageToken: '' };
    return (await call(subs, subs.listSubscriptions, request)).subscriptions.map((s) => s.id);
  };
  const checkout = (overrides = {}) => world.checkout(overrides);
  const cancelActive = () =>
    call(service.clients.subscriptions, service.clients.subscriptions.cancelSubscription, {
      subscriptionId: active.id,
      atPeriodEnd: false,
      reason: 'test',
    });
  const reactivateEnding = () =>
    call(service.clients.subscriptions, service.clients.subscriptions.revokeCancellation, {
      subscriptionId: ending.id,
    });
  /**
   * GetCheckoutSession of a checkout Azotte is still processing, once its Retry-After has passed (it then asks
   * Azotte; the scheduler waits longer here), the status poll answered ORDERED_ITEM_NOT_FOUND.
   */
  const pollUnknownCheckout = async () => {
    await world.processingDelay(1);
    const customerId = await world.createCustomer();
    // Its webhooks lost (checkout DONE sends four), so only the status poll can tell us how the checkout went.
    await world.emulator.idle();
    await world.dropNextWebhooks(4);
    await armCode('ORDERED_ITEM_NOT_FOUND', '/status');
    const id = (await checkout({ customerId })).subscription!.id;
    await world.waitForSession(id, (s) => s.status !== CheckoutSessionStatus.CHECKOUT_SESSION_STATUS_PROCESSING);
  };

  /** A refusal of UpdateCustomer leaves our customer as it was (the provider is told before anything is written). */
  const customerUnchanged = { what: 'our customer', read: customerEmail };
  /** A refused checkout records no subscription. */
  const noNewSubscription = {
    what: 'the customer’s subscriptions',
    read: () => subscriptionsOf(STOREFRONT, world.customerId),
  };
  const stillActive = { what: 'the subscription', read: () => world.subscription(active.id) };
  const stillEnding = { what: 'the subscription', read: () => world.subscription(ending.id) };

  const UNKNOWN_CUSTOMER_MSG = () => `Azotte has no customer '${customerUrn}' in tenant '${world.tenant.tenant}'`;

  type Case = {
    code: string;
    arm?: () => Promise<unknown>;
    rpc: () => Promise<unknown>;
    grpc: grpc.status;
    /** What the message names (a function when it needs the world). */
    message?: string | RegExp | (() => string);
    unchanged?: { what: string; read: () => Promise<unknown> };
  };
  const cases: [string, Case][] = (
    [
      { code: 'SUCCESS', rpc: updateEmail, grpc: grpc.status.OK },
      {
        code: 'BAD_REQUEST',
        arm: () => armCode('BAD_REQUEST', '/customer/update'),
        rpc: updateEmail,
        grpc: grpc.status.INTERNAL,
        unchanged: customerUnchanged,
      },
      {
        code: 'INVALID_REQUEST',
        arm: () => armCode('INVALID_REQUEST', '/customer/update'),
        rpc: updateEmail,
        grpc: grpc.status.INVALID_ARGUMENT,
        message: 'customer.email',
        unchanged: customerUnchanged,
      },
      {
        code: 'CUSTOMER_NOT_FOUND',
        arm: () => armCode('CUSTOMER_NOT_FOUND', '/customer/info'),
        rpc: updateEmail,
        grpc: grpc.status.NOT_FOUND,
        message: UNKNOWN_CUSTOMER_MSG,
        unchanged: customerUnchanged,
      },
      {
        code: 'CUSTOMER_ALREADY_STORED (store: success)',
        // The first store succeeds but its answer is lost; the retried store is CUSTOMER_ALREADY_STORED (item 16).
        arm: () => world.control('/faults', { count: 1, status: 500, after: true, path: '/customer/store' }),
        rpc: async () => {
          const customerId = await world.createCustomer();
          await world.activeSubscription({ customerId });
          expect(await world.customerUrnOf(customerId)).toMatch(/^cu\./);
        },
        grpc: grpc.status.OK,
      },
      {
        code: 'CUSTOMER_ALREADY_STORED (elsewhere)',
        arm: () => armCode('CUSTOMER_ALREADY_STORED', '/customer/update'),
        rpc: updateEmail,
        grpc: grpc.status.ALREADY_EXISTS,
        message: 'an Azotte customer with externalIdentifier',
        unchanged: customerUnchanged,
      },
      {
        code: 'USER_WITH_SAME_EMAIL_EXISTS',
        arm: () => armCode('USER_WITH_SAME_EMAIL_EXISTS', '/customer/update'),
        rpc: updateEmail,
        grpc: grpc.status.ALREADY_EXISTS,
        message: () => `another Azotte customer of this tenant has email '${newEmail}'`,
        unchanged: customerUnchanged,
      },
      {
        code: 'USER_WITH_SAME_PHONE_NUMBER_EXISTS',
        arm: () => armCode('USER_WITH_SAME_PHONE_NUMBER_EXISTS', '/customer/update'),
        rpc: updateEmail,
        grpc: grpc.status.ALREADY_EXISTS,
        message: 'another Azotte customer of this tenant has phone',
        unchanged: customerUnchanged,
      },
      {
        code: 'SQL_DATABASE_FAILURE',
        arm: () => armCode('SQL_DATABASE_FAILURE', '/customer/update', EVERY_ATTEMPT),
        rpc: updateEmail,
        grpc: grpc.status.UNAVAILABLE,
        message: 'Azotte updateCustomer failed: SQL_DATABASE_FAILURE',
        unchanged: customerUnchanged,
      },
      {
        code: 'INTERNAL_SERVER_ERROR',
        arm: () => armCode('INTERNAL_SERVER_ERROR', '/customer/update', EVERY_ATTEMPT),
        rpc: updateEmail,
        grpc: grpc.status.UNAVAILABLE,
        message: 'Azotte updateCustomer failed: INTERNAL_SERVER_ERROR',
        unchanged: customerUnchanged,
      },
      {
        code: 'NO_OFFER_FOUND',
        arm: () => armCode('NO_OFFER_FOUND', '/offer/bundles'),
        rpc: checkout,
        grpc: grpc.status.FAILED_PRECONDITION,
        message: () => `storefront '${STOREFRONT}': Azotte offers no bundle 'bn.00.1' to customer '${customerUrn}'`,
        unchanged: noNewSubscription,
      },
      {
        code: 'INVALID_PROMOTION_CODE',
        rpc: () => checkout({ promotionCode: 'NOT-A-CODE' }),
        grpc: grpc.status.INVALID_ARGUMENT,
        message: /promotion_code.*unknown or expired at Azotte/,
        unchanged: noNewSubscription,
      },
      {
        code: 'STOREFRONT_NOT_FOUND',
        arm: () => armCode('STOREFRONT_NOT_FOUND', '/offer/bundles'),
        rpc: checkout,
        grpc: grpc.status.FAILED_PRECONDITION,
        message: `storefront '${STOREFRONT}': Azotte has no storefront 'st.00.001' (binding storefront_urn)`,
        unchanged: noNewSubscription,
      },
      {
        code: 'OFFER_EXPIRED',
        // Expired, a fresh offer resubmitted once, expired again.
        arm: () => armCode('OFFER_EXPIRED', '/offer/checkout', 2),
        rpc: checkout,
        grpc: grpc.status.UNAVAILABLE,
        message: /expired/,
        unchanged: noNewSubscription,
      },
      {
        code: 'OFFER_NOT_PURCHASABLE',
        arm: () => armCode('OFFER_NOT_PURCHASABLE', '/offer/checkout'),
        rpc: checkout,
        grpc: grpc.status.INTERNAL,
        unchanged: noNewSubscription,
      },
      {
        code: 'CHECK_OUT_PROCESSING',
        arm: () => world.processingDelay(30),
        rpc: async () => {
          const { checkoutSession } = await checkout();
          expect(checkoutSession!.status).toBe(CheckoutSessionStatus.CHECKOUT_SESSION_STATUS_PROCESSING);
        },
        grpc: grpc.status.OK,
      },
      {
        code: 'CHECK_OUT_3DS_REQUIRED',
        rpc: async () => {
          const id = (await checkout({ paymentMethodRef: TEST_CARDS.visa3ds })).subscription!.id;
          const session = await world.waitForSession(
            id,
            (s) => s.status === CheckoutSessionStatus.CHECKOUT_SESSION_STATUS_ACTION_REQUIRED,
          );
          expect(session.nextAction?.redirectUrl).toContain('/3ds/');
        },
        grpc: grpc.status.OK,
      },
      {
        code: 'CHECK_OUT_DONE',
        rpc: async () => {
          const id = (await checkout()).subscription!.id;
          await world.waitForSession(id, (s) => s.status === CheckoutSessionStatus.CHECKOUT_SESSION_STATUS_COMPLETE);
        },
        grpc: grpc.status.OK,
      },
      {
        code: 'CHECK_OUT_FAILED',
        rpc: async () => {
          const id = (await checkout({ paymentMethodRef: TEST_CARDS.declined })).subscription!.id;
          const session = await world.waitForSession(
            id,
            (s) => s.status === CheckoutSessionStatus.CHECKOUT_SESSION_STATUS_FAILED,
          );
          expect(session.failure).toMatchObject({ code: 'CARD_DECLINED' });
        },
        grpc: grpc.status.OK,
      },
      {
        code: 'ORDERED_ITEM_NOT_FOUND',
        rpc: pollUnknownCheckout,
        grpc: grpc.status.NOT_FOUND,
        message: /Azotte has no checkout 'trk_\w+'/,
      },
      {
        code: 'PAYMENT_METHOD_NOT_FOUND',
        arm: () => armCode('PAYMENT_METHOD_NOT_FOUND', '/offer/checkout'),
        rpc: checkout,
        grpc: grpc.status.FAILED_PRECONDITION,
        message: () => `payment method 'pm.test.visa' is not an active method of customer '${customerUrn}' at Azotte`,
        unchanged: noNewSubscription,
      },
      {
        code: 'CARD_DECLINED',
        arm: () => armCode('CARD_DECLINED', '/offer/checkout'),
        rpc: checkout,
        grpc: grpc.status.FAILED_PRECONDITION,
        message: 'Azotte: the card was declined',
        unchanged: noNewSubscription,
      },
      {
        code: 'INVALID_CARD',
        arm: () => armCode('INVALID_CARD', '/offer/checkout'),
        rpc: checkout,
        grpc: grpc.status.INVALID_ARGUMENT,
        message: /payment_method_ref.*Azotte: invalid card/,
        unchanged: noNewSubscription,
      },
      {
        code: 'PSP_UNAVAILABLE',
        arm: () => armCode('PSP_UNAVAILABLE', '/offer/checkout', EVERY_ATTEMPT),
        rpc: checkout,
        grpc: grpc.status.UNAVAILABLE,
        message: "Azotte's payment provider is unavailable",
        unchanged: noNewSubscription,
      },
      {
        code: 'SUBSCRIPTION_NOT_FOUND',
        arm: () => armCode('SUBSCRIPTION_NOT_FOUND', '/subscription/cancel/request'),
        rpc: cancelActive,
        grpc: grpc.status.NOT_FOUND,
        message: () => `Azotte has no subscription '${active.providerRef}'`,
        unchanged: stillActive,
      },
      {
        code: 'SUBSCRIPTION_NOT_CANCELABLE',
        arm: () => armCode('SUBSCRIPTION_NOT_CANCELABLE', '/subscription/cancel/request'),
        rpc: cancelActive,
        grpc: grpc.status.FAILED_PRECONDITION,
        message: () => `Azotte cannot cancel subscription '${active.providerRef}' in state 'Active'`,
        unchanged: stillActive,
      },
      {
        code: 'SUBSCRIPTION_NOT_REACTIVATABLE',
        arm: () => armCode('SUBSCRIPTION_NOT_REACTIVATABLE', '/subscription/reactivate'),
        rpc: reactivateEnding,
        grpc: grpc.status.FAILED_PRECONDITION,
        message: () =>
          `Azotte cannot reactivate subscription '${ending.providerRef}': its period has ended or it was not canceled`,
        unchanged: stillEnding,
      },
      {
        code: '401 (no envelope: a wrong api_key)',
        rpc: () => world.checkout({ storefrontId: BAD_KEY_STOREFRONT, customerId: badKeyCustomer, planId: badKeyPlan }),
        grpc: grpc.status.UNAVAILABLE,
        message: `storefront '${BAD_KEY_STOREFRONT}': Azotte refused the binding's api_key / tenant`,
        unchanged: { what: 'its subscriptions', read: () => subscriptionsOf(BAD_KEY_STOREFRONT, badKeyCustomer) },
      },
      {
        code: 'an unknown messageCode',
        rpc: () =>
          world.checkout({ storefrontId: STRANGE_STOREFRONT, customerId: strangeCustomer, planId: strangePlan }),
        grpc: grpc.status.UNAVAILABLE,
        message: 'Azotte answered unknown messageCode QUOTA_EXCEEDED (HTTP 409)',
        unchanged: { what: 'its subscriptions', read: () => subscriptionsOf(STRANGE_STOREFRONT, strangeCustomer) },
      },
    ] satisfies Case[]
  ).map((c) => [c.code, c]);

  it.each(cases)('%s', async (_name, c) => {
    const before = c.unchanged && (await c.unchanged.read());
    await c.arm?.();
    const got = await outcome(c.rpc);
    expect({ code: grpc.status[got.code] }).toEqual({ code: grpc.status[c.grpc] });
    if (c.message !== undefined) {
      const wanted = typeof c.message === 'function' ? c.message() : c.message;
      if (typeof wanted === 'string') expect(got.message).toContain(wanted);
      else expect(got.message).toMatch(wanted);
    }
    if (c.unchanged) expect(await c.unchanged.read()).toEqual(before);
  });
});
