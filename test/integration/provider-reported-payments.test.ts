import * as grpc from '@grpc/grpc-js';
import { randomBytes } from 'node:crypto';
import { type AzotteEmulator, startAzotteEmulator, webhookSignature } from '../../adapters/azotte/emulator';
import { tenantEnvPrefix } from '../../src/domain/secret-reference';
import { IntervalUnit } from '../../src/gen/billing/v1/common';
import {
  InvoiceStatus,
  InvoiceType,
  Payment,
  PaymentServiceClient,
  RefundState,
} from '../../src/gen/billing/v1/payment';
import { SubscriptionStatus } from '../../src/gen/billing/v1/subscription';
import { emulatorControl } from '../support/emulator-control';
import { eventually } from '../support/eventually';
import { storefrontRequest, subscriptionCheckout } from '../support/fixtures';
import { brokersFromEnv, KafkaCollector } from '../support/kafka-collector';
import { FAST_WEBHOOKS } from '../support/subotiz-world';
import { createTestDatabase, TestDatabase, withClient } from '../support/test-database';
import { call, eventTypesOf, startTestService, TestService } from '../support/test-service';

const TENANT = 'tn-refunds';
const STOREFRONT = 'refunds-azotte';
const STOREFRONT_URN = 'st.00.501';
const BUNDLE = 'bn.refunds.basic';
const PRO_BUNDLE = 'bn.refunds.pro';
const DAY_SECONDS = 86_400;

/**
 * Payments as a provider reports them, through the core (driven by the Azotte emulator; real gRPC, PostgreSQL, Kafka
 * and HTTP). A refund made at the provider (its portal), reported only as the payment's new state: the core records
 * it on a payment it already holds as SUCCEEDED — refund state, refunded amount, `billing.payment.refunded` — and
 * never lowers it again on a late report. The invoices of a subscription carry the provider's cycle numbers, as every
 * provider numbers them (INITIAL 1, each RENEWAL the next), also after a plan change that re-issues the subscription.
 */
