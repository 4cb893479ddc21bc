import { InvoiceStatus, InvoiceType, PaymentStatus } from '../../src/gen/billing/v1/payment';
import { Subscription, SubscriptionStatus } from '../../src/gen/billing/v1/subscription';
import { eventually } from '../support/eventually';
import { brokersFromEnv, KafkaCollector, ReceivedMessage, typesInSequence } from '../support/kafka-collector';
import { paytikoWorld, PaytikoWorld } from '../support/paytiko-world';
import { FAST_WEBHOOKS } from '../support/subotiz-world';
import { createTestDatabase, TestDatabase } from '../support/test-database';
import { call, startTestService, TestService } from '../support/test-service';

const S = SubscriptionStatus;
const DAY = 86_400;

/**
 * Paytiko memberships over gRPC, PostgreSQL, Kafka and HTTP to the emulator: the renewal outcomes a sandbox
 * binding sets (`test_charge_emitter_queue`) drive dunning, and monthly renewals follow the document's month-end rule.
 */
describe('Paytiko subscription lifecycle', () => {
  let db: TestDatabase;
  let service: TestService;
  let collector: KafkaCollector;
  const worlds: PaytikoWorld[] = [];

  beforeAll(async () => {
    db = await createTestDatabase();
    service = await startTestService({
      DATABASE_URL: db.url,
      KAFKA_BROKERS: brokersFromEnv().join(','),
      ...FAST_WEBHOOKS,
    });
    collector = new KafkaCollector(
      brokersFromEnv(),
      ['subscriptions', 'payments', 'customers'].map((s) => `${service.topicPrefix}.${s}.v1`),
    );
    await collector.start();
  });

  afterAll(async () => {
    await collector?.stop();
    for (const world of worlds) await world.close();
    await service?.close();
    await db?.drop();
  });

  const world = async (storefrontId: string, providerConfig: Record<string, string> = {}) => {
    const started = await paytikoWorld(service, { storefrontId, providerConfig });
    worlds.push(started);
    return started;
  };
  const granted = async (w: PaytikoWorld, feature: string) =>
    (await call(w.entitlements, w.entitlements.checkEntitlement, { customerId: w.customerId, featureKey: feature }))
      .granted;

  it('renewal outcomes Success, Rejected, Rejected, Success: ACTIVE → renewed → PAST_DUE → ACTIVE, on Kafka in order', async () => {
    const w = await world('paytiko-dunning', { test_charge_emitter_queue: 'Success,Rejected,Rejected,Success' });
    const subscription = await w.activeSubscription();
    const id = subscription.id;
    expect(subscription.providerRef).toMatch(/^mmbrshp_/);
    expect(await eventually(() => granted(w, 'basic'), Boolean)).toBe(true);

    // First renewal: Success.
    await w.advancePast(subscription.currentPeriodEnd!);
    const renewed = await w.waitFor(id, (s) => s.currentPeriodEnd! > subscription.currentPeriodEnd!);
    expect(renewed.status).toBe(S.SUBSCRIPTION_STATUS_ACTIVE);

    // Second: Rejected → PAST_DUE, still entitled while Paytiko retries; our period stays the one paid for.
    await w.advancePast(renewed.currentPeriodEnd!);
    const pastDue = await w.waitFor(id, (s) => s.status === S.SUBSCRIPTION_STATUS_PAST_DUE);
    expect(pastDue.currentPeriodEnd).toEqual(renewed.currentPeriodEnd);
    expect(await granted(w, 'basic')).toBe(true);

    // The first retry a day later: Rejected again (still PAST_DUE); the second: Success → ACTIVE, the period paid.
    await w.advanceClock(DAY + 60);
    await eventually(
      async () => (await w.paymentsOf(id)).filter((p) => p.status === PaymentStatus.PAYMENT_STATUS_FAILED).length,
      (failed) => failed === 2,
    );
    expect((await w.subscription(id)).status).toBe(S.SUBSCRIPTION_STATUS_PAST_DUE);
    await w.advanceClock(DAY + 60);
    const recovered = await w.waitFor(id, (s) => s.status === S.SUBSCRIPTION_STATUS_ACTIVE);
    expect(recovered.currentPeriodEnd!.getTime()).toBeGreaterThan(renewed.currentPeriodEnd!.getTime());

    const payments = await w.paymentsOf(id);
    expect(payments.map((p) => p.status).sort()).toEqual(
      [
        PaymentStatus.PAYMENT_STATUS_SUCCEEDED,
        PaymentStatus.PAYMENT_STATUS_SUCCEEDED,
        PaymentStatus.PAYMENT_STATUS_FAILED,
        PaymentStatus.PAYMENT_STATUS_FAILED,
        PaymentStatus.PAYMENT_STATUS_SUCCEEDED,
      ].sort(),
    );
    const invoices = await w.invoicesOf(id);
    expect(invoices.map((i) => [i.type, i.status, i.cycleIndex]).sort()).toEqual(
      [
        [InvoiceType.INVOICE_TYPE_INITIAL, InvoiceStatus.INVOICE_STATUS_PAID, 1],
        [InvoiceType.INVOICE_TYPE_RENEWAL, InvoiceStatus.INVOICE_STATUS_PAID, 2],
        [InvoiceType.INVOICE_TYPE_RENEWAL, InvoiceStatus.INVOICE_STATUS_PAID, 3],
      ].sort(),
    );

    // Kafka: the subscription's key carries its life in order, numbered without gaps. The key's events span several
    // topics, and Kafka orders only within one: wait until the numbers up to the last payment have all arrived.
    const sequencesOf = (ms: ReceivedMessage[]) =>
      ms
        .filter((m) => m.key === id)
        .map((m) => Number(m.headers.ce_sequence))
        .sort((a, b) => a - b);
    const messages = await collector.waitFor(
      (ms) =>
        typesInSequence(ms, id).filter((t) => t === 'billing.payment.succeeded').length === 3 &&
        sequencesOf(ms).length === sequencesOf(ms).at(-1),
    );
    const sequences = sequencesOf(messages);
    expect(sequences).toEqual(sequences.map((_, i) => i + 1));
    const types = typesInSequence(messages, id);
    expect(types.filter((t) => t.startsWith('billing.subscription.'))).toEqual([
      'billing.subscription.created',
      'billing.subscription.activated',
      'billing.subscription.renewed',
      'billing.subscription.past_due',
      // The retry that pays the new period: active again, and renewed.
      'billing.subscription.activated',
      'billing.subscription.renewed',
    ]);
    expect(types.filter((t) => t.startsWith('billing.payment.'))).toEqual([
      'billing.payment.succeeded',
      'billing.payment.succeeded',
      'billing.payment.failed',
      'billing.payment.failed',
      'billing.payment.succeeded',
    ]);
    await cancelNow(id);
  });

  /** Advances the world's emulator to `month`/`day` (UTC, 10:00) of the first such day at or after its clock's year. */
  const advanceTo = async (w: PaytikoWorld, year: number, month: number, day: number) => {
    const target = new Date(Date.UTC(year, month - 1, day, 10, 0, 0));
    const now = await w.now();
    if (target <= now) throw new Error(`the emulator is already past ${target.toISOString()}`);
    await w.advanceClock(Math.floor((target.getTime() - now.getTime()) / 1000));
  };
  const day = (d: Date) => d.toISOString().slice(0, 10);
  const timeOfDay = (d: Date) => d.toISOString().slice(11);
  /** Renews `s` once (the emulator's clock passes its period end) and answers the renewed subscription. */
  const renewOnce = async (w: PaytikoWorld, s: Subscription) => {
    await w.advancePast(s.currentPeriodEnd!);
    return w.waitFor(s.id, (next) => next.currentPeriodEnd! > s.currentPeriodEnd!);
  };
  const cancelNow = async (id: string) => {
    const subs = service.clients.subscriptions;
    await call(subs, subs.cancelSubscription, { subscriptionId: id, atPeriodEnd: false, reason: 'test over' });
  };

  it('a monthly subscription started on Jan 31 renews Feb 28, then Mar 28; in a leap year Feb 29, then Mar 29', async () => {
    const w = await world('paytiko-month-end');
    // The next Jan 31 of a common year, and the next of a leap year after it (2027 and 2028 from late 2026).
    const year = (await w.now()).getUTCFullYear() + 1;
    const common = isLeap(year) ? year + 1 : year;
    const leap = [common + 1, common + 2, common + 3, common + 4].find(isLeap)!;

    for (const [startYear, februaryDay] of [
      [common, 28],
      [leap, 29],
    ] as const) {
      await advanceTo(w, startYear, 1, 31);
      const started = await w.activeSubscription();
      expect(day(started.currentPeriodStart!)).toBe(`${startYear}-01-31`);
      expect(day(started.currentPeriodEnd!)).toBe(`${startYear}-02-${februaryDay}`);

      const first = await renewOnce(w, started);
      const second = await renewOnce(w, first);
      expect([first, second].map((s) => [day(s.currentPeriodStart!), day(s.currentPeriodEnd!)])).toEqual([
        [`${startYear}-02-${februaryDay}`, `${startYear}-03-${februaryDay}`],
        // Once shifted, the anchor day stays shifted.
        [`${startYear}-03-${februaryDay}`, `${startYear}-04-${februaryDay}`],
      ]);
      // Boundaries keep the start's time of day.
      for (const s of [first, second]) {
        expect(timeOfDay(s.currentPeriodEnd!)).toBe(timeOfDay(started.currentPeriodStart!));
      }

      // Our invoices say the same: one per cycle, periods end to end.
      const invoices = await eventually(
        () => w.invoicesOf(started.id),
        (list) => list.length === 3,
      );
      const periods = invoices
        .map((i) => [i.cycleIndex, i.type, day(i.periodStart!), day(i.periodEnd!), i.amount!.amountDecimal] as const)
        .sort((a, b) => a[0] - b[0]);
      expect(periods).toEqual([
        [1, InvoiceType.INVOICE_TYPE_INITIAL, `${startYear}-01-31`, `${startYear}-02-${februaryDay}`, '9.99'],
        [
          2,
          InvoiceType.INVOICE_TYPE_RENEWAL,
          `${startYear}-02-${februaryDay}`,
          `${startYear}-03-${februaryDay}`,
          '9.99',
        ],
        [
          3,
          InvoiceType.INVOICE_TYPE_RENEWAL,
          `${startYear}-03-${februaryDay}`,
          `${startYear}-04-${februaryDay}`,
          '9.99',
        ],
      ]);
      // Ended before the clock jumps on to the next start, so it renews no further.
      await cancelNow(started.id);
    }
  });
});

function isLeap(year: number): boolean {
  return (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0;
}
