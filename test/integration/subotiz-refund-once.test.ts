import { PaymentStatus, RefundStatus } from '../../src/gen/billing/v1/payment';
import { eventually } from '../support/eventually';
import { FAST_WEBHOOKS, subotizWorld, SubotizWorld } from '../support/subotiz-world';
import { createTestDatabase, TestDatabase, withClient } from '../support/test-database';
import { call, startTestService, TestService } from '../support/test-service';

/** A refund is never sent to Subotiz twice blindly: an unknown outcome is looked up by our refund id first. */
describe('Subotiz refunds whose outcome is unknown', () => {
  let db: TestDatabase;
  let service: TestService;
  let world: SubotizWorld;

  beforeAll(async () => {
    db = await createTestDatabase();
    service = await startTestService({ DATABASE_URL: db.url, ...FAST_WEBHOOKS });
    world = await subotizWorld(service, { storefrontId: 'refund-once-store' });
    // Without Request-Id replay (not something Subotiz's document promises) a refund sent twice is two refunds.
    await world.control('/request-id-replay', { enabled: false });
  });

  afterAll(async () => {
    await world?.close();
    await service?.close();
    await db?.drop();
  });

  /** A succeeded payment of a fresh subscription, with its trade id at Subotiz. */
  const paidPayment = async () => {
    const { id } = await world.activeSubscription();
    const payments = await eventually(
      () => world.paymentsOf(id),
      (list) => list.some((p) => p.status === PaymentStatus.PAYMENT_STATUS_SUCCEEDED),
    );
    return payments.find((p) => p.status === PaymentStatus.PAYMENT_STATUS_SUCCEEDED)!;
  };
  const refundsAtSubotiz = async (tradeId: string) => {
    const response = await fetch(`${world.emulator.url}/api/v1/trades/${tradeId}/refunds`, {
      headers: { authorization: `Bearer ${process.env.TEST_SUBOTIZ_API_KEY}`, 'request-id': crypto.randomUUID() },
    });
    return ((await response.json()) as { data: { list: { refund_id: string; metadata: unknown }[] } }).data.list;
  };
  const ourRefunds = (paymentId: string) =>
    withClient(db.url, async (c) => {
      const rows = await c.query('select id, provider_ref from refunds where payment_id = $1', [paymentId]);
      return rows.rows as { id: string; provider_ref: string }[];
    });
  const refund = (paymentId: string) =>
    call(world.payments, world.payments.createRefund, {
      paymentId,
      amount: { currencyCode: 'EUR', amountMinor: 300n, amountDecimal: '' },
      reason: 'lost answer',
    });

  it('answers the refund Subotiz made when its answer was lost, without a second refund', async () => {
    const payment = await paidPayment();
    // Subotiz makes the refund, then the answer is lost (a 503 after the work is done).
    await world.control('/faults', { path: '/api/v1/refund', status: 503, after: true, count: 1 });
    const answer = await refund(payment.id);
    expect(answer.refund!.status).not.toBe(RefundStatus.REFUND_STATUS_FAILED);

    const atSubotiz = await refundsAtSubotiz(payment.providerRef);
    expect(atSubotiz).toHaveLength(1);
    expect(atSubotiz[0]!.metadata).toEqual({ refund_id: answer.refund!.id });
    const ours = await ourRefunds(payment.id);
    expect(ours).toEqual([{ id: answer.refund!.id, provider_ref: atSubotiz[0]!.refund_id }]);
  });

  it('sends once more when Subotiz has no such refund (the lost request never arrived)', async () => {
    const payment = await paidPayment();
    // The request fails before Subotiz acts: a 503 with nothing done.
    await world.control('/faults', { path: '/api/v1/refund', status: 503, count: 1 });
    const answer = await refund(payment.id);

    const atSubotiz = await refundsAtSubotiz(payment.providerRef);
    expect(atSubotiz).toHaveLength(1);
    expect(await ourRefunds(payment.id)).toEqual([{ id: answer.refund!.id, provider_ref: atSubotiz[0]!.refund_id }]);
  });
});
