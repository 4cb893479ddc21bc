import * as grpc from '@grpc/grpc-js';
import type { PaytikoEmulator } from '../../adapters/paytiko/emulator';
import { capabilitiesOf } from '../../src/app/providers/provider-capabilities';
import { IntervalUnit } from '../../src/gen/billing/v1/common';
import { BillingEvent } from '../../src/gen/billing/v1/event';
import { CapabilitySupport, type Storefront } from '../../src/gen/billing/v1/storefront';
import { CheckoutMode, SubscriptionStatus } from '../../src/gen/billing/v1/subscription';
import { shippedProviders } from '../../scripts/capability-doc';
import { eventually } from '../support/eventually';
import { subscriptionCheckout } from '../support/fixtures';
import { brokersFromEnv, KafkaCollector, ReceivedMessage } from '../support/kafka-collector';
import {
  createPaytikoCustomer,
  paytikoBinding,
  paytikoControl,
  paytikoControls,
  paytikoMerchant,
  paytikoPlanRequest,
  startPaytiko,
} from '../support/paytiko-world';
import { FAST_WEBHOOKS, subotizWorld, SubotizWorld, TEST_TENANT } from '../support/subotiz-world';
import { createTestDatabase, TestDatabase } from '../support/test-database';
import { call, callError, eventTypesOf, startTestService, TestService } from '../support/test-service';

const STORE = 'swap-store';
const { ACTIVE, CANCELED, INCOMPLETE } = {
  ACTIVE: SubscriptionStatus.SUBSCRIPTION_STATUS_ACTIVE,
  CANCELED: SubscriptionStatus.SUBSCRIPTION_STATUS_CANCELED,
  INCOMPLETE: SubscriptionStatus.SUBSCRIPTION_STATUS_INCOMPLETE,
};

/** The Paytiko merchant the platform team switches to. */
const MERCHANT = paytikoMerchant();

/** What GetStorefront should list for `provider`: capabilitiesOf over the shipped module, in the proto's terms. */
function expectedCapabilities(provider: string) {
  const loaded = shippedProviders().find((p) => p.id === provider)!;
  return capabilitiesOf(loaded).map((c) => ({
    operation: c.operation,
    support:
      c.support === 'NATIVE'
        ? CapabilitySupport.CAPABILITY_SUPPORT_NATIVE
        : CapabilitySupport.CAPABILITY_SUPPORT_EMULATED,
  }));
}

/** What the adapters' documents say, written out: the derived lists above must agree with these. */
function expectDocumented(capabilities: { operation: string; support: CapabilitySupport }[], provider: string) {
  const support = (operation: string) => capabilities.find((c) => c.operation === operation)?.support;
  if (provider === 'subotiz') {
    expect(support('CancelSubscription.at_period_end')).toBe(CapabilitySupport.CAPABILITY_SUPPORT_NATIVE);
    expect(support('CreateCheckoutSession.trial')).toBe(CapabilitySupport.CAPABILITY_SUPPORT_NATIVE);
    expect(support('ChangePlan')).toBeUndefined();
  } else {
    expect(support('CancelSubscription.at_period_end')).toBe(CapabilitySupport.CAPABILITY_SUPPORT_EMULATED);
    expect(support('RevokeCancellation')).toBe(CapabilitySupport.CAPABILITY_SUPPORT_EMULATED);
    expect(support('ChangePlan')).toBe(CapabilitySupport.CAPABILITY_SUPPORT_NATIVE);
    expect(support('CreateCheckoutSession.trial')).toBeUndefined();
    expect(support('CreateRefund')).toBeUndefined();
  }
}

/**
 * A storefront moves from Subotiz to Paytiko (two real adapters, each against its emulator over HTTP): what was sold
 * before stays on Subotiz, what is sold after goes to Paytiko, and a switch some plan cannot follow changes nothing.
 */
