import { InvoiceStatus, InvoiceType, PaymentStatus } from '../../src/gen/billing/v1/payment';
import { Subscription, SubscriptionStatus } from '../../src/gen/billing/v1/subscription';
import { eventually } from '../support/eventually';
import { brokersFromEnv, KafkaCollector, typesInSequence } from '../support/kafka-collector';
import { paytikoWorld, PaytikoWorld } from '../support/paytiko-world';
import { FAST_WEBHOOKS } from '../support/subotiz-world';
import { createTestDatabase, TestDatabase } from '../support/test-database';
import { call, startTestService, TestService } from '../support/test-service';

const DAY = 86_400;

/**
 * ChangePlan and UpdateQuantity on Paytiko: answered `accepted` (Paytiko charges the proration first and applies the
 * change after), then the change, its invoice and the entitlements arrive with Paytiko's confirmation; a downgrade
 * becomes a credit the next renewal uses; a failed proration charge changes nothing.
 */
describe('Paytiko plan and quantity changes', () => {
  let db: TestDatabase;
  let service: TestService;
  let collector: KafkaCollector;
  let w: PaytikoWorld;
  let proPlanId: string;
  const live: string[] = [];

  beforeAll(async () => {
    db = await createTestDatabase();
    service = await startTestService({
      DATABASE_URL: db.url,
      KAFKA_BROKERS: brokersFromEnv().join(','),
      ...FAST_WEBHOOKS,
    });
    collector = new KafkaCollector(
      brokersFromEnv(),
      ['subscriptions', 'payments'].map((s) => `${service.topicPrefix}.${s}.v1`),
    );
    await collector.start();
    w = await paytikoWorld(service, { storefrontId: 'paytiko-changes' });
    proPlanId = await w.createPlan({ name: 'Pro monthly', price: '19.99', featureKeys: ['basic', 'pro'] });
  });

  afterEach(async () => {
    // Ended, so the next test's clock moves renew nothing of this one.
    for (const id of live.splice(0)) {
      await call(subs(), subs().cancelSubscription, { subscriptionId: id, atPeriodEnd: false, reason: 'test over' });
    }
  });

  afterAll(async () => {
    await collector?.stop();
    await w?.close();
    await service?.close();
    await db?.drop();
  });

  const subs = () => service.clients.subscriptions;
  /** An ACTIVE subscription of `planId` (default basic), half way through its first period. */
  const midCycle = async (planId = w.planId): Promise<Subscription> => {
    const active = await w.activeSubscription({ planId });
    live.push(active.id);
    await w.advanceClock(14 * DAY);
    return active;
  };
  const changePlan = async (id: string, planId: string) =>
    (await call(subs(), subs().changePlan, { subscriptionId: id, planId })).subscription!;
  const updateQuantity = async (id: string, quantity: number) =>
    (await call(subs(), subs().updateQuantity, { subscriptionId: id, quantity })).subscription!;
  const features = async (id: string) =>
    (
      await call(w.entitlements, w.entitlements.listEntitlements, { customerId: w.customerId, includeInactive: false })
    ).entitlements
      .filter((e) => e.subscriptionId === id)
      .map((e) => e.featureKey)
      .sort();
  /** The subscription's Kafka event types in order, once `done` holds for them. */
  const eventsOf = async (id: string, done: (types: string[]) => boolean) =>
    typesInSequence(await collector.waitFor((ms) => done(typesInSequence(ms, id))), id);
  /** Paytiko's Proration invoices of the membership, newest first. */
  const prorations = async (membershipKey: string) =>
    (await w.membership(membershipKey)).invoices.filter((i) => i.type === 'Proration');
  const minor = (decimal: string) => BigInt(decimal.replace('.', ''));

  it('an upgrade is accepted, its proration charged, then the plan changes and its entitlements follow', async () => {
    const basic = await midCycle();
    const answer = await changePlan(basic.id, proPlanId);
    // Accepted: nothing changed yet, Paytiko charges first.
    expect(answer).toMatchObject({ planId: w.planId, status: SubscriptionStatus.SUBSCRIPTION_STATUS_ACTIVE });

    const changed = await w.waitFor(basic.id, (s) => s.planId === proPlanId);
    expect(changed.currentPeriodEnd).toEqual(basic.currentPeriodEnd);
    const [proration] = await prorations(basic.providerRef);
    expect(proration).toMatchObject({ status: 'Paid' });
    // About half of the 10.00 difference for about half the period left.
    expect(Number(minor(proration!.amount))).toBeGreaterThan(400);
    expect(Number(minor(proration!.amount))).toBeLessThan(600);

    const invoices = await eventually(
      () => w.invoicesOf(basic.id),
      (list) => list.some((i) => i.type === InvoiceType.INVOICE_TYPE_UPGRADE),
    );
    const upgrade = invoices.find((i) => i.type === InvoiceType.INVOICE_TYPE_UPGRADE)!;
    expect(upgrade).toMatchObject({ status: InvoiceStatus.INVOICE_STATUS_PAID, providerRef: proration!.invoiceKey });
    expect(upgrade.amount!.amountDecimal).toBe(proration!.amount);
    const payments = await w.paymentsOf(basic.id);
    expect(payments.find((p) => p.invoiceId === upgrade.id)).toMatchObject({
      status: PaymentStatus.PAYMENT_STATUS_SUCCEEDED,
      amount: expect.objectContaining({ amountDecimal: proration!.amount }),
    });
    expect(
      await eventually(
        () => features(basic.id),
        (f) => f.includes('pro'),
      ),
    ).toEqual(['basic', 'pro']);

    const types = await eventsOf(basic.id, (t) => t.includes('billing.subscription.plan_changed'));
    expect(types.filter((t) => t === 'billing.subscription.plan_changed')).toHaveLength(1);
    expect(types.filter((t) => t === 'billing.payment.succeeded')).toHaveLength(2);
    expect(types).toContain('billing.invoice.paid');
  });

  it('a downgrade applies at once as a credit, and the next renewal invoice is the price less that credit', async () => {
    const pro = await midCycle(proPlanId);
    expect(await changePlan(pro.id, w.planId)).toMatchObject({ planId: proPlanId });

    const changed = await w.waitFor(pro.id, (s) => s.planId === w.planId);
    expect(
      await eventually(
        () => features(pro.id),
        (f) => !f.includes('pro'),
      ),
    ).toEqual(['basic']);
    const membership = await w.membership(pro.providerRef);
    expect(membership.invoices.filter((i) => i.type === 'Proration')).toEqual([]);
    const credit = minor(membership.credits);
    expect(credit).toBeGreaterThan(400n);
    expect(credit).toBeLessThan(600n);

    await w.advancePast(changed.currentPeriodEnd!);
    const invoices = await eventually(
      () => w.invoicesOf(pro.id),
      (list) => list.some((i) => i.type === InvoiceType.INVOICE_TYPE_RENEWAL),
    );
    const renewal = invoices.find((i) => i.type === InvoiceType.INVOICE_TYPE_RENEWAL)!;
    expect(renewal.status).toBe(InvoiceStatus.INVOICE_STATUS_PAID);
    expect(renewal.amount!.amountMinor).toBe(999n - credit);
    expect((await w.membership(pro.providerRef)).credits).toBe('0.00');
    const types = await eventsOf(pro.id, (t) => t.includes('billing.subscription.renewed'));
    expect(types.filter((t) => t === 'billing.subscription.plan_changed')).toHaveLength(1);
  });

  it('a failed proration charge changes nothing: no plan change, a failed payment', async () => {
    const basic = await midCycle();
    await w.failNextCharges(1);
    expect(await changePlan(basic.id, proPlanId)).toMatchObject({ planId: w.planId });

    const types = await eventsOf(basic.id, (t) => t.includes('billing.payment.failed'));
    expect(types).not.toContain('billing.subscription.plan_changed');
    const failed = (await w.paymentsOf(basic.id)).find((p) => p.status === PaymentStatus.PAYMENT_STATUS_FAILED);
    expect(failed?.failure?.code).toBe('Rejected');
    // Paytiko dropped the update: nothing is left to apply later.
    const membership = await w.membership(basic.providerRef);
    expect(membership.pendingUpdate).toBeNull();
    expect((await prorations(basic.providerRef)).map((i) => i.status)).toEqual(['Failed']);
    const after = await w.subscription(basic.id);
    expect(after).toMatchObject({ planId: w.planId, status: SubscriptionStatus.SUBSCRIPTION_STATUS_ACTIVE });
    expect(await features(basic.id)).toEqual(['basic']);
  });

  it('UpdateQuantity likewise: accepted, charged, then applied; a failed charge leaves the quantity', async () => {
    const basic = await midCycle();
    expect(await updateQuantity(basic.id, 2)).toMatchObject({ quantity: 1 });
    await w.waitFor(basic.id, (s) => s.quantity === 2);
    const [charged] = await prorations(basic.providerRef);
    expect(charged).toMatchObject({ status: 'Paid' });
    expect((await w.membership(basic.providerRef)).totalAmount).toBe('19.98');
    await eventually(
      () => w.invoicesOf(basic.id),
      (list) =>
        list.some((i) => i.type === InvoiceType.INVOICE_TYPE_UPGRADE && i.status === InvoiceStatus.INVOICE_STATUS_PAID),
    );

    await w.failNextCharges(1);
    expect(await updateQuantity(basic.id, 3)).toMatchObject({ quantity: 2 });
    await eventsOf(basic.id, (t) => t.includes('billing.payment.failed'));
    expect((await w.membership(basic.providerRef)).pendingUpdate).toBeNull();
    expect((await w.subscription(basic.id)).quantity).toBe(2);
    expect((await w.membership(basic.providerRef)).quantity).toBe(2);
    // Two proration invoices in one cycle are two invoices of ours: no webhook of theirs was given up on.
    const events = service.clients.events;
    const request = { storefrontId: w.storefrontId, provider: 'paytiko', pageSize: 50, pageToken: '' };
    expect((await call(events, events.listDeadLetters, request)).deadLetters).toEqual([]);
    const upgrades = (await w.invoicesOf(basic.id)).filter((i) => i.type === InvoiceType.INVOICE_TYPE_UPGRADE);
    expect(upgrades.map((i) => i.status).sort()).toEqual(
      [InvoiceStatus.INVOICE_STATUS_PAID, InvoiceStatus.INVOICE_STATUS_FAILED].sort(),
    );
  });
});
