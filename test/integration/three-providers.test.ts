import { BillingEvent } from '../../src/gen/billing/v1/event';
import {
  CheckoutSessionStatus,
  type CreateCheckoutSessionResponse,
  SubscriptionStatus,
} from '../../src/gen/billing/v1/subscription';
import { eventually } from '../support/eventually';
import { brokersFromEnv, KafkaCollector, ReceivedMessage } from '../support/kafka-collector';
import { createTestDatabase, TestDatabase } from '../support/test-database';
import { call, startTestService, TestService } from '../support/test-service';

/** The demo storefronts `npm start` seeds, one per shipped provider, each bound to its in-process emulator. */
const STOREFRONTS = ['demo-subotiz', 'demo-paytiko', 'demo-azotte'] as const;
type Storefront = (typeof STOREFRONTS)[number];

/** One buyer for all three: Paytiko needs a first and a last name, an E.164 phone and a country. */
const BUYER = {
  externalRef: '',
  email: 'grace@example.com',
  name: 'Grace Hopper',
  phone: '+14155550123',
  country: 'US',
};

/** A month and a bit on an emulator's clock: one renewal of the monthly plan. */
const A_MONTH_SECONDS = 2_678_400;

const { ACTIVE, CANCELED } = {
  ACTIVE: SubscriptionStatus.SUBSCRIPTION_STATUS_ACTIVE,
  CANCELED: SubscriptionStatus.SUBSCRIPTION_STATUS_CANCELED,
};

/** What one storefront's flow left behind: our ids, and the provider fields the comparison leaves out. */
interface Sold {
  storefront: Storefront;
  customerId: string;
  subscriptionId: string;
}

/**
 * The same checkout, renewal and immediate cancel on the three demo storefronts (the embedded default's seed and
 * emulators, here against real PostgreSQL and Kafka): a consumer must see the same unified events from each, apart
 * from the provider fields (provider, provider refs, provider_event_id).
 */
describe('one flow on all three demo storefronts', () => {
  let db: TestDatabase;
  let service: TestService;
  let collector: KafkaCollector;

  beforeAll(async () => {
    db = await createTestDatabase();
    service = await startTestService({
      DATABASE_URL: db.url,
      KAFKA_BROKERS: brokersFromEnv().join(','),
      DEMO_SEED: 'true',
      EMULATORS: 'true',
      EMULATOR_PORT: '0',
      // Each provider's webhooks arrive in order here; a short gap wait only matters when one is lost.
      WEBHOOK_ORDER_GAP_MS: '2000',
      WEBHOOK_RETRY_BASE_MS: '200',
    });
    collector = new KafkaCollector(
      brokersFromEnv(),
      ['subscriptions', 'payments', 'customers'].map((t) => `${service.topicPrefix}.${t}.v1`),
    );
    await collector.start();
  }, 120_000);

  afterAll(async () => {
    await collector?.stop();
    await service?.close();
    await db?.drop();
  });

  it('emits the same events, statuses and amounts for checkout, renewal and cancel on Subotiz, Paytiko and Azotte', async () => {
    const sold: Sold[] = [];
    for (const storefront of STOREFRONTS) sold.push(await sellRenewCancel(storefront));

    // The relay publishes after the commit; wait until each subscription's cancel and revoked access are on Kafka.
    await collector.waitFor((messages) =>
      sold.every(
        (s) =>
          messages.some((m) => m.key === s.subscriptionId && m.headers.ce_type === 'billing.subscription.canceled') &&
          messages.some((m) => m.key === s.customerId && m.headers.ce_type === 'billing.entitlement.revoked'),
      ),
    );
    const seen = sold.map((s) => ({
      storefront: s.storefront,
      subscription: unified(collector.messages, s.subscriptionId),
      customer: unified(collector.messages, s.customerId),
    }));
    const [subotiz, ...others] = seen;
    // The storefront rides along so a failure says which provider differs from Subotiz.
    for (const other of others) {
      expect(other).toEqual({
        storefront: other.storefront,
        subscription: subotiz!.subscription,
        customer: subotiz!.customer,
      });
    }
    // And what they agree on is the flow itself, not an empty or partial list.
    expect(subotiz!.subscription.subscription!.map((e) => (e as { type: string }).type)).toEqual(
      expect.arrayContaining([
        'billing.subscription.created',
        'billing.subscription.activated',
        'billing.subscription.renewed',
        'billing.subscription.canceled',
      ]),
    );
    // Each event names its own provider.
    for (const [i, s] of sold.entries()) {
      const provider = s.storefront.replace('demo-', '');
      const events = collector.messages.filter((m) => m.key === s.subscriptionId).map((m) => decode(m));
      expect(new Set(events.map((e) => e.provider))).toEqual(new Set([provider]));
      // What a webhook caused names the provider's event (the renewal always; an activation may come from our own
      // poll of a server-to-server checkout, before its webhook).
      expect(events.find((e) => e.type === 'billing.subscription.renewed')!.providerEventId).not.toBe('');
      expect(seen[i]!.storefront).toBe(s.storefront);
    }
  }, 180_000);

  /** Checkout with the provider's own way to pay, ACTIVE, a renewal on the emulator's clock, cancel now. */
  async function sellRenewCancel(storefront: Storefront): Promise<Sold> {
    const { storefronts, catalog, customers, subscriptions } = service.clients;
    const { storefront: bound } = await call(storefronts, storefronts.getStorefront, { storefrontId: storefront });
    const emulator = bound!.binding!.config.base_url!;
    const { plans } = await call(catalog, catalog.listPlans, {
      storefrontId: storefront,
      includeArchived: false,
      pageSize: 0,
      pageToken: '',
    });
    const basic = plans.find((p) => p.name === 'Basic monthly')!;
    const { customer } = await call(customers, customers.createCustomer, {
      ...BUYER,
      storefrontId: storefront,
      address: undefined,
    });
    const serverToServer = storefront === 'demo-azotte';
    const checkout = await call(
      subscriptions,
      subscriptions.createCheckoutSession,
      {
        storefrontId: storefront,
        customerId: customer!.id,
        mode: 0,
        planId: basic.id,
        quantity: 1,
        amount: undefined,
        description: '',
        successUrl: '',
        cancelUrl: '',
        // Azotte charges a stored method server to server; the demo tenant's customers have test cards.
        paymentMethodRef: serverToServer ? 'pm.test.visa' : '',
        uiMode: 0,
        promotionCode: '',
      },
      { 'idempotency-key': `three-providers-${storefront}` },
    );
    await pay(storefront, emulator, checkout);

    const id = checkout.subscription!.id;
    const read = () =>
      call(subscriptions, subscriptions.getSubscription, { subscriptionId: id }).then((r) => r.subscription!);
    const active = await eventually(read, (s) => s.status === ACTIVE, 30_000);
    const session = await call(subscriptions, subscriptions.getCheckoutSession, {
      checkoutSessionId: checkout.checkoutSession!.id,
    });
    expect(session.checkoutSession!.status).toBe(CheckoutSessionStatus.CHECKOUT_SESSION_STATUS_COMPLETE);

    const advanced = await fetch(`${emulator}/__emulator/clock/advance`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ seconds: A_MONTH_SECONDS }),
    });
    expect(advanced.status).toBe(200);
    const renewed = await eventually(
      read,
      (s) => s.currentPeriodEnd!.getTime() > active.currentPeriodEnd!.getTime(),
      30_000,
    );
    expect(renewed.status).toBe(ACTIVE);

    await call(
      subscriptions,
      subscriptions.cancelSubscription,
      { subscriptionId: id, atPeriodEnd: false, reason: '' },
      { 'idempotency-key': `three-providers-cancel-${storefront}` },
    );
    await eventually(read, (s) => s.status === CANCELED, 30_000);
    return { storefront, customerId: customer!.id, subscriptionId: id };
  }
});