describe('SwitchProvider from Subotiz to Paytiko, end to end', () => {
  let db: TestDatabase;
  let service: TestService;
  let subotiz: SubotizWorld;
  let paytiko: PaytikoEmulator;
  let collector: KafkaCollector;
  /** Subscription A: sold on Subotiz before the switch. */
  let subscriptionA = '';
  /** Subscription B and its customer: sold on Paytiko after the switch. */
  let subscriptionB = '';
  let customerB = '';

  beforeAll(async () => {
    db = await createTestDatabase();
    service = await startTestService({
      DATABASE_URL: db.url,
      KAFKA_BROKERS: brokersFromEnv().join(','),
      ...FAST_WEBHOOKS,
    });
    subotiz = await subotizWorld(service, { storefrontId: STORE });
    paytiko = await startPaytiko([MERCHANT]);
    collector = new KafkaCollector(
      brokersFromEnv(),
      ['storefronts', 'subscriptions'].map((s) => `${service.topicPrefix}.${s}.v1`),
    );
    await collector.start();
  });

  afterAll(async () => {
    await collector?.stop();
    await paytiko?.stop();
    await subotiz?.close();
    await service?.close();
    await db?.drop();
  });

  const storefronts = () => service.clients.storefronts;
  const subs = () => service.clients.subscriptions;
  const storefront = async (): Promise<Storefront> =>
    (await call(storefronts(), storefronts().getStorefront, { storefrontId: STORE })).storefront!;
  const bindings = async () =>
    (await call(storefronts(), storefronts().listProviderBindings, { storefrontId: STORE })).bindings;
  const switchToPaytiko = () =>
    call(storefronts(), storefronts().switchProvider, {
      storefrontId: STORE,
      ...paytikoBinding(paytiko, MERCHANT, { tenantId: TEST_TENANT, storefrontId: STORE }),
      provider: 'paytiko',
      reason: 'cheaper renewals',
    });
  /** Moves the Subotiz emulator's clock to a minute past `date`. */
  const advanceSubotizPast = async (date: Date) => {
    const { now } = await subotiz.control<{ now: string }>('/clock');
    await subotiz.control('/clock/advance', { seconds: Math.ceil((date.getTime() - Date.parse(now)) / 1000) + 60 });
  };
  const keyed = (key: string, messages: ReceivedMessage[]) =>
    messages.filter((m) => m.key === key).sort((a, b) => Number(a.headers.ce_sequence) - Number(b.headers.ce_sequence));

  it('sells subscription A on Subotiz while the storefront is bound to it', async () => {
    const before = (await storefront()).capabilities;
    expectDocumented(before, 'subotiz');
    expect(before).toEqual(expectedCapabilities('subotiz'));
    subscriptionA = (await subotiz.activeSubscription()).id;
    expect((await subotiz.subscription(subscriptionA)).provider).toBe('subotiz');
  });

  it('refuses the switch while an active plan has a trial (FAILED_PRECONDITION) and changes nothing', async () => {
    const { catalog } = service.clients;
    const { plan: trialPlan } = await call(catalog, catalog.createPlan, {
      storefrontId: STORE,
      name: 'Pro monthly with trial',
      price: { currencyCode: 'EUR', amountMinor: 1999n, amountDecimal: '' },
      interval: { unit: IntervalUnit.INTERVAL_UNIT_MONTH, count: 1 },
      trialDays: 14,
      featureKeys: ['pro'],
      providerRefs: { subotiz: 'price_trial' },
    });
    const before = { storefront: await storefront(), bindings: await bindings() };

    const error = await callError(storefronts(), storefronts().switchProvider, {
      storefrontId: STORE,
      ...paytikoBinding(paytiko, MERCHANT, { tenantId: TEST_TENANT, storefrontId: STORE }),
      provider: 'paytiko',
      reason: 'cheaper renewals',
    });
    expect(error.code).toBe(grpc.status.FAILED_PRECONDITION);
    expect(error.details).toContain(trialPlan!.id);
    expect(error.details).toContain('no free trials');

    // Nothing moved: the binding, its history, the version and the capabilities are what they were.
    expect(await storefront()).toEqual(before.storefront);
    expect(await bindings()).toEqual(before.bindings);
    expect(before.bindings.map((b) => b.provider)).toEqual(['subotiz']);

    // The plan is retired (its subscriptions would keep running); the switch can go ahead.
    await call(catalog, catalog.archivePlan, { planId: trialPlan!.id });
  });

  it('switches to Paytiko: history kept, provider_switched on Kafka once, GetStorefront lists Paytiko’s capabilities', async () => {
    const { storefront: switched } = await switchToPaytiko();
    expect(switched!.binding!.provider).toBe('paytiko');
    expectDocumented(switched!.capabilities, 'paytiko');
    expect(switched!.capabilities).toEqual(expectedCapabilities('paytiko'));
    expect((await storefront()).capabilities).toEqual(expectedCapabilities('paytiko'));
    // Paytiko's list says what the switch changed for callers: cancel at period end is ours now, trials are gone.
    const paytikoOps = switched!.capabilities.map((c) => c.operation);
    expect(switched!.capabilities).toContainEqual({
      operation: 'CancelSubscription.at_period_end',
      support: CapabilitySupport.CAPABILITY_SUPPORT_EMULATED,
    });
    expect(paytikoOps).not.toContain('CreateCheckoutSession.trial');

    const history = await bindings();
    expect(history.map((b) => b.provider)).toEqual(['subotiz', 'paytiko']);
    expect(history[0]!.validUntil).toEqual(history[1]!.validFrom);
    expect(history[1]).toMatchObject({ actor: 'test-admin', reason: 'cheaper renewals', validUntil: undefined });
    // The binding shows references, never the secrets behind them.
    expect(JSON.stringify(history)).not.toContain(MERCHANT.password);

    const messages = keyed(
      STORE,
      await collector.waitFor((ms) => ms.some((m) => m.headers.ce_type === 'billing.storefront.provider_switched')),
    );
    const storefrontTypes = messages.map((m) => m.headers.ce_type).filter((t) => t!.startsWith('billing.storefront.'));
    // The refused switch emitted nothing.
    expect(storefrontTypes).toEqual(['billing.storefront.created', 'billing.storefront.provider_switched']);
    const event = BillingEvent.decode(messages.find((m) => m.headers.ce_type?.endsWith('provider_switched'))!.value);
    expect(event.storefront?.binding?.provider).toBe('paytiko');
    expect(event.actor).toBe('test-admin');
  });

  it('A stays on Subotiz: it renews, cancels at period end and ends through Subotiz’s webhooks', async () => {
    const active = await subotiz.subscription(subscriptionA);
    await advanceSubotizPast(active.currentPeriodEnd!);
    const renewed = await eventually(
      () => subotiz.subscription(subscriptionA),
      (s) => s.currentPeriodEnd!.getTime() > active.currentPeriodEnd!.getTime(),
    );
    expect(renewed).toMatchObject({ status: ACTIVE, provider: 'subotiz' });

    const canceled = await call(subs(), subs().cancelSubscription, {
      subscriptionId: subscriptionA,
      atPeriodEnd: true,
      reason: 'moving on',
    });
    expect(canceled.subscription).toMatchObject({ provider: 'subotiz', status: ACTIVE, cancelAtPeriodEnd: true });

    // Subotiz ends it at the period end and says so in a webhook, verified with the old binding's secret.
    await advanceSubotizPast(renewed.currentPeriodEnd!);
    const ended = await eventually(
      () => subotiz.subscription(subscriptionA),
      (s) => s.status === CANCELED,
    );
    expect(ended.provider).toBe('subotiz');

    const messages = keyed(
      subscriptionA,
      await collector.waitFor((ms) =>
        ms.some((m) => m.key === subscriptionA && m.headers.ce_type === 'billing.subscription.canceled'),
      ),
    );
    expect(messages.map((m) => m.headers.ce_type).filter((t) => t!.startsWith('billing.subscription.'))).toEqual([
      'billing.subscription.created',
      'billing.subscription.activated',
      'billing.subscription.renewed',
      'billing.subscription.cancellation_scheduled',
      'billing.subscription.canceled',
    ]);
    expect(new Set(messages.map((m) => m.headers.ce_provider))).toEqual(new Set(['subotiz']));
    // Paytiko had nothing to say about it: no webhook at all before B's sale.
    expect(await paytikoControl<unknown[]>(paytiko, '/webhooks')).toEqual([]);
  });

  it('a new checkout B goes to Paytiko and activates through Paytiko’s webhooks', async () => {
    // Paytiko needs a first and a last name, an E.164 phone and a country.
    customerB = await createPaytikoCustomer(service.clients.customers, STORE, {
      externalRef: 'user-2',
      email: 'grace@example.com',
      name: 'Grace Hopper',
      phone: '+14155550123',
      country: 'US',
    });
    const checkout = await call(
      subs(),
      subs().createCheckoutSession,
      subscriptionCheckout(STORE, customerB, subotiz.planId),
    );
    subscriptionB = checkout.subscription!.id;
    expect(checkout.subscription).toMatchObject({ provider: 'paytiko', status: INCOMPLETE });
    expect(checkout.checkoutSession!.provider).toBe('paytiko');
    const page = checkout.checkoutSession!.nextAction!.redirectUrl ?? '';
    expect(page.startsWith(`${paytiko.url}/hosted/checkout/`)).toBe(true);

    // The customer pays on Paytiko's hosted page.
    await paytikoControls(paytiko).completeHostedCheckout(page);
    const active = await eventually(
      () => subotiz.subscription(subscriptionB),
      (s) => s.status === ACTIVE,
    );
    expect(active.providerRef).toBe(checkout.subscription!.providerRef);
    expect(active.providerRef).toMatch(/^mmbrshp_/);
    const membership = await paytikoControls(paytiko).membership(active.providerRef);
    expect(membership.status).toBe('Active');
    const { granted } = await call(subotiz.entitlements, subotiz.entitlements.checkEntitlement, {
      customerId: customerB,
      featureKey: 'pro',
    });
    expect(granted).toBe(true);

    const messages = keyed(
      subscriptionB,
      await collector.waitFor((ms) =>
        ms.some((m) => m.key === subscriptionB && m.headers.ce_type === 'billing.subscription.activated'),
      ),
    );
    expect(messages.map((m) => m.headers.ce_type).filter((t) => t!.startsWith('billing.subscription.'))).toEqual([
      'billing.subscription.created',
      'billing.subscription.activated',
    ]);
    expect(new Set(messages.map((m) => m.headers.ce_provider))).toEqual(new Set(['paytiko']));
    // Activated by a Paytiko webhook (its ActionId is the event's provider_event_id), delivered to our ingress.
    const deliveries = await paytikoControl<{ event_id: string; membership: string; delivered: boolean }[]>(
      paytiko,
      '/webhooks',
    );
    expect(deliveries.length).toBeGreaterThan(0);
    for (const delivery of deliveries)
      expect(delivery).toMatchObject({ membership: active.providerRef, delivered: true });
    const activated = BillingEvent.decode(
      messages.find((m) => m.headers.ce_type === 'billing.subscription.activated')!.value,
    );
    expect(deliveries.map((d) => d.event_id)).toContain(activated.providerEventId);
    expect(activated.actor).toBe('provider:paytiko');
    // A is untouched by B's sale: still the Subotiz subscription it was, with no new events.
    expect((await subotiz.subscription(subscriptionA)).provider).toBe('subotiz');
    expect((await eventTypesOf(service, subscriptionA)).at(-1)).toBe('billing.subscription.canceled');
  });

  it('answers what Paytiko lacks as its capability list says, naming storefront, provider and operation', async () => {
    const { catalog } = service.clients;
    const paused = await callError(subs(), subs().pauseSubscription, {
      subscriptionId: subscriptionB,
      resumeTime: undefined,
    });
    expect(paused.code).toBe(grpc.status.UNIMPLEMENTED);
    expect(paused.details).toBe(`PauseSubscription is not supported by provider 'paytiko' (storefront '${STORE}')`);

    const payment = await callError(subs(), subs().createCheckoutSession, {
      ...subscriptionCheckout(STORE, customerB, ''),
      mode: CheckoutMode.CHECKOUT_MODE_PAYMENT,
      amount: { currencyCode: 'EUR', amountMinor: 500n, amountDecimal: '' },
    });
    expect(payment.code).toBe(grpc.status.UNIMPLEMENTED);
    expect(payment.details).toContain('CreateCheckoutSession.payment');

    const trial = await callError(
      catalog,
      catalog.createPlan,
      paytikoPlanRequest(STORE, { name: 'Trial again', trialDays: 7, featureKeys: ['pro'] }),
    );
    expect(trial.code).toBe(grpc.status.FAILED_PRECONDITION);
    // B was not touched by any of it.
    expect((await subotiz.subscription(subscriptionB)).status).toBe(ACTIVE);
  });
});
