import { PaymentStatus } from '../../src/gen/billing/v1/payment';
import { CheckoutSessionStatus, SubscriptionStatus } from '../../src/gen/billing/v1/subscription';
import {
  AZOTTE_PRO_BUNDLE,
  azotteWorld,
  AzotteWorld,
  AzotteWorldOptions,
  TEST_CARDS,
  threeDIdentifierOf,
} from '../support/azotte-world';
import { eventually } from '../support/eventually';
import { brokersFromEnv, KafkaCollector, ReceivedMessage, typesInSequence } from '../support/kafka-collector';
import { FAST_WEBHOOKS } from '../support/subotiz-world';
import { createTestDatabase, TestDatabase } from '../support/test-database';
import { call, startTestService, TestService } from '../support/test-service';

const S = SubscriptionStatus;
const CS = CheckoutSessionStatus;
const DAY = 86_400;

/**
 * Azotte subscriptions over gRPC, PostgreSQL, Kafka and HTTP to the emulator: the server-to-server checkout with
 * its 3-D Secure step, renewals and dunning on the emulator's clock, cancel at period end and its revocation
 * (reactivate), and an upgrade through Replace. Each test has a world (emulator, storefront) of its own, so one
 * test's clock never moves another's.
 */
describe('Azotte subscription lifecycle', () => {
  let db: TestDatabase;
  let service: TestService;
  let collector: KafkaCollector;
  const worlds: AzotteWorld[] = [];

  beforeAll(async () => {
    db = await createTestDatabase();
    service = await startTestService({
      DATABASE_URL: db.url,
      KAFKA_BROKERS: brokersFromEnv().join(','),
      ...FAST_WEBHOOKS,
      SCHEDULER_POLL_INTERVAL_MS: '100',
    });
    collector = new KafkaCollector(
      brokersFromEnv(),
      ['subscriptions', 'payments', 'customers', 'entitlements'].map((s) => `${service.topicPrefix}.${s}.v1`),
    );
    await collector.start();
  });

  afterAll(async () => {
    await collector?.stop();
    for (const world of worlds) await world.close();
    await service?.close();
    await db?.drop();
  });

  const world = async (storefrontId: string, options: Omit<AzotteWorldOptions, 'storefrontId'> = {}) => {
    const started = await azotteWorld(service, { storefrontId, ...options });
    worlds.push(started);
    return started;
  };
  const subs = () => service.clients.subscriptions;
  const granted = async (w: AzotteWorld, featureKey: string) =>
    (await call(w.entitlements, w.entitlements.checkEntitlement, { customerId: w.customerId, featureKey })).granted;
  /** The subscription's events on Kafka, in ce_sequence order, once `done` holds and no number is missing. */
  const eventsOf = async (id: string, done: (types: string[]) => boolean) => {
    const sequencesOf = (ms: ReceivedMessage[]) =>
      ms
        .filter((m) => m.key === id)
        .map((m) => Number(m.headers.ce_sequence))
        .sort((a, b) => a - b);
    const messages = await collector.waitFor(
      (ms) => done(typesInSequence(ms, id)) && sequencesOf(ms).length === sequencesOf(ms).at(-1),
    );
    // Every event of the subscription's key, numbered from 1 without gaps or repeats.
    const sequences = sequencesOf(messages);
    expect(sequences).toEqual(sequences.map((_, i) => i + 1));
    return typesInSequence(messages, id);
  };
  const subscriptionEvents = (types: string[]) => types.filter((t) => t.startsWith('billing.subscription.'));

  it('3-D Secure: PROCESSING → ACTION_REQUIRED with the challenge → passed → COMPLETE and ACTIVE, entitled', async () => {
    const w = await world('az-3ds');
    const answer = await w.checkout({ paymentMethodRef: TEST_CARDS.visa3ds });
    expect(answer.checkoutSession!.status).toBe(CS.CHECKOUT_SESSION_STATUS_PROCESSING);
    expect(answer.checkoutSession!.provider).toBe('azotte');
    expect(answer.checkoutSession!.providerRef).toMatch(/^trk_/);
    const id = answer.subscription!.id;
    expect(answer.subscription!.status).toBe(S.SUBSCRIPTION_STATUS_INCOMPLETE);

    const challenged = await w.waitForSession(id, (s) => s.status === CS.CHECKOUT_SESSION_STATUS_ACTION_REQUIRED);
    expect(challenged.nextAction?.redirectUrl).toMatch(new RegExp(`^${w.emulator.url}/3ds/3ds_`));
    // The page the customer is sent to is the emulator's challenge (item 46).
    const page = await fetch(challenged.nextAction!.redirectUrl!);
    expect(page.status).toBe(200);
    expect((await w.subscription(id)).status).toBe(S.SUBSCRIPTION_STATUS_INCOMPLETE);
    expect(await granted(w, 'basic')).toBe(false);

    await w.decide3ds(threeDIdentifierOf(challenged)!, 'pass');
    const complete = await w.waitForSession(id, (s) => s.status === CS.CHECKOUT_SESSION_STATUS_COMPLETE);
    expect(complete.nextAction).toBeUndefined();
    const active = await w.waitFor(id, (s) => s.status === S.SUBSCRIPTION_STATUS_ACTIVE);
    expect(active.providerRef).toMatch(/^or_/);
    expect(active.planId).toBe(w.planId);
    expect(await eventually(() => granted(w, 'basic'), Boolean)).toBe(true);
    expect(await granted(w, 'pro')).toBe(false);
    const stored = await w.storedSubscription(active.providerRef);
    expect(stored).toMatchObject({ state: 'Active', correlationId: id, bundleUrn: 'bn.00.1' });
    const payments = await eventually(
      () => w.paymentsOf(id),
      (ps) => ps.length === 1,
    );
    expect(payments[0]).toMatchObject({
      status: PaymentStatus.PAYMENT_STATUS_SUCCEEDED,
      amount: expect.objectContaining({ currencyCode: 'EUR', amountDecimal: '9.99' }),
    });
    const types = await eventsOf(id, (t) => t.includes('billing.payment.succeeded'));
    expect(subscriptionEvents(types)).toEqual(['billing.subscription.created', 'billing.subscription.activated']);
  });

  it('failed 3-D Secure: the session FAILED with the card’s failure; the subscription never starts', async () => {
    const w = await world('az-3ds-fail');
    const id = (await w.checkout({ paymentMethodRef: TEST_CARDS.visa3ds })).subscription!.id;
    const challenged = await w.fail3ds(id);
    expect(challenged.status).toBe(CS.CHECKOUT_SESSION_STATUS_ACTION_REQUIRED);

    const failed = await w.waitForSession(id, (s) => s.status === CS.CHECKOUT_SESSION_STATUS_FAILED);
    expect(failed.failure).toMatchObject({ code: expect.stringMatching(/declined/i) });
    expect(failed.nextAction).toBeUndefined();
    // What the customer sees: no subscription running, no access, nothing charged.
    const subscription = await w.subscription(id);
    // The core leaves it INCOMPLETE (to expire with the checkout): it never activated.
    expect(subscription.status).toBe(S.SUBSCRIPTION_STATUS_INCOMPLETE);
    expect(subscription.providerRef).toBe('');
    expect(await granted(w, 'basic')).toBe(false);
    expect((await w.paymentsOf(id)).filter((p) => p.status === PaymentStatus.PAYMENT_STATUS_SUCCEEDED)).toEqual([]);
    const types = await eventsOf(id, (t) => t.length > 0);
    expect(subscriptionEvents(types)).not.toContain('billing.subscription.activated');
  });

  it('renews on the clock; a failed renewal is PAST_DUE (still entitled) until the retry recovers it', async () => {
    const w = await world('az-renewals');
    const first = await w.activeSubscription();
    const id = first.id;

    // A renewal: a new period, paid.
    await w.advancePast(first.currentPeriodEnd!);
    const renewed = await w.waitFor(id, (s) => s.currentPeriodEnd!.getTime() > first.currentPeriodEnd!.getTime());
    expect(renewed.status).toBe(S.SUBSCRIPTION_STATUS_ACTIVE);
    await eventsOf(
      id,
      (t) =>
        t.includes('billing.subscription.renewed') && t.filter((x) => x === 'billing.payment.succeeded').length === 2,
    );

    // The next renewal is declined: PAST_DUE, still entitled while Azotte retries; then the retry a day later succeeds.
    await w.failNextCharges(1);
    await w.advancePast(renewed.currentPeriodEnd!);
    const pastDue = await w.waitFor(id, (s) => s.status === S.SUBSCRIPTION_STATUS_PAST_DUE);
    expect(pastDue.currentPeriodEnd).toEqual(renewed.currentPeriodEnd);
    expect((await w.storedSubscription(first.providerRef)).state).toBe('PastDue');
    expect(await granted(w, 'basic')).toBe(true);

    await w.advanceClock(DAY + 60);
    const recovered = await w.waitFor(id, (s) => s.status === S.SUBSCRIPTION_STATUS_ACTIVE);
    expect(recovered.currentPeriodEnd!.getTime()).toBeGreaterThan(renewed.currentPeriodEnd!.getTime());
    expect((await w.storedSubscription(first.providerRef)).state).toBe('Active');

    const payments = await eventually(
      () => w.paymentsOf(id),
      (ps) => ps.length === 4,
    );
    expect(payments.map((p) => p.status).sort()).toEqual(
      [
        PaymentStatus.PAYMENT_STATUS_SUCCEEDED,
        PaymentStatus.PAYMENT_STATUS_SUCCEEDED,
        PaymentStatus.PAYMENT_STATUS_FAILED,
        PaymentStatus.PAYMENT_STATUS_SUCCEEDED,
      ].sort(),
    );
    const types = await eventsOf(
      id,
      (t) =>
        t.filter((x) => x === 'billing.subscription.renewed').length === 2 &&
        t.filter((x) => x === 'billing.payment.succeeded').length === 3,
    );
    expect(subscriptionEvents(types)).toEqual([
      'billing.subscription.created',
      'billing.subscription.activated',
      'billing.subscription.renewed',
      'billing.subscription.past_due',
      'billing.subscription.activated',
      'billing.subscription.renewed',
    ]);
    expect(types).toContain('billing.payment.failed');
  });

  it('cancel at period end is scheduled at Azotte; RevokeCancellation reactivates it there', async () => {
    const w = await world('az-cancel');
    const first = await w.activeSubscription();
    const id = first.id;
    // The grant comes by its own webhook, after the one that activated the subscription.
    await eventually(
      () => granted(w, 'basic'),
      (isGranted) => isGranted,
    );

    const scheduled = (
      await call(subs(), subs().cancelSubscription, { subscriptionId: id, atPeriodEnd: true, reason: 'too dear' })
    ).subscription!;
    expect(scheduled).toMatchObject({ status: S.SUBSCRIPTION_STATUS_ACTIVE, cancelAtPeriodEnd: true });
    expect(await w.storedSubscription(first.providerRef)).toMatchObject({
      state: 'Canceled',
      cancelationMethod: 'EndOfPeriod',
    });
    expect(await granted(w, 'basic')).toBe(true);

    const revoked = (await call(subs(), subs().revokeCancellation, { subscriptionId: id })).subscription!;
    expect(revoked).toMatchObject({ status: S.SUBSCRIPTION_STATUS_ACTIVE, cancelAtPeriodEnd: false });
    expect(await w.storedSubscription(first.providerRef)).toMatchObject({
      state: 'Reactivated',
      cancelationMethod: null,
      endDate: null,
    });
    // The webhooks Azotte sent for both (canceled, reactivated) leave it as RevokeCancellation answered.
    await eventually(
      () => w.webhookLog(),
      (log) => log.some((e) => e.type === 'subscription.reactivated' && e.delivered === true),
    );
    expect(await w.subscription(id)).toMatchObject({ status: S.SUBSCRIPTION_STATUS_ACTIVE, cancelAtPeriodEnd: false });

    const types = await eventsOf(id, (t) => t.includes('billing.subscription.cancellation_revoked'));
    expect(subscriptionEvents(types)).toEqual([
      'billing.subscription.created',
      'billing.subscription.activated',
      'billing.subscription.cancellation_scheduled',
      'billing.subscription.cancellation_revoked',
    ]);
  });

  it('ChangePlan upgrades through Replace: accepted, then plan_changed, followed to the new order', async () => {
    const w = await world('az-upgrade');
    const basic = await w.activeSubscription();
    const id = basic.id;
    const oldOrder = basic.providerRef;

    const answer = (await call(subs(), subs().changePlan, { subscriptionId: id, planId: w.proPlanId })).subscription!;
    // Accepted: the answer is the subscription as it stands; the change lands when Azotte's checkout is done.
    expect(answer.id).toBe(id);
    expect(answer.status).toBe(S.SUBSCRIPTION_STATUS_ACTIVE);

    const changed = await w.waitFor(id, (s) => s.planId === w.proPlanId);
    expect(changed.status).toBe(S.SUBSCRIPTION_STATUS_ACTIVE);
    // At Azotte: the old order Canceled and replaced by a new one on the pro bundle.
    const replaced = await w.storedSubscription(oldOrder);
    expect(replaced).toMatchObject({ state: 'Canceled', replacedByOrderIdentifier: expect.stringMatching(/^or_/) });
    const newOrder = replaced.replacedByOrderIdentifier as string;
    expect(await w.storedSubscription(newOrder)).toMatchObject({
      state: 'Active',
      originalOrderIdentifier: oldOrder,
      initialAssignmentType: 'Replace',
      bundleUrn: AZOTTE_PRO_BUNDLE.bundleUrn,
    });
    expect(await eventually(() => granted(w, 'pro'), Boolean)).toBe(true);
    expect(await granted(w, 'basic')).toBe(true);

    const types = await eventsOf(
      id,
      (t) =>
        t.includes('billing.subscription.plan_changed') &&
        t.filter((x) => x === 'billing.payment.succeeded').length === 2,
    );
    const lifecycle = subscriptionEvents(types);
    expect(lifecycle.slice(0, 2)).toEqual(['billing.subscription.created', 'billing.subscription.activated']);
    expect(lifecycle.filter((t) => t === 'billing.subscription.plan_changed')).toHaveLength(1);
    // The old order's end is not ours: the subscription lives on as the new order.
    expect(lifecycle).not.toContain('billing.subscription.canceled');
    const payments = await w.paymentsOf(id);
    expect(payments.map((p) => p.amount?.amountDecimal).sort()).toEqual(['19.99', '9.99']);

    // README 32: our provider reference moved to the new orderIdentifier.
    const now = await w.subscription(id);
    expect(now).toMatchObject({ planId: w.proPlanId, status: S.SUBSCRIPTION_STATUS_ACTIVE });
    expect(now.providerRef).toBe(newOrder);
  });

  it('Azotte’s webhooks outrun its answer to CreateCheckoutSession: still our one subscription, ACTIVE', async () => {
    const w = await world('az-race', { processingDelaySeconds: 0, webhooksBeforeCheckoutAnswer: true });
    const answer = await w.checkout();
    const id = answer.subscription!.id;
    const active = await w.waitFor(id, (s) => s.status === S.SUBSCRIPTION_STATUS_ACTIVE);
    expect(active.providerRef).toMatch(/^or_/);
    // The customer has the one subscription they bought, not a second one adopted from its own events.
    const { subscriptions } = await call(subs(), subs().listSubscriptions, {
      storefrontId: w.storefrontId,
      customerId: w.customerId,
      statuses: [],
      pageSize: 50,
      pageToken: '',
    });
    expect(subscriptions.map((s) => s.id)).toEqual([id]);
  });
});
