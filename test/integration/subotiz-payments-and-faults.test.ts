import * as grpc from '@grpc/grpc-js';
import { PaymentStatus, RefundState, RefundStatus } from '../../src/gen/billing/v1/payment';
import { SubscriptionStatus } from '../../src/gen/billing/v1/subscription';
import { PAYTIKO_CONFIG, paytikoSecretRefs, storefrontRequest } from '../support/fixtures';
import { eventually } from '../support/eventually';
import { FAST_WEBHOOKS, subotizSecretRefs, subotizWorld, SubotizWorld } from '../support/subotiz-world';
import { createTestDatabase, TestDatabase, webhooksSettled, withClient } from '../support/test-database';
import {
  bearer,
  call,
  callError,
  callWithTrailers,
  counter,
  eventTypesOf,
  startTestService,
  TEST_KEYS,
  TestService,
} from '../support/test-service';

/** Refunds, usage, and what a caller sees when Subotiz is down or answers 5xx. */
describe('Subotiz payments, refunds, usage and provider faults', () => {
  let db: TestDatabase;
  let service: TestService;
  let world: SubotizWorld;

  beforeAll(async () => {
    db = await createTestDatabase();
    service = await startTestService({ DATABASE_URL: db.url, ...FAST_WEBHOOKS });
    world = await subotizWorld(service, { storefrontId: 'pay-store' });
  });

  afterAll(async () => {
    await world?.close();
    await service?.close();
    await db?.drop();
  });

  const subs = () => service.clients.subscriptions;
  const checkoutRequest = () => world.checkoutRequest();
  const events = (aggregateId: string) => eventTypesOf(service, aggregateId);
  const rows = (table: string) =>
    withClient(db.url, async (c) => Number((await c.query(`select count(*) from ${table}`)).rows[0].count));

  const activeSubscription = async () => (await world.activeSubscription()).id;

  it('refunds a payment partially, then fully; each settles by webhook with its events', async () => {
    const subscriptionId = await activeSubscription();
    const payments = await eventually(
      () => world.paymentsOf(subscriptionId),
      (list) => list.some((p) => p.status === PaymentStatus.PAYMENT_STATUS_SUCCEEDED),
    );
    const payment = payments.find((p) => p.status === PaymentStatus.PAYMENT_STATUS_SUCCEEDED)!;
    expect(payment.amount!.amountDecimal).toBe('19.99');

    const tooMuch = await callError(world.payments, world.payments.createRefund, {
      paymentId: payment.id,
      amount: { currencyCode: 'EUR', amountMinor: 0n, amountDecimal: '20.00' },
      reason: '',
    });
    expect(tooMuch.code).toBe(grpc.status.INVALID_ARGUMENT);
    expect(tooMuch.details).toContain('19.99');

    const partial = await call(world.payments, world.payments.createRefund, {
      paymentId: payment.id,
      amount: { currencyCode: 'EUR', amountMinor: 500n, amountDecimal: '' },
      reason: 'goodwill',
    });
    expect(partial.refund!.status).toBe(RefundStatus.REFUND_STATUS_PENDING);
    const afterPartial = await eventually(
      () => call(world.payments, world.payments.getPayment, { paymentId: payment.id }),
      (r) => r.payment!.refundState === RefundState.REFUND_STATE_PARTIALLY_REFUNDED,
    );
    expect(afterPartial.payment!.refundedAmount!.amountMinor).toBe(500n);
    expect(
      (await call(world.payments, world.payments.getRefund, { refundId: partial.refund!.id })).refund!.status,
    ).toBe(RefundStatus.REFUND_STATUS_SUCCEEDED);

    // No amount: the whole remainder.
    const rest = await call(world.payments, world.payments.createRefund, {
      paymentId: payment.id,
      amount: undefined,
      reason: 'cancelled order',
    });
    expect(rest.refund!.amount!.amountMinor).toBe(1499n);
    const refunded = await eventually(
      () => call(world.payments, world.payments.getPayment, { paymentId: payment.id }),
      (r) => r.payment!.refundState === RefundState.REFUND_STATE_REFUNDED,
    );
    expect(refunded.payment!.refundedAmount!.amountMinor).toBe(1999n);
    const nothingLeft = await callError(world.payments, world.payments.createRefund, {
      paymentId: payment.id,
      amount: undefined,
      reason: '',
    });
    expect(nothingLeft.code).toBe(grpc.status.FAILED_PRECONDITION);

    const { refunds } = await call(world.payments, world.payments.listRefunds, {
      paymentId: payment.id,
      pageSize: 10,
      pageToken: '',
    });
    expect(refunds.map((r) => r.status)).toEqual([
      RefundStatus.REFUND_STATUS_SUCCEEDED,
      RefundStatus.REFUND_STATUS_SUCCEEDED,
    ]);
    const types = [
      ...(await events(partial.refund!.id)),
      ...(await events(rest.refund!.id)),
      ...(await events(payment.id)),
    ];
    expect(types.filter((t) => t === 'billing.refund.succeeded')).toHaveLength(2);
    expect(types.filter((t) => t === 'billing.payment.refunded')).toHaveLength(2);
  });

  it('records usage, reads it back for the period, and a replayed RecordUsage records once', async () => {
    const subscriptionId = await activeSubscription();
    const first = await call(
      subs(),
      subs().recordUsage,
      { subscriptionId, quantity: 5n, timestamp: undefined },
      { 'idempotency-key': 'usage-1' },
    );
    await call(subs(), subs().recordUsage, { subscriptionId, quantity: 7n, timestamp: undefined });
    const replay = await callWithTrailers(
      subs(),
      subs().recordUsage,
      { subscriptionId, quantity: 5n, timestamp: undefined },
      { 'idempotency-key': 'usage-1' },
    );
    expect(replay.response.usageRecord!.id).toBe(first.usageRecord!.id);
    const usage = await call(subs(), subs().getUsage, { subscriptionId, periodStart: undefined, periodEnd: undefined });
    expect(usage.totalQuantity).toBe(12n);
    expect(usage.records.map((r) => r.quantity)).toEqual([5n, 7n]);
    expect((await world.control<{ usage_records: number }>('/state')).usage_records).toBe(2);
  });

  it('answers UNAVAILABLE when Subotiz answers 5xx, writes nothing, and the retry with the same key succeeds', async () => {
    // Earlier checkouts' last webhooks may still be on their way or processing: they would add outbox rows.
    await world.emulator.idle();
    await webhooksSettled(db.url);
    const before = { subscriptions: await rows('subscriptions'), outbox: await rows('outbox') };
    const sessions = (await world.control<{ sessions: number }>('/state')).sessions;
    // Every attempt of the adapter's bounded retries hits a 503.
    await world.control('/faults', { count: 3, status: 503, path: '/api/v1/session' });
    const down = await callError(subs(), subs().createCheckoutSession, checkoutRequest(), {
      'idempotency-key': 'co-5xx',
    });
    expect(down.code).toBe(grpc.status.UNAVAILABLE);
    expect(down.details).toContain('Subotiz');
    expect({ subscriptions: await rows('subscriptions'), outbox: await rows('outbox') }).toEqual(before);

    const retried = await call(subs(), subs().createCheckoutSession, checkoutRequest(), {
      'idempotency-key': 'co-5xx',
    });
    expect(retried.subscription!.status).toBe(SubscriptionStatus.SUBSCRIPTION_STATUS_INCOMPLETE);
    expect((await world.control<{ sessions: number }>('/state')).sessions).toBe(sessions + 1);
  });

  it("stops waiting for Subotiz when the caller's deadline passes, not at the transport's own timeout", async () => {
    // Subotiz holds its answer for 20 s; the transport alone would give up after its 10 s attempt timeout.
    await world.control('/faults', { count: 1, status: 200, delay_ms: 20_000, path: '/api/v1/session' });
    const failed = () =>
      counter(service, 'billing_provider_call_duration_seconds_count', { provider: 'subotiz', outcome: 'failed' });
    const failedBefore = await failed();
    const md = new grpc.Metadata();
    for (const [k, v] of Object.entries(bearer(TEST_KEYS.admin))) md.set(k, v);
    const started = Date.now();
    const code = await new Promise<grpc.status>((resolve) =>
      subs().createCheckoutSession(checkoutRequest(), md, { deadline: Date.now() + 500 }, (error) =>
        resolve(error?.code ?? grpc.status.OK),
      ),
    );
    expect(code).toBe(grpc.status.DEADLINE_EXCEEDED);
    // The service's call to Subotiz was abandoned with the caller (the call's abort signal), within seconds.
    await eventually(failed, (n) => n > failedBefore, 3_000);
    expect(Date.now() - started).toBeLessThan(5_000);
  });

  it('never creates a second Subotiz session when Subotiz did the work but the answer was lost', async () => {
    const sessions = (await world.control<{ sessions: number }>('/state')).sessions;
    // Subotiz creates the session, then every answer is lost (503 after the fact).
    await world.control('/faults', { count: 3, status: 503, after: true, path: '/api/v1/session' });
    const lost = await callError(subs(), subs().createCheckoutSession, checkoutRequest(), {
      'idempotency-key': 'co-lost',
    });
    expect(lost.code).toBe(grpc.status.UNAVAILABLE);
    const retried = await call(subs(), subs().createCheckoutSession, checkoutRequest(), {
      'idempotency-key': 'co-lost',
    });
    expect((await world.control<{ sessions: number }>('/state')).sessions).toBe(sessions + 1);
    // Our subscription is the order Subotiz recorded first: one object on each side.
    const session = await fetch(`${world.emulator.url}/api/v1/session/${retried.checkoutSession!.providerRef}`, {
      headers: { authorization: `Bearer ${process.env.TEST_SUBOTIZ_API_KEY}`, 'request-id': crypto.randomUUID() },
    }).then((r) => r.json() as Promise<{ data: { order_id: string } }>);
    expect(session.data.order_id).toBe(retried.subscription!.id);
  });

  it('answers UNAVAILABLE when Subotiz cannot be reached at all, and writes nothing', async () => {
    await call(
      service.clients.storefronts,
      service.clients.storefronts.createStorefront,
      storefrontRequest('down-store', {
        providerConfig: {
          base_url: 'http://127.0.0.1:9',
          sub_merchant_id: 'm-1',
          return_url: 'https://shop.example/thanks',
          cancel_url: 'https://shop.example/cart',
        },
        secretRefs: {
          api_key: subotizSecretRefs().api_key,
          access_no: subotizSecretRefs().access_no,
          webhook_secret: subotizSecretRefs().webhook_secret,
        },
      }),
    );
    const { plan } = await call(service.clients.catalog, service.clients.catalog.createPlan, {
      storefrontId: 'down-store',
      name: 'Basic',
      price: { currencyCode: 'EUR', amountMinor: 500n, amountDecimal: '' },
      interval: { unit: 3, count: 1 },
      trialDays: 0,
      featureKeys: [],
      providerRefs: { subotiz: 'price_x' },
    });
    const { customer } = await call(service.clients.customers, service.clients.customers.createCustomer, {
      storefrontId: 'down-store',
      externalRef: '',
      email: 'down@example.com',
      name: '',
      phone: '',
      country: '',
      address: undefined,
    });
    const before = await rows('subscriptions');
    const error = await callError(subs(), subs().createCheckoutSession, {
      ...checkoutRequest(),
      storefrontId: 'down-store',
      customerId: customer!.id,
      planId: plan!.id,
    });
    expect(error.code).toBe(grpc.status.UNAVAILABLE);
    expect(await rows('subscriptions')).toBe(before);
  });

  it('answers UNIMPLEMENTED naming storefront, provider and operation for what Subotiz cannot do', async () => {
    const subscriptionId = await activeSubscription();
    const pause = await callError(subs(), subs().pauseSubscription, { subscriptionId, resumeTime: undefined });
    expect(pause.code).toBe(grpc.status.UNIMPLEMENTED);
    expect(pause.details).toContain(
      "PauseSubscription is not supported by provider 'subotiz' (storefront 'pay-store')",
    );
    const { storefront } = await call(service.clients.storefronts, service.clients.storefronts.getStorefront, {
      storefrontId: 'pay-store',
    });
    expect(storefront!.binding!.provider).toBe('subotiz');
    const capabilities = storefront!.capabilities;
    expect(capabilities.map((c) => c.operation)).toEqual(
      expect.arrayContaining(['CreateCheckoutSession', 'CancelSubscription', 'CreateRefund', 'RecordUsage']),
    );
    expect(capabilities.map((c) => c.operation)).not.toContain('PauseSubscription');
  });

  it('routes a subscription to its pinned provider after the storefront switches away, calls and webhooks alike', async () => {
    const subscriptionId = await activeSubscription();
    await call(service.clients.storefronts, service.clients.storefronts.switchProvider, {
      storefrontId: 'pay-store',
      provider: 'paytiko',
      providerConfig: PAYTIKO_CONFIG,
      secretRefs: paytikoSecretRefs('tenant-a'),
      reason: 'migration test',
    });
    const canceled = await call(subs(), subs().cancelSubscription, { subscriptionId, atPeriodEnd: true, reason: '' });
    expect(canceled.subscription!.provider).toBe('subotiz');
    expect(canceled.subscription!.cancelAtPeriodEnd).toBe(true);
    // Subotiz's own webhook for it still verifies with the Subotiz binding's secret and is applied.
    await eventually(
      () =>
        withClient(db.url, async (c) => {
          const found = await c.query(
            "select status from webhook_inbox where storefront_id = 'pay-store' and event_type = 'v2.subscription.cancellation_requested'",
          );
          return found.rows.map((r) => r.status as string);
        }),
      (statuses) => statuses.length > 0 && statuses.every((status) => status === 'PROCESSED'),
    );
    const revoked = await call(subs(), subs().revokeCancellation, { subscriptionId });
    expect(revoked.subscription!.cancelAtPeriodEnd).toBe(false);
  });

  it('sells through a storefront that signs its Subotiz calls with Hub-* headers instead of a Bearer key', async () => {
    const hub = await subotizWorld(service, { storefrontId: 'hub-store', authMode: 'hub_signature' });
    try {
      const { id } = await hub.activeSubscription();
      const canceled = await call(subs(), subs().cancelSubscription, {
        subscriptionId: id,
        atPeriodEnd: false,
        reason: '',
      });
      expect(canceled.subscription!.status).toBe(SubscriptionStatus.SUBSCRIPTION_STATUS_CANCELED);
    } finally {
      await hub.close();
    }
  });
});
