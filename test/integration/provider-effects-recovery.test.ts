import * as grpc from '@grpc/grpc-js';
import { CreateRefundResponse, PaymentStatus, RefundStatus } from '../../src/gen/billing/v1/payment';
import { SubscriptionStatus } from '../../src/gen/billing/v1/subscription';
import { eventually } from '../support/eventually';
import { FAST_WEBHOOKS, subotizWorld, SubotizWorld } from '../support/subotiz-world';
import { createTestDatabase, TestDatabase, withClient } from '../support/test-database';
import {
  call,
  callError,
  callWithTrailers,
  eventTypesOf,
  startTestService,
  TestService,
} from '../support/test-service';

/**
 * Provider effects that cannot be undone (refunds, cancellations) survive a failure between the provider's work and
 * ours: a retry with the same idempotency key resumes the recorded effect, and the provider acts once.
 */
describe('provider effects recorded before the provider call', () => {
  let db: TestDatabase;
  let service: TestService;
  let world: SubotizWorld;
  let paymentId: string;

  beforeAll(async () => {
    db = await createTestDatabase();
    service = await startTestService({ DATABASE_URL: db.url, ...FAST_WEBHOOKS });
    world = await subotizWorld(service, { storefrontId: 'effects-store' });
    const { id } = await world.activeSubscription();
    const payments = await eventually(
      () => world.paymentsOf(id),
      (list) => list.some((p) => p.status === PaymentStatus.PAYMENT_STATUS_SUCCEEDED),
    );
    paymentId = payments.find((p) => p.status === PaymentStatus.PAYMENT_STATUS_SUCCEEDED)!.id;
  });

  afterAll(async () => {
    await world?.close();
    await service?.close();
    await db?.drop();
  });

  const sql = (text: string) => withClient(db.url, (c) => c.query(text));
  const providerRefunds = async () => (await world.control<{ refunds: number }>('/state')).refunds;
  const localRefunds = async () =>
    Number((await sql(`SELECT count(*) AS n FROM refunds WHERE payment_id = '${paymentId}'`)).rows[0].n);
  const refundRequest = (amountMinor: bigint, reason: string) => ({
    paymentId,
    amount: { currencyCode: 'EUR', amountMinor, amountDecimal: '' },
    reason,
  });
  const refundedMinor = async () =>
    (await call(world.payments, world.payments.getPayment, { paymentId })).payment!.refundedAmount!.amountMinor;

  it('a refund whose answer was lost is resumed with the same Request-Id: Subotiz refunds once', async () => {
    const before = await providerRefunds();
    const localBefore = await localRefunds();
    // Subotiz refunds, then the answer is lost, and so is every answer to the adapter's lookup of it.
    await world.control('/faults', { count: 1, status: 503, after: true, path: '/api/v1/refund' });
    await world.control('/faults', { count: 100, status: 503, path: '/api/v1/refunds?' });
    const key = { 'idempotency-key': 'refund-answer-lost' };
    const lost = await callError(world.payments, world.payments.createRefund, refundRequest(300n, 'second'), key);
    await world.control('/faults/clear', {});
    expect(lost.code).toBe(grpc.status.UNAVAILABLE);
    expect(await providerRefunds()).toBe(before + 1);

    const retried = await call(world.payments, world.payments.createRefund, refundRequest(300n, 'second'), key);
    expect(retried.refund!.amount!.amountMinor).toBe(300n);
    expect(await providerRefunds()).toBe(before + 1);
    expect(await localRefunds()).toBe(localBefore + 1);
    await eventually(refundedMinor, (minor) => minor === 300n);
  });

  it('a refund the provider made but we failed to record is recorded once on retry, and refunded once', async () => {
    const before = await providerRefunds();
    const localBefore = await localRefunds();
    const refundWebhooks = () =>
      sql("SELECT count(*) AS n FROM webhook_inbox WHERE event_type LIKE '%refund%' AND status <> 'PENDING'").then(
        (r) => Number(r.rows[0].n),
      );
    const webhooksBefore = await refundWebhooks();
    // The refund's final transaction fails once, after Subotiz refunded: a sequence counts across rollbacks.
    await sql(`
      CREATE SEQUENCE refund_fault_hits;
      CREATE FUNCTION fail_first_refund_record() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        IF nextval('refund_fault_hits') = 1 THEN RAISE EXCEPTION 'injected: refund not recorded'; END IF;
        RETURN NEW;
      END $$;
      CREATE TRIGGER fail_first_refund_record BEFORE INSERT ON audit_log
        FOR EACH ROW WHEN (NEW.action = 'CreateRefund') EXECUTE FUNCTION fail_first_refund_record();`);
    // No amount: the whole remainder, which is nothing once Subotiz's webhook has told us of the refund.
    const request = { paymentId, amount: undefined, reason: 'local write fails' };
    const key = { 'idempotency-key': 'refund-local-write-fails' };
    const failed = await callError(world.payments, world.payments.createRefund, request, key);
    expect(failed.code).toBe(grpc.status.INTERNAL);
    expect(await providerRefunds()).toBe(before + 1);
    // Let the provider's own report of the refund arrive first: the retry must not re-check what is left.
    await eventually(refundWebhooks, (n) => n > webhooksBefore);

    const retried = await callWithTrailers(world.payments, world.payments.createRefund, request, key);
    const replayed = await callWithTrailers(world.payments, world.payments.createRefund, request, key);
    await sql('DROP TRIGGER fail_first_refund_record ON audit_log');

    expect(retried.response.refund!.amount!.amountMinor).toBe(1699n);
    expect(Buffer.from(CreateRefundResponse.encode(replayed.response).finish())).toEqual(
      Buffer.from(CreateRefundResponse.encode(retried.response).finish()),
    );
    expect(replayed.trailers.get('idempotent-replayed')).toEqual(['true']);
    expect(await providerRefunds()).toBe(before + 1);
    expect(await localRefunds()).toBe(localBefore + 1);
    // The payment shows the remainder refunded once: 3.00 + 16.99, not more.
    await eventually(
      () => call(world.payments, world.payments.getRefund, { refundId: retried.response.refund!.id }),
      (r) => r.refund!.status === RefundStatus.REFUND_STATUS_SUCCEEDED,
    );
    expect(await refundedMinor()).toBe(1999n);
  });

  it('a cancellation whose answer was lost is resumed by asking Subotiz, and cancels once', async () => {
    const { id } = await world.activeSubscription();
    const subs = service.clients.subscriptions;
    await world.control('/faults', { count: 3, status: 503, after: true, path: '/cancel' });
    const key = { 'idempotency-key': 'cancel-answer-lost' };
    const request = { subscriptionId: id, atPeriodEnd: false, reason: 'lost answer' };
    const lost = await callError(subs, subs.cancelSubscription, request, key);
    expect(lost.code).toBe(grpc.status.UNAVAILABLE);

    // The webhook may already have told us; the retry answers the cancellation either way, instead of refusing it.
    const retried = await call(subs, subs.cancelSubscription, request, key);
    expect(retried.subscription!.status).toBe(SubscriptionStatus.SUBSCRIPTION_STATUS_CANCELED);
    const types = await eventually(
      () => eventTypesOf(service, id),
      (t) => t.includes('billing.subscription.canceled'),
    );
    expect(types.filter((t) => t === 'billing.subscription.canceled')).toHaveLength(1);
  });
});
