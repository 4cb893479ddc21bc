import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { PaymentStatus, RefundStatus } from '../../src/gen/billing/v1/payment';
import { eventually } from '../support/eventually';
import { FAST_WEBHOOKS, subotizWorld, SubotizWorld } from '../support/subotiz-world';
import { createTestDatabase, TestDatabase, withClient } from '../support/test-database';
import { call, eventTypesOf, startTestService, TestService } from '../support/test-service';

/** Headers the proxy does not pass on: they describe one hop, not the message. */
const HOP_HEADERS = new Set(['host', 'connection', 'content-length', 'transfer-encoding', 'content-encoding']);

/**
 * An HTTP proxy between the service and the emulator (the storefront's base_url) that passes every request on, and
 * gives the answer to a request `hold` picks only once the promise `hold` returns has settled.
 */
async function holdingProxy(target: () => string, hold: (req: http.IncomingMessage) => Promise<void> | undefined) {
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      void (async () => {
        const headers = Object.entries(req.headers).filter(([name]) => !HOP_HEADERS.has(name)) as [string, string][];
        const body = chunks.length ? Buffer.concat(chunks) : undefined;
        const upstream = await fetch(`${target()}${req.url}`, { method: req.method, headers, body });
        const answer = Buffer.from(await upstream.arrayBuffer());
        await hold(req);
        const answerHeaders = [...upstream.headers].filter(([name]) => !HOP_HEADERS.has(name));
        res.writeHead(upstream.status, Object.fromEntries(answerHeaders)).end(answer);
      })().catch(() => res.writeHead(502).end());
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

/** A refund is never sent to Subotiz twice blindly: an unknown outcome is looked up by our refund id first. */
describe('Subotiz refunds whose outcome is unknown', () => {
  let db: TestDatabase;
  let service: TestService;
  let world: SubotizWorld;
  let proxy: Awaited<ReturnType<typeof holdingProxy>>;
  /** Set by a test: the next Create Refund's answer is held until this settles. */
  let holdRefundAnswer: (() => Promise<void>) | undefined;

  beforeAll(async () => {
    db = await createTestDatabase();
    service = await startTestService({ DATABASE_URL: db.url, ...FAST_WEBHOOKS });
    proxy = await holdingProxy(
      () => world.emulator.url,
      (req) => {
        if (req.method !== 'POST' || req.url !== '/api/v1/refund') return undefined;
        const hold = holdRefundAnswer;
        holdRefundAnswer = undefined;
        return hold?.();
      },
    );
    world = await subotizWorld(service, {
      storefrontId: 'refund-once-store',
      providerConfig: { base_url: proxy.url },
    });
    // Without Request-Id replay (not something Subotiz's document promises) a refund sent twice is two refunds.
    await world.control('/request-id-replay', { enabled: false });
  });

  afterAll(async () => {
    await world?.close();
    await proxy?.close();
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
  /** How many of the storefront's refunds.succeeded webhooks our inbox has tried: processed, or put back to wait. */
  const refundWebhooksTried = () =>
    withClient(db.url, async (c) => {
      const rows = await c.query(
        `select count(*)::int as n from webhook_inbox
          where storefront_id = $1 and event_type like '%refunds.succeeded'
            and (status = 'PROCESSED' or (status = 'PENDING' and last_error is not null))`,
        [world.storefrontId],
      );
      return (rows.rows[0] as { n: number }).n;
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

  it('keeps our refund id when Subotiz reports the refund before CreateRefund has recorded it', async () => {
    const payment = await paidPayment();
    const tried = await refundWebhooksTried();
    // Subotiz makes the refund (settled at once) and sends refunds.succeeded; its answer to Create Refund is held
    // until our inbox has tried that webhook, so the webhook is processed before CreateRefund commits the refund.
    holdRefundAnswer = async () => {
      await eventually(refundWebhooksTried, (n) => n > tried, 10_000).catch(() => undefined);
    };
    const answer = await refund(payment.id);
    expect(holdRefundAnswer).toBeUndefined();
    const id = answer.refund!.id;

    const atSubotiz = await refundsAtSubotiz(payment.providerRef);
    expect(atSubotiz).toHaveLength(1);
    expect(atSubotiz[0]!.metadata).toEqual({ refund_id: id });
    // The webhook waited for our refund and then settled it: one refund, the id CreateRefund answered.
    const settled = await eventually(
      () => call(world.payments, world.payments.getRefund, { refundId: id }),
      (r) => r.refund?.status === RefundStatus.REFUND_STATUS_SUCCEEDED,
    );
    expect(settled.refund!.id).toBe(id);
    expect(await ourRefunds(payment.id)).toEqual([{ id, provider_ref: atSubotiz[0]!.refund_id }]);
    expect(await eventTypesOf(service, id)).toEqual(['billing.refund.succeeded']);
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