/** Each provider's own way to pay: Subotiz's and Paytiko's hosted pages, Azotte's server-to-server charge. */
async function pay(storefront: Storefront, emulator: string, checkout: CreateCheckoutSessionResponse): Promise<void> {
  const session = checkout.checkoutSession!;
  if (storefront === 'demo-subotiz') {
    // What the hosted page's Pay button posts.
    const paid = await fetch(`${emulator}/__emulator/sessions/${session.providerRef}/complete`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{}',
    });
    expect(paid.status).toBe(200);
  } else if (storefront === 'demo-paytiko') {
    const paid = await fetch(`${session.nextAction!.redirectUrl}/pay`, { method: 'POST', redirect: 'manual' });
    expect(paid.status).toBe(303);
  } else {
    // No page: the charge runs at Azotte while the session is PROCESSING, and the scheduler polls it.
    expect(session.status).toBe(CheckoutSessionStatus.CHECKOUT_SESSION_STATUS_PROCESSING);
    expect(session.nextAction).toBeUndefined();
  }
}

function decode(message: ReceivedMessage): BillingEvent {
  return BillingEvent.decode(message.value);
}

/**
 * A key's events as a consumer compares them across providers, in ce_sequence order within each family
 * (subscription, payment, invoice, entitlement, customer): the type, the status, amounts and features; ids, times and
 * provider fields left out. How the families interleave follows the provider's webhook order (Subotiz reports a
 * renewal's invoice before the renewal, Paytiko and Azotte after it), which no consumer can rely on across topics.
 */
function unified(messages: ReceivedMessage[], key: string): Record<string, unknown[]> {
  const families: Record<string, unknown[]> = {};
  const inOrder = messages
    .filter((m) => m.key === key)
    .sort((a, b) => Number(a.headers.ce_sequence) - Number(b.headers.ce_sequence));
  for (const message of inOrder) {
    const e = decode(message);
    const family = e.type.split('.')[1]!;
    (families[family] ??= []).push({
      type: e.type,
      status: e.subscription?.status ?? e.payment?.status ?? e.invoice?.status,
      cancelAtPeriodEnd: e.subscription?.cancelAtPeriodEnd,
      amount: money(e.payment?.amount ?? e.invoice?.amount),
      feature: e.entitlement?.featureKey,
      active: e.entitlement && e.entitlement.activeUntil === undefined,
    });
  }
  return families;
}

function money(m: { currencyCode: string; amountMinor: bigint } | undefined): string | undefined {
  return m && `${m.amountMinor} ${m.currencyCode}`;
}
