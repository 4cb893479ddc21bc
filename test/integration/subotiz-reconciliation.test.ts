import * as grpc from '@grpc/grpc-js';
import { PaymentStatus, RefundState, RefundStatus } from '../../src/gen/billing/v1/payment';
import { CheckoutMode, SubscriptionStatus } from '../../src/gen/billing/v1/subscription';
import type { Clock } from '../../src/ports/clock.port';
import { eventually } from '../support/eventually';
import { FAST_WEBHOOKS, subotizWorld, SubotizWorld } from '../support/subotiz-world';
import { createTestDatabase, TestDatabase } from '../support/test-database';
import { call, callError, counter, eventTypesOf, startTestService, TestService } from '../support/test-service';

/**
 * The reconciler: what Subotiz knows but never told us by webhook. Subotiz sends no webhook when a checkout session
 * expires, and any webhook can be lost; the service asks Subotiz once a checkout has expired, a refund stayed
 * pending, or a live subscription is past its period end. The service's clock is moved forward to get past a
 * checkout's 30 minutes or a period end; the emulator's clock only where Subotiz itself must renew.
 */
describe('Subotiz reconciliation: expired checkouts and lost webhooks', () => {
  let db: TestDatabase;
  let service: TestService;
  let world: SubotizWorld;
  let offsetMs = 0;
  const clock: Clock = { now: () => new Date(Date.now() + offsetMs) };
  const CHECKOUT_VALIDITY_MS = 30 * 60_000;

  beforeAll(async () => {
    db = await createTestDatabase();
    service = await startTestService(
      { DATABASE_URL: db.url, ...FAST_WEBHOOKS, RECONCILE_INTERVAL_MS: '100', RECONCILE_REFUND_AFTER_MS: '0' },
      { clock },
    );
    world = await subotizWorld(service, { storefrontId: 'reconcile-store' });
  });

  afterEach(() => {
    offsetMs = 0;
  });

  afterAll(async () => {
    await world?.close();
    await service?.close();
    await db?.drop();
  });

  const subs = () => service.clients.subscriptions;
  const getSubscription = (id: string) => world.subscription(id);
  const getPayment = async (id: string) =>
    (await call(world.payments, world.payments.getPayment, { paymentId: id })).payment!;
  const paymentsOf = (subscriptionId: string) => world.paymentsOf(subscriptionId);
  const emulatorCounts = () => world.control<Record<string, number>>('/state');
  /** Moves the service (only) past the expiry of every checkout opened so far. */
  const pastCheckoutExpiry = () => {
    offsetMs = CHECKOUT_VALIDITY_MS + 60_000;
  };
  const checkedRows = (kind: string) => counter(service, 'billing_reconciler_rows_total', { kind, outcome: 'checked' });
  const undelivered = async (type: string) =>
    (await world.control<{ type: string; attempts: number }[]>('/webhooks')).filter(
      (w) => w.type === type && w.attempts === 0,
    ).length;

  it('settles a refund whose webhooks were lost, from Subotiz refund, with its events', async () => {
    const { id: subscriptionId } = await world.activeSubscription();
    const [payment] = await eventually(
      () => paymentsOf(subscriptionId),
      (ps) => ps.some((p) => p.status === PaymentStatus.PAYMENT_STATUS_SUCCEEDED),
    );
    await world.control('/webhooks/faults', { mode: 'drop', count: 2 });

    const { refund } = await call(world.payments, world.payments.createRefund, {
      paymentId: payment!.id,
      amount: undefined,
      reason: 'duplicate order',
    });
    expect(refund!.status).toBe(RefundStatus.REFUND_STATUS_PENDING);

    const settled = await eventually(
      () => getPayment(payment!.id),
      (p) => p.refundState === RefundState.REFUND_STATE_REFUNDED,
    );
    expect(settled.refundedAmount!.amountMinor).toBe(1999n);
    expect((await call(world.payments, world.payments.getRefund, { refundId: refund!.id })).refund!.status).toBe(
      RefundStatus.REFUND_STATUS_SUCCEEDED,
    );
    expect(await undelivered('v2.refunds.succeeded')).toBe(1);
    expect(await checkedRows('refund')).toBeGreaterThanOrEqual(1);
    expect(await eventTypesOf(service, refund!.id)).toEqual(['billing.refund.succeeded']);
    expect(await eventTypesOf(service, payment!.id)).toEqual(['billing.payment.succeeded', 'billing.payment.refunded']);
    // Refunded in full: end it, so that the customer's later entitlements come from later tests' subscriptions.
    await call(subs(), subs().cancelSubscription, { subscriptionId, atPeriodEnd: false, reason: 'refunded' });
  });

  it('expires an abandoned subscription checkout: INCOMPLETE_EXPIRED, one expired event, nothing at Subotiz', async () => {
    const before = await emulatorCounts();
    const checkout = await call(subs(), subs().createCheckoutSession, world.checkoutRequest());
    const id = checkout.subscription!.id;

    // Past our record of its expiry, but Subotiz still calls the session open: it stays INCOMPLETE.
    const checked = await checkedRows('subscription');
    pastCheckoutExpiry();
    await eventually(
      () => checkedRows('subscription'),
      (n) => n > checked,
    );
    expect((await getSubscription(id)).status).toBe(SubscriptionStatus.SUBSCRIPTION_STATUS_INCOMPLETE);

    // Expired at Subotiz: the next look (5 minutes later, by the service's clock) ends it.
    await world.control(`/sessions/${checkout.checkoutSession!.providerRef}/expire`, {});
    offsetMs += 6 * 60_000;
    const expired = await eventually(
      () => getSubscription(id),
      (s) => s.status === SubscriptionStatus.SUBSCRIPTION_STATUS_INCOMPLETE_EXPIRED,
    );
    expect(expired.endedAt).toBeDefined();
    expect(await eventTypesOf(service, id)).toEqual(['billing.subscription.created', 'billing.subscription.expired']);
    expect((await emulatorCounts()).subscriptions).toBe(before.subscriptions);

    const cancel = await callError(subs(), subs().cancelSubscription, {
      subscriptionId: id,
      atPeriodEnd: false,
      reason: '',
    });
    expect(cancel.code).toBe(grpc.status.FAILED_PRECONDITION);
    expect(cancel.details).toContain('INCOMPLETE_EXPIRED');
  });

  it('closes an abandoned one-time payment checkout', async () => {
    const checkout = await call(subs(), subs().createCheckoutSession, {
      ...world.checkoutRequest(),
      mode: CheckoutMode.CHECKOUT_MODE_PAYMENT,
      planId: '',
      amount: { currencyCode: 'EUR', amountMinor: 4250n, amountDecimal: '' },
      description: 'Gift card',
    });
    const paymentId = checkout.payment!.id;
    expect(checkout.payment!.status).toBe(PaymentStatus.PAYMENT_STATUS_REQUIRES_PAYMENT_METHOD);
    await world.control(`/sessions/${checkout.checkoutSession!.providerRef}/expire`, {});

    pastCheckoutExpiry();
    const closed = await eventually(
      () => getPayment(paymentId),
      (p) => p.status === PaymentStatus.PAYMENT_STATUS_CLOSED,
    );
    expect(closed.amount!.amountMinor).toBe(4250n);
    expect(await eventTypesOf(service, paymentId)).toEqual([]);
  });

  it('catches up a renewal whose webhooks were lost: the live subscription is asked about past its period end', async () => {
    // A storefront and emulator of its own: this test moves Subotiz's clock a month on.
    const renewals = await subotizWorld(service, { storefrontId: 'renewal-store' });
    try {
      const { id } = await renewals.activeSubscription();
      const periodEnd = (await renewals.subscription(id)).currentPeriodEnd!;
      const checked = await checkedRows('live_subscription');
      await renewals.control('/webhooks/faults', { mode: 'drop', count: 20 });

      // Subotiz renews a month later; every webhook about it is lost.
      const { now } = await renewals.control<{ now: string }>('/clock');
      await renewals.control('/clock/advance', {
        seconds: Math.ceil((periodEnd.getTime() - new Date(now).getTime()) / 1000) + 60,
      });
      const lost = await renewals.control<{ type: string; attempts: number }[]>('/webhooks');
      expect(lost.filter((w) => w.type === 'v2.invoice.paid' && w.attempts === 0).length).toBeGreaterThanOrEqual(1);
      expect((await renewals.subscription(id)).currentPeriodEnd!.getTime()).toBe(periodEnd.getTime());

      // Past its period end plus the grace (1 h), the service asks Subotiz and applies the renewal, once.
      offsetMs = periodEnd.getTime() - Date.now() + 61 * 60_000;
      const renewed = await eventually(
        () => renewals.subscription(id),
        (s) => s.currentPeriodEnd!.getTime() > periodEnd.getTime(),
      );
      expect(renewed.status).toBe(SubscriptionStatus.SUBSCRIPTION_STATUS_ACTIVE);
      expect(await checkedRows('live_subscription')).toBeGreaterThan(checked);
      expect(await eventTypesOf(service, id)).toEqual([
        'billing.subscription.created',
        'billing.subscription.activated',
        'billing.subscription.renewed',
      ]);
    } finally {
      await renewals.close();
    }
  });

  it('catches up a completed checkout whose every webhook was lost: ACTIVE, paid, entitled, with the events', async () => {
    // Last in this file: the drop fault outlives the test.
    await world.control('/webhooks/faults', { mode: 'drop', count: 100 });
    const checkout = await call(subs(), subs().createCheckoutSession, world.checkoutRequest());
    const id = checkout.subscription!.id;
    await world.control(`/sessions/${checkout.checkoutSession!.providerRef}/complete`, {});
    expect(await undelivered('v2.subscription.first')).toBeGreaterThanOrEqual(1);
    expect((await getSubscription(id)).status).toBe(SubscriptionStatus.SUBSCRIPTION_STATUS_INCOMPLETE);

    pastCheckoutExpiry();
    const active = await eventually(
      () => getSubscription(id),
      (s) => s.status === SubscriptionStatus.SUBSCRIPTION_STATUS_ACTIVE,
    );
    expect(active.providerRef).not.toBe('');
    const [payment] = await paymentsOf(id);
    expect(payment!.status).toBe(PaymentStatus.PAYMENT_STATUS_SUCCEEDED);
    expect(await eventTypesOf(service, payment!.id)).toEqual(['billing.payment.succeeded']);
    expect(await eventTypesOf(service, id)).toEqual(['billing.subscription.created', 'billing.subscription.activated']);
    const { invoices } = await call(world.payments, world.payments.listInvoices, {
      subscriptionId: id,
      customerId: '',
      pageSize: 10,
      pageToken: '',
    });
    expect(invoices).toHaveLength(1);
    expect(invoices[0]!.id).toBe(payment!.invoiceId);
    expect(await eventTypesOf(service, invoices[0]!.id)).toEqual(['billing.invoice.paid']);
    const entitlement = await call(world.entitlements, world.entitlements.checkEntitlement, {
      customerId: world.customerId,
      featureKey: 'pro',
    });
    expect(entitlement.granted).toBe(true);
    expect(entitlement.subscriptionId).toBe(id);
  });
});
