import { status } from '@grpc/grpc-js';
import { CapabilitySupport } from '../../src/gen/billing/v1/storefront';
import { CheckoutUiMode, SubscriptionStatus } from '../../src/gen/billing/v1/subscription';
import { azotteGrpcWorld, type AzotteGrpcWorld } from '../support/azotte-grpc-world';
import { brokersFromEnv } from '../support/kafka-collector';
import { paytikoWorld, type PaytikoWorld } from '../support/paytiko-world';
import { createTestDatabase, type TestDatabase, withClient } from '../support/test-database';
import { call, callError, startTestService, type TestService } from '../support/test-service';

/**
 * What GetStorefront's capability list (and README's table) says a provider cannot do, the RPC refuses: UNIMPLEMENTED
 * naming storefront, provider and operation, before anything is read, written or sent. Over gRPC, real PostgreSQL,
 * and HTTP to the Paytiko and Azotte emulators.
 */
describe('capability honesty: UNIMPLEMENTED where the capability list says so', () => {
  let db: TestDatabase;
  let service: TestService;
  let paytiko: PaytikoWorld;
  let azotte: AzotteGrpcWorld;

  beforeAll(async () => {
    db = await createTestDatabase();
    service = await startTestService({ DATABASE_URL: db.url, KAFKA_BROKERS: brokersFromEnv().join(',') });
    paytiko = await paytikoWorld(service, { storefrontId: 'honest-paytiko' });
    azotte = await azotteGrpcWorld(service, { storefrontId: 'honest-azotte' });
  });

  afterAll(async () => {
    await paytiko?.close();
    await azotte?.close();
    await service?.close();
    await db?.drop();
  });

  const subs = () => service.clients.subscriptions;
  /** What GetStorefront lists for `operation` (undefined: not listed, i.e. UNIMPLEMENTED unless our records serve). */
  const listed = async (storefrontId: string, operation: string) => {
    const { storefronts } = service.clients;
    const { storefront } = await call(storefronts, storefronts.getStorefront, { storefrontId });
    return storefront!.capabilities.find((c) => c.operation === operation)?.support;
  };
  const rows = (sql: string, params: unknown[]) =>
    withClient(db.url, async (c) => (await c.query(sql, params)).rows as Record<string, unknown>[]);

  it('GetUsage on Paytiko answers UNIMPLEMENTED naming storefront, provider and operation, as RecordUsage does', async () => {
    expect(await listed('honest-paytiko', 'GetUsage')).toBeUndefined();
    expect(await listed('honest-paytiko', 'RecordUsage')).toBeUndefined();
    const { subscription } = await paytiko.checkout();
    const id = subscription!.id;

    const read = await callError(subs(), subs().getUsage, {
      subscriptionId: id,
      periodStart: undefined,
      periodEnd: undefined,
    });
    const recorded = await callError(subs(), subs().recordUsage, {
      subscriptionId: id,
      quantity: 1n,
      timestamp: undefined,
    });
    expect(read.code).toBe(status.UNIMPLEMENTED);
    expect(read.details).toBe("GetUsage is not supported by provider 'paytiko' (storefront 'honest-paytiko')");
    expect(recorded.code).toBe(status.UNIMPLEMENTED);
    expect(read.details).toBe(recorded.details.replace('RecordUsage', 'GetUsage'));
    // Refused before any validation of the period too: there is no usage to read, right or wrong.
    const badPeriod = await callError(subs(), subs().getUsage, {
      subscriptionId: id,
      periodStart: new Date('2026-02-01T00:00:00Z'),
      periodEnd: new Date('2026-01-01T00:00:00Z'),
    });
    expect(badPeriod.code).toBe(status.UNIMPLEMENTED);
    // An unknown subscription is still NOT_FOUND: which provider to ask about is only known from the subscription.
    const unknown = await callError(subs(), subs().getUsage, {
      subscriptionId: 'sub_unknown',
      periodStart: undefined,
      periodEnd: undefined,
    });
    expect(unknown.code).toBe(status.NOT_FOUND);
  });

  it('GetUsage on Azotte answers UNIMPLEMENTED too', async () => {
    expect(await listed('honest-azotte', 'GetUsage')).toBeUndefined();
    const subscription = await azotte.activeSubscription();
    const read = await callError(subs(), subs().getUsage, {
      subscriptionId: subscription.id,
      periodStart: undefined,
      periodEnd: undefined,
    });
    expect(read.code).toBe(status.UNIMPLEMENTED);
    expect(read.details).toBe("GetUsage is not supported by provider 'azotte' (storefront 'honest-azotte')");
  });

  it('an explicit hosted ui_mode on server-to-server Azotte is UNIMPLEMENTED; nothing is written or sent', async () => {
    expect(await listed('honest-azotte', 'CreateCheckoutSession.hosted')).toBeUndefined();
    expect(await listed('honest-azotte', 'CreateCheckoutSession.server_to_server')).toBe(
      CapabilitySupport.CAPABILITY_SUPPORT_NATIVE,
    );
    const customer = (await call(service.clients.customers, service.clients.customers.createCustomer, {
      storefrontId: 'honest-azotte',
      externalRef: '',
      email: 'hosted-asker@example.com',
      name: 'Grace Hopper',
      phone: '',
      country: 'DE',
      address: undefined,
    }))!.customer!.id;
    const counts = async () =>
      Promise.all(
        ['subscriptions', 'checkout_sessions'].map(
          async (table) => (await rows(`SELECT id FROM ${table} WHERE storefront_id = $1`, ['honest-azotte'])).length,
        ),
      );
    const before = await counts();
    const refused = await callError(
      subs(),
      subs().createCheckoutSession,
      azotte.checkoutRequest({ customerId: customer, uiMode: CheckoutUiMode.CHECKOUT_UI_MODE_HOSTED }),
    );
    expect(refused.code).toBe(status.UNIMPLEMENTED);
    expect(refused.details).toBe(
      "CreateCheckoutSession.hosted is not supported by provider 'azotte' (storefront 'honest-azotte')",
    );
    // No subscription, no checkout session, and no customer made at Azotte (the provider was never asked).
    expect(await rows('SELECT id FROM subscriptions WHERE customer_id = $1', [customer])).toEqual([]);
    expect(await counts()).toEqual(before);
    const [stored] = await rows('SELECT provider_refs::text AS refs FROM customers WHERE id = $1', [customer]);
    expect(JSON.parse(stored!.refs as string)).toEqual({});

    // Unspecified ui_mode keeps the provider's own kind of checkout: the server-to-server charge of the stored card.
    const sold = await call(
      subs(),
      subs().createCheckoutSession,
      azotte.checkoutRequest({ customerId: customer, uiMode: CheckoutUiMode.CHECKOUT_UI_MODE_UNSPECIFIED }),
    );
    expect(sold.subscription!.status).toBe(SubscriptionStatus.SUBSCRIPTION_STATUS_INCOMPLETE);
    expect(await rows('SELECT id FROM subscriptions WHERE customer_id = $1', [customer])).toHaveLength(1);
  });

  it('an explicit hosted ui_mode stays accepted where the provider has a hosted page (Paytiko)', async () => {
    expect(await listed('honest-paytiko', 'CreateCheckoutSession.hosted')).toBe(
      CapabilitySupport.CAPABILITY_SUPPORT_NATIVE,
    );
    const answer = await paytiko.checkout({ uiMode: CheckoutUiMode.CHECKOUT_UI_MODE_HOSTED });
    expect(answer.checkoutSession!.url).toMatch(/^http/);
    expect(answer.subscription!.status).toBe(SubscriptionStatus.SUBSCRIPTION_STATUS_INCOMPLETE);
  });
});