describe('payments the provider reports, through the core', () => {
  const apiKey = `az_${randomBytes(8).toString('hex')}`;
  const webhookSecret = `whsec_${randomBytes(8).toString('hex')}`;
  let db: TestDatabase;
  let service: TestService;
  let emulator: AzotteEmulator;
  let collector: KafkaCollector;
  let payments: PaymentServiceClient;
  let planId = '';
  let proPlanId = '';
  let customerId = '';

  beforeAll(async () => {
    db = await createTestDatabase();
    service = await startTestService({
      DATABASE_URL: db.url,
      KAFKA_BROKERS: brokersFromEnv().join(','),
      EVENT_ENCODING: 'json',
      SCHEDULER_POLL_INTERVAL_MS: '100',
      ...FAST_WEBHOOKS,
    });
    emulator = await startAzotteEmulator({
      tenants: [
        {
          tenant: TENANT,
          apiKey,
          webhookUrl: `http://127.0.0.1:${service.httpPort}/webhooks/azotte/${STOREFRONT}`,
          webhookSecrets: [webhookSecret],
          testCards: true,
        },
      ],
      catalog: {
        storefronts: [{ storefrontUrn: STOREFRONT_URN, currency: 'EUR' }],
        bundles: [
          {
            storefrontUrn: STOREFRONT_URN,
            bundleUrn: BUNDLE,
            sku: 'REFUNDS-BASIC-M',
            name: 'Basic monthly',
            amountMilpieces: 999n,
            currency: 'EUR',
            period: { unit: 'Month', count: 1 },
            trialDays: 0,
            entitlements: ['basic'],
          },
          {
            storefrontUrn: STOREFRONT_URN,
            bundleUrn: PRO_BUNDLE,
            sku: 'REFUNDS-PRO-M',
            name: 'Pro monthly',
            amountMilpieces: 1999n,
            currency: 'EUR',
            period: { unit: 'Month', count: 1 },
            trialDays: 0,
            entitlements: ['basic', 'pro'],
          },
        ],
        campaigns: [],
      },
    });
    // The emulator's default processing delay (2 s) is kept: with 0, its webhooks can reach the core before
    // CreateCheckoutSession has recorded the subscription, and the core adopts a second one (see the report).
    const variable = (name: string) => `${tenantEnvPrefix('tenant-a')}AZOTTE_REFUNDS_${name}`;
    process.env[variable('API_KEY')] = apiKey;
    process.env[variable('WEBHOOK_SECRET')] = webhookSecret;
    const { storefronts, catalog, customers } = service.clients;
    await call(
      storefronts,
      storefronts.createStorefront,
      storefrontRequest(STOREFRONT, {
        provider: 'azotte',
        providerConfig: { base_url: emulator.url, tenant: TENANT, storefront_urn: STOREFRONT_URN },
        secretRefs: { api_key: `env:${variable('API_KEY')}`, webhook_secret: `env:${variable('WEBHOOK_SECRET')}` },
      }),
    );
    const plan = async (name: string, amountMinor: bigint, featureKeys: string[], bundleUrn: string) =>
      (
        await call(catalog, catalog.createPlan, {
          storefrontId: STOREFRONT,
          name,
          price: { currencyCode: 'EUR', amountMinor, amountDecimal: '' },
          interval: { unit: IntervalUnit.INTERVAL_UNIT_MONTH, count: 1 },
          trialDays: 0,
          featureKeys,
          providerRefs: { azotte: bundleUrn },
        })
      ).plan!.id;
    planId = await plan('Basic monthly', 999n, ['basic'], BUNDLE);
    proPlanId = await plan('Pro monthly', 1999n, ['basic', 'pro'], PRO_BUNDLE);
    customerId = (
      await call(customers, customers.createCustomer, {
        storefrontId: STOREFRONT,
        externalRef: 'refund-user',
        email: 'refund@example.com',
        name: 'Ada Lovelace',
        phone: '',
        country: 'DE',
        address: undefined,
      })
    ).customer!.id;
    payments = new PaymentServiceClient(`127.0.0.1:${service.grpcPort}`, grpc.credentials.createInsecure());
    collector = new KafkaCollector(brokersFromEnv(), [`${service.topicPrefix}.payments.v1`]);
    await collector.start();
  });

  afterAll(async () => {
    await collector?.stop();
    payments?.close();
    await emulator?.stop();
    await service?.close();
    await db?.drop();
  });

  const subs = () => service.clients.subscriptions;
  const paymentsOf = async (subscriptionId: string) =>
    (
      await call(payments, payments.listPayments, {
        storefrontId: '',
        customerId: '',
        subscriptionId,
        pageSize: 50,
        pageToken: '',
      })
    ).payments;
  const paymentById = async (id: string) => (await call(payments, payments.getPayment, { paymentId: id })).payment!;
  /** The `billing.payment.refunded` events of one payment, as consumers read them (JSON encoding). */
  const refundedEvents = (paymentId: string) =>
    collector.messages
      .filter((m) => m.headers.ce_type === 'billing.payment.refunded')
      .map((m) => JSON.parse(m.value.toString('utf8')) as { payment: { id: string; refundedAmount: unknown } })
      .filter((body) => body.payment.id === paymentId);
  const processed = (eventId: string) =>
    eventually(
      () =>
        withClient(
          db.url,
          async (c) =>
            (
              await c.query<{ status: string }>('select status from webhook_inbox where provider_event_id = $1', [
                eventId,
              ])
            ).rows[0],
        ),
      (row) => row?.status === 'PROCESSED',
    );

  /** The inbox's note of a processed webhook (what the core did with it). */
  const outcomeOf = async (eventId: string) =>
    withClient(
      db.url,
      async (c) =>
        (
          await c.query<{ outcome: string }>('select outcome from webhook_inbox where provider_event_id = $1', [
            eventId,
          ])
        ).rows[0]?.outcome,
    );
  /**
   * A `payment.*` webhook as Azotte signs it, about a payment of the subscription (`providerRef`) as the emulator
   * holds it; `data` overrides its fields. Answers the event's id once the core processed it.
   */
  async function sendPaymentWebhook(
    type: string,
    providerRef: string,
    data: Record<string, unknown>,
    sequence: number,
  ): Promise<string> {
    const stored = await emulatorControl<{ customerUrn: string; currentPeriodStart: number; currentPeriodEnd: number }>(
      emulator.url,
      `/subscriptions/${providerRef}`,
    );
    const event = {
      id: `ev_forged_${randomBytes(4).toString('hex')}`,
      type,
      groupCode: 20,
      tenantId: TENANT,
      occurredAt: new Date().toISOString(),
      sequence,
      correlationId: 'portal_report',
      actor: { type: 'P2A', id: 'portal' },
      data: {
        orderIdentifier: providerRef,
        customerUrn: stored.customerUrn,
        paymentMethodUrn: 'pm.test.visa',
        amountMilpieces: 999,
        currency: 'EUR',
        periodStart: new Date(stored.currentPeriodStart).toISOString(),
        periodEnd: new Date(stored.currentPeriodEnd).toISOString(),
        failure: null,
        refundedMilpieces: 0,
        subscription: null,
        ...data,
      },
    };
    const body = JSON.stringify(event);
    const response = await fetch(`http://127.0.0.1:${service.httpPort}/webhooks/azotte/${STOREFRONT}`, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        'azotte-signature': webhookSignature([webhookSecret], Math.floor(Date.now() / 1000), body),
      },
      body,
    });
    expect(response.status).toBeLessThan(300);
    await processed(event.id);
    return event.id;
  }

  /** A paid subscription: its first payment as we hold it (SUCCEEDED, nothing refunded). */
  async function paidSubscription(): Promise<{ subscriptionId: string; payment: Payment }> {
    const request = { ...subscriptionCheckout(STOREFRONT, customerId, planId), paymentMethodRef: 'pm.test.visa' };
    const answer = await call(subs(), subs().createCheckoutSession, request);
    const subscriptionId = answer.subscription!.id;
    await eventually(
      async () => (await call(subs(), subs().getSubscription, { subscriptionId })).subscription!,
      (s) => s.status === SubscriptionStatus.SUBSCRIPTION_STATUS_ACTIVE,
    );
    const [payment] = await eventually(
      () => paymentsOf(subscriptionId),
      (list) => list.length === 1 && list[0]!.providerRef !== '',
    );
    expect(payment).toMatchObject({ refundState: RefundState.REFUND_STATE_NONE, refundedAmount: { amountMinor: 0n } });
    return { subscriptionId, payment: payment! };
  }

  it('a portal refund, in part then in full, is recorded on the SUCCEEDED payment and told once each', async () => {
    const { payment } = await paidSubscription();
    await emulatorControl(emulator.url, `/payments/${payment.providerRef}/refund`, { amount_milpieces: 300 });
    const partly = await eventually(
      () => paymentById(payment.id),
      (p) => p.refundState === RefundState.REFUND_STATE_PARTIALLY_REFUNDED,
    );
    expect(partly).toMatchObject({
      status: payment.status,
      amount: { amountMinor: 999n },
      refundedAmount: { currencyCode: 'EUR', amountMinor: 300n },
    });
    await emulatorControl(emulator.url, `/payments/${payment.providerRef}/refund`, {});
    const fully = await eventually(
      () => paymentById(payment.id),
      (p) => p.refundState === RefundState.REFUND_STATE_REFUNDED,
    );
    expect(fully.refundedAmount).toMatchObject({ amountMinor: 999n });
    const events = await eventually(
      () => Promise.resolve(refundedEvents(payment.id)),
      (list) => list.length >= 2,
    );
    expect(events.map((e) => e.payment.refundedAmount)).toEqual([
      expect.objectContaining({ amountMinor: '300' }),
      expect.objectContaining({ amountMinor: '999' }),
    ]);
  });

  it('a late report of a smaller refunded amount never lowers it, and tells nothing', async () => {
    const { subscriptionId, payment } = await paidSubscription();
    await emulatorControl(emulator.url, `/payments/${payment.providerRef}/refund`, { amount_milpieces: 500 });
    await eventually(
      () => paymentById(payment.id),
      (p) => p.refundState === RefundState.REFUND_STATE_PARTIALLY_REFUNDED,
    );
    await eventually(
      () => Promise.resolve(refundedEvents(payment.id)),
      (list) => list.length === 1,
    );
    // The same payment as Azotte reported it before (200 refunded), delivered late: a new event id, an old sequence.
    const subscription = (await call(subs(), subs().getSubscription, { subscriptionId })).subscription!;
    const stored = await emulatorControl<{ customerUrn: string; currentPeriodStart: number; currentPeriodEnd: number }>(
      emulator.url,
      `/subscriptions/${subscription.providerRef}`,
    );
    const late = {
      id: `ev_late_${randomBytes(4).toString('hex')}`,
      type: 'payment.refunded',
      groupCode: 20,
      tenantId: TENANT,
      occurredAt: new Date().toISOString(),
      sequence: 2,
      correlationId: 'portal_late',
      actor: { type: 'P2A', id: 'portal' },
      data: {
        paymentUrn: payment.providerRef,
        orderIdentifier: subscription.providerRef,
        customerUrn: stored.customerUrn,
        paymentMethodUrn: 'pm.test.visa',
        kind: 'Initial',
        amountMilpieces: 999,
        currency: 'EUR',
        state: 'Captured',
        periodStart: new Date(stored.currentPeriodStart).toISOString(),
        periodEnd: new Date(stored.currentPeriodEnd).toISOString(),
        failure: null,
        refundedMilpieces: 200,
        subscription: null,
        cycle: 1,
      },
    };
    const body = JSON.stringify(late);
    const response = await fetch(`http://127.0.0.1:${service.httpPort}/webhooks/azotte/${STOREFRONT}`, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        'azotte-signature': webhookSignature([webhookSecret], Math.floor(Date.now() / 1000), body),
      },
      body,
    });
    expect(response.status).toBeLessThan(300);
    await processed(late.id);
    expect(await paymentById(payment.id)).toMatchObject({
      refundState: RefundState.REFUND_STATE_PARTIALLY_REFUNDED,
      refundedAmount: { amountMinor: 500n },
    });
    // Read from the outbox, written in the same transaction as the payment: nothing more was told.
    expect((await eventTypesOf(service, payment.id)).filter((t) => t === 'billing.payment.refunded')).toHaveLength(1);
  });

  it('a signed report of more refunded than the payment was is refused: nothing stored, nothing told', async () => {
    const { subscriptionId, payment } = await paidSubscription();
    const subscription = (await call(subs(), subs().getSubscription, { subscriptionId })).subscription!;
    // 1,000 EUR refunded on a 9.99 EUR payment (a forged or broken report, signed with the storefront's secret).
    const eventId = await sendPaymentWebhook(
      'payment.refunded',
      subscription.providerRef,
      {
        paymentUrn: payment.providerRef,
        kind: 'Initial',
        state: 'Captured',
        refundedMilpieces: 100_000,
        cycle: 1,
      },
      2,
    );
    expect(await outcomeOf(eventId)).toContain("refund above the payment's amount, not applied");
    expect(await paymentById(payment.id)).toMatchObject({
      refundState: RefundState.REFUND_STATE_NONE,
      refundedAmount: { amountMinor: 0n },
    });
    expect(await eventTypesOf(service, payment.id)).not.toContain('billing.payment.refunded');
    // Nor is its invoice refunded on the same claim.
    expect(await cyclesOf(subscriptionId, 1)).toEqual([['INVOICE_TYPE_INITIAL', 'INVOICE_STATUS_PAID', 1]]);
    // What is left to refund is still the whole payment: a real refund of it is taken, told once.
    await emulatorControl(emulator.url, `/payments/${payment.providerRef}/refund`, {});
    const refunded = await eventually(
      () => paymentById(payment.id),
      (p) => p.refundState === RefundState.REFUND_STATE_REFUNDED,
    );
    expect(refunded.refundedAmount).toMatchObject({ amountMinor: 999n });
  });

  const invoicesOf = async (subscriptionId: string) =>
    (await call(payments, payments.listInvoices, { subscriptionId, customerId: '', pageSize: 50, pageToken: '' }))
      .invoices;
  /** The subscription's invoices as [type, status, cycle], oldest first, once `count` of them are recorded. */
  const cyclesOf = async (subscriptionId: string, count: number) =>
    (
      await eventually(
        () => invoicesOf(subscriptionId),
        (list) => list.length >= count,
      )
    )
      .sort((a, b) => a.createTime!.getTime() - b.createTime!.getTime())
      .map((i) => [InvoiceType[i.type], InvoiceStatus[i.status], i.cycleIndex]);
  const advanceDays = (days: number) =>
    emulatorControl(emulator.url, '/clock/advance', { seconds: days * DAY_SECONDS });

  // These move the emulator's clock (every subscription renews on the way): they run after the refund cases.
  it('invoices carry the cycle every provider gives them: INITIAL 1, each RENEWAL the next', async () => {
    const { subscriptionId } = await paidSubscription();
    expect(await cyclesOf(subscriptionId, 1)).toEqual([['INVOICE_TYPE_INITIAL', 'INVOICE_STATUS_PAID', 1]]);
    await advanceDays(32);
    expect(await cyclesOf(subscriptionId, 2)).toEqual([
      ['INVOICE_TYPE_INITIAL', 'INVOICE_STATUS_PAID', 1],
      ['INVOICE_TYPE_RENEWAL', 'INVOICE_STATUS_PAID', 2],
    ]);
  });

  it('a failed attempt reported after its cycle was paid leaves the invoice PAID and tells nothing', async () => {
    const { subscriptionId } = await paidSubscription();
    await advanceDays(32);
    await cyclesOf(subscriptionId, 2);
    const renewal = (await invoicesOf(subscriptionId)).find((i) => i.cycleIndex === 2)!;
    expect(renewal.status).toBe(InvoiceStatus.INVOICE_STATUS_PAID);
    const subscription = (await call(subs(), subs().getSubscription, { subscriptionId })).subscription!;
    const told = await eventTypesOf(service, renewal.id);
    // An earlier, failed attempt at cycle 2 (one invoice per cycle, shared by its attempts), delivered late.
    const eventId = await sendPaymentWebhook(
      'payment.failed',
      subscription.providerRef,
      {
        paymentUrn: `pm.late.${randomBytes(4).toString('hex')}`,
        kind: 'Renewal',
        state: 'Failed',
        failure: { code: 'card_declined', message: 'declined' },
        cycle: 2,
      },
      1,
    );
    expect(await outcomeOf(eventId)).toContain(`invoice ${renewal.id} stays PAID (reported FAILED)`);
    const after = (await invoicesOf(subscriptionId)).find((i) => i.cycleIndex === 2)!;
    expect(after).toMatchObject({ id: renewal.id, status: InvoiceStatus.INVOICE_STATUS_PAID });
    expect(await eventTypesOf(service, renewal.id)).toEqual(told);
    expect(told).not.toContain('billing.invoice.payment_failed');
  });

  it('after a plan change that re-issues the subscription at the provider, its renewals are still recorded', async () => {
    const { subscriptionId } = await paidSubscription();
    await advanceDays(32);
    await cyclesOf(subscriptionId, 2);
    await call(subs(), subs().changePlan, { subscriptionId, planId: proPlanId });
    expect(await cyclesOf(subscriptionId, 3)).toEqual([
      ['INVOICE_TYPE_INITIAL', 'INVOICE_STATUS_PAID', 1],
      ['INVOICE_TYPE_RENEWAL', 'INVOICE_STATUS_PAID', 2],
      // The provider's new subscription keeps the lineage's count (README 38): the Replace pays period 3.
      ['INVOICE_TYPE_UPGRADE', 'INVOICE_STATUS_PAID', 3],
    ]);
    await advanceDays(32);
    const invoices = await cyclesOf(subscriptionId, 4);
    expect(invoices[3]).toEqual(['INVOICE_TYPE_RENEWAL', 'INVOICE_STATUS_PAID', 4]);
  });
});
