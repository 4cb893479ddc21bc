import { IGNORED_FOREIGN } from '../../src/app/inbound/webhook-intake';
import { SubscriptionStatus } from '../../src/gen/billing/v1/subscription';
import { eventually } from '../support/eventually';
import { fakeProvider } from '../support/fake-provider';
import { fakeStorefront, FakeStorefront } from '../support/fake-storefront';
import { brokersFromEnv, KafkaCollector } from '../support/kafka-collector';
import { FAST_WEBHOOKS } from '../support/subotiz-world';
import { createTestDatabase, TestDatabase, withClient } from '../support/test-database';
import { call, eventTypesOf, startTestService, TestService } from '../support/test-service';

/**
 * Subscriptions made at the provider without a checkout of ours (its portal, another integration): adopted when
 * they are live, belong to one of the storefront's customers at the provider and name one of its plans; otherwise
 * recorded and ignored, as before. Real ingress, PostgreSQL, gRPC and Kafka.
 */
describe('adopting subscriptions made at the provider', () => {
  const fake = fakeProvider('fakeadopt');
  let db: TestDatabase;
  let service: TestService;
  let store: FakeStorefront;
  let collector: KafkaCollector;
  /** The storefront customer's reference at the fake (learned by its first checkout). */
  let customerRef = '';

  beforeAll(async () => {
    db = await createTestDatabase();
    service = await startTestService(
      { DATABASE_URL: db.url, KAFKA_BROKERS: brokersFromEnv().join(','), ...FAST_WEBHOOKS },
      { extraProviders: [fake.module] },
    );
    store = await fakeStorefront(service, fake, 'fake-adopt');
    collector = new KafkaCollector(
      brokersFromEnv(),
      ['subscriptions', 'customers'].map((s) => `${service.topicPrefix}.${s}.v1`),
    );
    await collector.start();
    const first = await store.activeSubscription();
    customerRef = fake.subscription(first.providerRef).customerRef!;
  });

  afterAll(async () => {
    await collector?.stop();
    store?.close();
    await service?.close();
    await db?.drop();
  });

  const inboxRow = (id: string) =>
    eventually(
      () =>
        withClient(
          db.url,
          async (c) =>
            (
              await c.query<{ status: string; outcome: string }>(
                'select status, outcome from webhook_inbox where provider_event_id = $1',
                [id],
              )
            ).rows[0],
        ),
      (row) => row?.status === 'PROCESSED',
    );
  const ourIdOf = (ref: string) =>
    withClient(
      db.url,
      async (c) =>
        (await c.query<{ id: string }>('select id from subscriptions where provider_ref = $1', [ref])).rows[0]?.id,
    );

  it('adopts a live subscription of our customer on our plan: created + activated, entitlements, audit', async () => {
    const elsewhere = fake.createElsewhere(store.storefrontId, { customerRef, planRef: 'price_pro', quantity: 2 });
    expect(await fake.send(store.storefrontId, fake.stateWebhook(elsewhere, { id: 'adopt-1' }))).toBe(200);
    expect((await inboxRow('adopt-1'))!.outcome).toMatch(new RegExp(`^adopted ${elsewhere.ref} as sub_`));

    const id = (await ourIdOf(elsewhere.ref))!;
    const { subscriptions } = service.clients;
    const { subscription } = await call(subscriptions, subscriptions.getSubscription, { subscriptionId: id });
    expect(subscription).toMatchObject({
      id,
      customerId: store.customerId,
      planId: store.proPlanId,
      providerRef: elsewhere.ref,
      provider: 'fakeadopt',
      quantity: 2,
      status: SubscriptionStatus.SUBSCRIPTION_STATUS_ACTIVE,
    });
    expect(await eventTypesOf(service, id)).toEqual(['billing.subscription.created', 'billing.subscription.activated']);
    await collector.waitFor((ms) =>
      ['billing.subscription.created', 'billing.subscription.activated'].every((type) =>
        ms.some((m) => m.headers.ce_subject === id && m.headers.ce_type === type),
      ),
    );
    const check = await call(store.entitlements, store.entitlements.checkEntitlement, {
      customerId: store.customerId,
      featureKey: 'export',
    });
    expect(check).toMatchObject({ granted: true, subscriptionId: id });
    const audit = await withClient(
      db.url,
      async (c) =>
        (await c.query("select actor from audit_log where resource_id = $1 and action = 'SubscriptionAdopted'", [id]))
          .rows,
    );
    expect(audit).toEqual([{ actor: 'provider:fakeadopt' }]);

    // Its next webhook applies to the adopted subscription like any other.
    fake.update(elsewhere.ref, { cancelAtPeriodEnd: true });
    await fake.sendState(fake.subscription(elsewhere.ref));
    await store.waitFor(id, (s) => s.cancelAtPeriodEnd);
  });

  it.each([
    ['a customer that is not ours', () => ({ customerRef: 'fcus_someone_else', planRef: 'price_basic' })],
    ['a plan that is not ours', () => ({ customerRef, planRef: 'price_unknown' })],
    ['a subscription that is over', () => ({ customerRef, planRef: 'price_basic', status: 'CANCELED' as const })],
  ])('ignores one of %s: recorded, nothing created', async (_, fields) => {
    const elsewhere = fake.createElsewhere(store.storefrontId, fields());
    const id = `ignore-${elsewhere.ref}`;
    expect(await fake.send(store.storefrontId, fake.stateWebhook(elsewhere, { id }))).toBe(200);
    expect((await inboxRow(id))!.outcome).toContain(IGNORED_FOREIGN);
    expect(await ourIdOf(elsewhere.ref)).toBeUndefined();
  });
});
