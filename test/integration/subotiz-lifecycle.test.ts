import { BillingEvent } from '../../src/gen/billing/v1/event';
import { SubscriptionStatus } from '../../src/gen/billing/v1/subscription';
import { brokersFromEnv, KafkaCollector, ReceivedMessage } from '../support/kafka-collector';
import { eventually } from '../support/eventually';
import { FAST_WEBHOOKS, subotizWorld, SubotizWorld } from '../support/subotiz-world';
import { createTestDatabase, TestDatabase } from '../support/test-database';
import { call, startTestService, TestService } from '../support/test-service';

const DAY = 86_400;

/** One subscription's whole life over gRPC on Subotiz, with every step's Kafka events. */
describe('a Subotiz subscription from checkout to cancellation', () => {
  let db: TestDatabase;
  let service: TestService;
  let world: SubotizWorld;
  let collector: KafkaCollector;

  beforeAll(async () => {
    db = await createTestDatabase();
    service = await startTestService({
      DATABASE_URL: db.url,
      KAFKA_BROKERS: brokersFromEnv().join(','),
      ...FAST_WEBHOOKS,
    });
    world = await subotizWorld(service);
    collector = new KafkaCollector(
      brokersFromEnv(),
      ['subscriptions', 'payments', 'customers'].map((s) => `${service.topicPrefix}.${s}.v1`),
    );
    await collector.start();
  });

  afterAll(async () => {
    await collector?.stop();
    await world?.close();
    await service?.close();
    await db?.drop();
  });

  const subs = () => service.clients.subscriptions;
  const getSubscription = (id: string) => world.subscription(id);
  const waitForStatus = (
    id: string,
    status: SubscriptionStatus,
    extra: (s: Awaited<ReturnType<typeof getSubscription>>) => boolean = () => true,
  ) =>
    eventually(
      () => getSubscription(id),
      (s) => s.status === status && extra(s),
    );
  /** Moves the emulator's clock to just past `date` (renewals, dunning and period ends happen on the way). */
  const advancePast = async (date: Date, extraSeconds = 60) => {
    const { now } = await world.control<{ now: string }>('/clock');
    const seconds = Math.ceil((date.getTime() - new Date(now).getTime()) / 1000) + extraSeconds;
    await world.control('/clock/advance', { seconds });
  };
  const check = async (feature: string) =>
    call(world.entitlements, world.entitlements.checkEntitlement, {
      customerId: world.customerId,
      featureKey: feature,
    });

  it('checkout → ACTIVE → renewal → PAST_DUE → recovered → cancel at period end → CANCELED, each step on Kafka', async () => {
    const checkout = await call(
      subs(),
      subs().createCheckoutSession,
      {
        storefrontId: world.storefrontId,
        customerId: world.customerId,
        mode: 0,
        planId: world.planId,
        quantity: 1,
        amount: undefined,
        description: '',
        successUrl: 'https://shop.example/thanks',
        cancelUrl: 'https://shop.example/cart',
        paymentMethodRef: '',
        uiMode: 0,
        promotionCode: '',
      },
      { 'idempotency-key': 'checkout-1' },
    );
    const id = checkout.subscription!.id;
    expect(checkout.subscription!.status).toBe(SubscriptionStatus.SUBSCRIPTION_STATUS_INCOMPLETE);
    expect(checkout.subscription!.provider).toBe('subotiz');
    expect(checkout.checkoutSession!.url).toContain(world.emulator.url);
    expect((await check('pro')).granted).toBe(false);

    // The customer pays on the hosted page.
    await world.control(`/sessions/${checkout.checkoutSession!.providerRef}/complete`, {});
    const active = await waitForStatus(id, SubscriptionStatus.SUBSCRIPTION_STATUS_ACTIVE);
    expect(active.providerRef).not.toBe('');
    await eventually(
      () => check('pro'),
      (c) => c.granted,
    );
    expect((await check('export')).granted).toBe(true);

    // A month later the renewal is charged.
    await advancePast(active.currentPeriodEnd!);
    const renewed = await eventually(
      () => getSubscription(id),
      (s) => s.currentPeriodEnd!.getTime() > active.currentPeriodEnd!.getTime(),
    );
    expect(renewed.status).toBe(SubscriptionStatus.SUBSCRIPTION_STATUS_ACTIVE);

    // The next renewal fails once: PAST_DUE, still entitled while dunning runs.
    await world.control('/charges/fail-next', { count: 1 });
    await advancePast(renewed.currentPeriodEnd!);
    await waitForStatus(id, SubscriptionStatus.SUBSCRIPTION_STATUS_PAST_DUE);
    expect((await check('pro')).granted).toBe(true);

    // The dunning retry a day later succeeds.
    await world.control('/clock/advance', { seconds: DAY + 60 });
    const recovered = await waitForStatus(id, SubscriptionStatus.SUBSCRIPTION_STATUS_ACTIVE);

    // Cancel at the period end: access until then, and the time says so.
    const scheduled = await call(subs(), subs().cancelSubscription, {
      subscriptionId: id,
      atPeriodEnd: true,
      reason: 'too expensive',
    });
    expect(scheduled.subscription!.cancelAtPeriodEnd).toBe(true);
    expect(scheduled.subscription!.status).toBe(SubscriptionStatus.SUBSCRIPTION_STATUS_ACTIVE);
    const until = await check('pro');
    expect(until.granted).toBe(true);
    expect(until.activeUntil?.getTime()).toBe(recovered.currentPeriodEnd!.getTime());

    await advancePast(recovered.currentPeriodEnd!);
    const canceled = await waitForStatus(id, SubscriptionStatus.SUBSCRIPTION_STATUS_CANCELED);
    expect(canceled.endedAt).toBeDefined();
    await eventually(
      () => check('pro'),
      (c) => !c.granted,
    );

    // Kafka: the subscription's key carries its whole life in order, numbered without gaps.
    const ofSubscription = (ms: ReceivedMessage[]) => ms.filter((m) => m.key === id);
    const messages = ofSubscription(
      await collector.waitFor((ms) =>
        ofSubscription(ms).some((m) => m.headers.ce_type === 'billing.subscription.canceled'),
      ),
    );
    const byTopicOrder = [...messages].sort((a, b) => Number(a.headers.ce_sequence) - Number(b.headers.ce_sequence));
    const sequences = byTopicOrder.map((m) => Number(m.headers.ce_sequence));
    expect(sequences).toEqual(sequences.map((_, i) => i + 1));
    const lifecycle = byTopicOrder.map((m) => m.headers.ce_type!).filter((t) => t.startsWith('billing.subscription.'));
    expect(lifecycle).toEqual([
      'billing.subscription.created',
      'billing.subscription.activated',
      'billing.subscription.renewed',
      'billing.subscription.past_due',
      // The dunning retry pays the new period: active again, and renewed.
      'billing.subscription.activated',
      'billing.subscription.renewed',
      'billing.subscription.cancellation_scheduled',
      'billing.subscription.canceled',
    ]);
    const types = byTopicOrder.map((m) => m.headers.ce_type);
    expect(types.filter((t) => t === 'billing.payment.succeeded')).toHaveLength(3);
    expect(types).toContain('billing.payment.failed');
    expect(types.filter((t) => t === 'billing.invoice.paid').length).toBeGreaterThanOrEqual(3);
    // Within one topic (one partition per key), messages arrive in sequence order.
    for (const topic of new Set(messages.map((m) => m.topic))) {
      const inTopic = messages.filter((m) => m.topic === topic).map((m) => Number(m.headers.ce_sequence));
      expect(inTopic).toEqual([...inTopic].sort((a, b) => a - b));
    }
    const canceledEvent = BillingEvent.decode(
      byTopicOrder.find((m) => m.headers.ce_type === 'billing.subscription.canceled')!.value,
    );
    expect(canceledEvent.actor).toBe('provider:subotiz');
    expect(canceledEvent.providerEventId).not.toBe('');
    expect(canceledEvent.subscription?.status).toBe(SubscriptionStatus.SUBSCRIPTION_STATUS_CANCELED);

    // Entitlements: granted for both plan features, then revoked for both, keyed by the customer.
    const entitlementTypes = (
      await collector.waitFor(
        (ms) =>
          ms.filter((m) => m.key === world.customerId && m.headers.ce_type === 'billing.entitlement.revoked').length >=
          2,
      )
    )
      .filter((m) => m.key === world.customerId && m.headers.ce_type?.startsWith('billing.entitlement.'))
      .map((m) => m.headers.ce_type);
    expect(entitlementTypes).toEqual([
      'billing.entitlement.granted',
      'billing.entitlement.granted',
      'billing.entitlement.revoked',
      'billing.entitlement.revoked',
    ]);
  });
});
