import { randomBytes } from 'node:crypto';
import type { PaytikoEmulator } from '../../adapters/paytiko/emulator';
import { PaymentStatus } from '../../src/gen/billing/v1/payment';
import { Subscription, SubscriptionStatus } from '../../src/gen/billing/v1/subscription';
import { eventually } from '../support/eventually';
import { brokersFromEnv, KafkaCollector } from '../support/kafka-collector';
import { freePort } from '../support/free-port';
import { paytikoStore, PaytikoStore, SharedClock } from '../support/paytiko-store';
import { paytikoMerchant, startPaytiko } from '../support/paytiko-world';
import { FAST_WEBHOOKS } from '../support/subotiz-world';
import { createTestDatabase, TestDatabase, withClient } from '../support/test-database';
import { call, eventTypesOf, startTestService, TestService } from '../support/test-service';

const ACTIVE = SubscriptionStatus.SUBSCRIPTION_STATUS_ACTIVE;
const CANCELED = SubscriptionStatus.SUBSCRIPTION_STATUS_CANCELED;
const MINUTE_MS = 60_000;

/**
 * Cancel at period end on Paytiko, which cancels memberships immediately only: the core keeps the flag, its durable
 * scheduler cancels the membership a minute before our period end so Paytiko charges no renewal, a cancel Paytiko
 * reports earlier is held until the period end, and a job that comes too late reports the renewal Paytiko charged.
 * The service's clock is kept level with the emulator's (SharedClock), so the boundary is the same on both sides.
 */
describe('Paytiko cancel at period end (emulated by our scheduler)', () => {
  let db: TestDatabase;
  let emulator: PaytikoEmulator;
  let clocks: SharedClock;
  let service: TestService;
  let store: PaytikoStore;
  let collector: KafkaCollector;
  let port: number;
  const topicPrefix = `test-${randomBytes(4).toString('hex')}`;
  const merchant = paytikoMerchant();

  // Same port, database and topics each time: a restarted service is the same deployment (Paytiko's webhooks reach it).
  const start = () =>
    startTestService(
      {
        DATABASE_URL: db.url,
        HTTP_PORT: String(port),
        PUBLIC_BASE_URL: `http://127.0.0.1:${port}`,
        KAFKA_BROKERS: brokersFromEnv().join(','),
        KAFKA_TOPIC_PREFIX: topicPrefix,
        ...FAST_WEBHOOKS,
        SCHEDULER_POLL_INTERVAL_MS: '100',
      },
      { clock: clocks.clock },
    );
  const subs = () => service.clients.subscriptions;
  const scheduleCancel = (id: string) =>
    call(subs(), subs().cancelSubscription, { subscriptionId: id, atPeriodEnd: true, reason: 'moving away' });
  const count = (types: string[], type: string) => types.filter((t) => t === type).length;
  const recurringInvoices = async (ref: string) =>
    (await store.membership(ref)).invoices.filter((i) => i.type === 'Recurring');
  const inboxRows = (orderId: string) =>
    withClient(db.url, async (c) => {
      const { rows } = await c.query(
        `select event_type, status from webhook_inbox where provider = 'paytiko' and convert_from(body, 'UTF8') like $1`,
        [`%${orderId}%`],
      );
      return rows as { event_type: string; status: string }[];
    });
  /** A fresh subscription, its clocks at wall time of the emulator (each test starts where the last one left off). */
  const activeSubscription = async (): Promise<Subscription> => {
    await clocks.moveTo(await clocks.emulatorNow());
    return store.activeSubscription();
  };

  beforeAll(async () => {
    db = await createTestDatabase();
    port = await freePort();
    emulator = await startPaytiko([merchant]);
    clocks = new SharedClock(emulator);
    service = await start();
    store = await paytikoStore(() => service, emulator, merchant, { storefrontId: 'paytiko-cancel' });
    collector = new KafkaCollector(brokersFromEnv(), [`${topicPrefix}.subscriptions.v1`]);
    await collector.start();
  });

  afterAll(async () => {
    await collector?.stop();
    store?.close();
    await service?.close();
    await emulator?.stop();
    await db?.drop();
  });

  it('ACTIVE with cancel_at_period_end and entitled until the period ends; Paytiko is told just before it, so no renewal is charged', async () => {
    const subscription = await activeSubscription();
    const periodEnd = subscription.currentPeriodEnd!;

    const scheduled = (await scheduleCancel(subscription.id)).subscription!;
    expect(scheduled).toMatchObject({ status: ACTIVE, cancelAtPeriodEnd: true });
    expect((await store.membership(subscription.providerRef)).status).toBe('Active');

    // Five minutes before the end: still ours, still entitled, still Active at Paytiko.
    await clocks.moveTo(new Date(periodEnd.getTime() - 5 * MINUTE_MS));
    expect(await store.subscription(subscription.id)).toMatchObject({ status: ACTIVE, cancelAtPeriodEnd: true });
    expect(await store.entitled(subscription.customerId)).toBe(true);
    expect((await store.membership(subscription.providerRef)).status).toBe('Active');

    // The last 30 s: the job (due a minute before the end) has cancelled the membership at Paytiko, and Paytiko's
    // Canceled webhook is in; ours is still ACTIVE and entitled, because the customer paid up to the period's end.
    await clocks.moveTo(new Date(periodEnd.getTime() - 30_000));
    await eventually(
      () => store.membership(subscription.providerRef),
      (m) => m.status === 'Canceled',
    );
    await eventually(
      () => inboxRows(subscription.id),
      (rows) => rows.some((r) => r.event_type === 'SUBSCRIPTION_STATUS_CHANGED:Canceled' && r.status === 'PROCESSED'),
    );
    expect(await store.subscription(subscription.id)).toMatchObject({ status: ACTIVE, cancelAtPeriodEnd: true });
    expect(await store.entitled(subscription.customerId)).toBe(true);

    // Past the boundary: ours ends at the period's end; Paytiko renews nothing.
    await clocks.moveTo(new Date(periodEnd.getTime() + 2 * MINUTE_MS));
    const ended = await store.waitFor(subscription.id, (s) => s.status === CANCELED);
    expect(ended.endedAt).toEqual(periodEnd);
    expect(await recurringInvoices(subscription.providerRef)).toEqual([]);
    expect(await store.entitled(subscription.customerId)).toBe(false);
    await eventually(
      () => inboxRows(subscription.id),
      (rows) => rows.some((r) => r.event_type === 'SUBSCRIPTION_STATUS_CHANGED:Canceled' && r.status === 'PROCESSED'),
    );
    expect(await store.subscription(subscription.id)).toMatchObject({ status: CANCELED, endedAt: periodEnd });

    // On Kafka, in order, once each (Paytiko's later record of the cancel is no news).
    const lifecycle = async () =>
      (
        await collector.waitFor((ms) =>
          ms.some((m) => m.key === subscription.id && m.headers.ce_type === 'billing.subscription.canceled'),
        )
      )
        .filter((m) => m.key === subscription.id)
        .sort((a, b) => Number(a.headers.ce_sequence) - Number(b.headers.ce_sequence))
        .map((m) => m.headers.ce_type!)
        .filter((t) => t.startsWith('billing.subscription.'));
    expect(await lifecycle()).toEqual([
      'billing.subscription.created',
      'billing.subscription.activated',
      'billing.subscription.cancellation_scheduled',
      'billing.subscription.canceled',
    ]);
  });

  it('the same across a restart: a new service on the same database runs the scheduled cancellation', async () => {
    const subscription = await activeSubscription();
    const periodEnd = subscription.currentPeriodEnd!;
    await scheduleCancel(subscription.id);

    await service.close();
    service = await start();

    await clocks.moveTo(new Date(periodEnd.getTime() - 30_000));
    await eventually(
      () => store.membership(subscription.providerRef),
      (m) => m.status === 'Canceled',
    );
    expect((await store.subscription(subscription.id)).status).toBe(ACTIVE);
    await clocks.moveTo(new Date(periodEnd.getTime() + 2 * MINUTE_MS));
    const ended = await store.waitFor(subscription.id, (s) => s.status === CANCELED);
    expect(ended.endedAt).toEqual(periodEnd);
    expect(await recurringInvoices(subscription.providerRef)).toEqual([]);
    expect(await store.entitled(subscription.customerId)).toBe(false);
    const types = await eventTypesOf(service, subscription.id);
    expect(count(types, 'billing.subscription.cancellation_scheduled')).toBe(1);
    expect(count(types, 'billing.subscription.canceled')).toBe(1);
    expect(count(types, 'billing.subscription.renewed')).toBe(0);
  });

  it('a membership Paytiko cancels before our period end (its Canceled webhook) is held: ACTIVE and entitled until the end', async () => {
    const subscription = await activeSubscription();
    const periodEnd = subscription.currentPeriodEnd!;
    await scheduleCancel(subscription.id);

    // The merchant cancels in Paytiko's back office mid-period; Paytiko notifies us.
    await clocks.moveTo(new Date(subscription.currentPeriodStart!.getTime() + 24 * 60 * MINUTE_MS));
    const cancel = await store.paytiko('POST', `/membership/cancel/${subscription.providerRef}`);
    expect(cancel.body.status).toBe('Canceled');
    await emulator.idle();
    await eventually(
      () => inboxRows(subscription.id),
      (rows) => rows.some((r) => r.event_type === 'SUBSCRIPTION_STATUS_CHANGED:Canceled' && r.status === 'PROCESSED'),
    );
    expect(await store.subscription(subscription.id)).toMatchObject({ status: ACTIVE, cancelAtPeriodEnd: true });
    expect(await store.entitled(subscription.customerId)).toBe(true);

    await clocks.moveTo(new Date(periodEnd.getTime() - 5 * MINUTE_MS));
    expect((await store.subscription(subscription.id)).status).toBe(ACTIVE);
    expect(await store.entitled(subscription.customerId)).toBe(true);

    await clocks.moveTo(new Date(periodEnd.getTime() + 1_000));
    const ended = await store.waitFor(subscription.id, (s) => s.status === CANCELED);
    expect(ended.endedAt).toEqual(periodEnd);
    expect(await store.entitled(subscription.customerId)).toBe(false);
    expect(count(await eventTypesOf(service, subscription.id), 'billing.subscription.canceled')).toBe(1);
  });

  it('RevokeCancellation before the job: stays ACTIVE and the renewal is charged as usual', async () => {
    const subscription = await activeSubscription();
    const periodEnd = subscription.currentPeriodEnd!;
    await scheduleCancel(subscription.id);
    const revoked = await call(subs(), subs().revokeCancellation, { subscriptionId: subscription.id });
    expect(revoked.subscription).toMatchObject({ status: ACTIVE, cancelAtPeriodEnd: false });

    await clocks.moveTo(new Date(periodEnd.getTime() + 2 * MINUTE_MS));
    const renewed = await store.waitFor(
      subscription.id,
      (s) => s.currentPeriodStart!.getTime() === periodEnd.getTime(),
    );
    expect(renewed).toMatchObject({ status: ACTIVE, cancelAtPeriodEnd: false });
    const membership = await store.membership(subscription.providerRef);
    expect(membership.status).toBe('Active');
    expect(membership.invoices.filter((i) => i.type === 'Recurring').map((i) => i.status)).toEqual(['Paid']);
    expect(await store.entitled(subscription.customerId)).toBe(true);
    const types = await eventTypesOf(service, subscription.id);
    expect(types).toEqual(
      expect.arrayContaining([
        'billing.subscription.cancellation_scheduled',
        'billing.subscription.cancellation_revoked',
        'billing.subscription.renewed',
      ]),
    );
    expect(count(types, 'billing.subscription.canceled')).toBe(0);
  });

  // Last: it leaves Paytiko's webhooks about the renewal waiting for a retry on the emulator's clock.
  it('a job that runs late, after Paytiko charged the renewal: the membership is cancelled, ours ends at the period end, the charge is reported', async () => {
    const subscription = await activeSubscription();
    const periodEnd = subscription.currentPeriodEnd!;
    await scheduleCancel(subscription.id);

    // The service is down over the boundary: Paytiko renews and charges; its webhooks find nobody.
    await service.close();
    await clocks.moveTo(new Date(periodEnd.getTime() + 2 * MINUTE_MS));
    const renewal = (await recurringInvoices(subscription.providerRef))[0]!;
    expect(renewal.status).toBe('Paid');
    const charge = renewal.transactions[0]!;

    service = await start();
    const ended = await store.waitFor(subscription.id, (s) => s.status === CANCELED);
    expect(ended.endedAt).toEqual(periodEnd);
    expect((await store.membership(subscription.providerRef)).status).toBe('Canceled');
    expect(await store.entitled(subscription.customerId)).toBe(false);

    // Paytiko cannot refund: the charge is on record as the subscription's payment, and reported for a manual refund.
    const payments = await store.paymentsOf(subscription.id);
    const late = payments.find((p) => p.providerRef === String(charge.transactionId));
    expect(late).toMatchObject({ status: PaymentStatus.PAYMENT_STATUS_SUCCEEDED });
    expect(late!.amount!.amountMinor).toBe(999n);
    const audit = await withClient(db.url, async (c) => {
      const { rows } = await c.query(
        'select action, details from audit_log where resource_id = $1 and action like $2',
        [subscription.id, 'LateCancellation%'],
      );
      return rows as { action: string; details: Record<string, unknown> }[];
    });
    expect(audit).toHaveLength(1);
    expect(audit[0]).toMatchObject({
      action: 'LateCancellationRenewalCharged',
      details: {
        payment_ref: String(charge.transactionId),
        amount_minor: '999',
        currency: 'EUR',
        needs: 'a manual refund of the renewal charge',
      },
    });
    const types = await eventTypesOf(service, subscription.id);
    expect(count(types, 'billing.subscription.canceled')).toBe(1);
    expect(count(types, 'billing.subscription.renewed')).toBe(0);
    expect(count(await eventTypesOf(service, late!.id), 'billing.payment.succeeded')).toBe(1);
  });
});
