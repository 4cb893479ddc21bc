import * as grpc from '@grpc/grpc-js';
import { IGNORED_FOREIGN } from '../../src/app/inbound/webhook-intake';
import {
  CheckoutSessionStatus,
  CreateCheckoutSessionRequest,
  SubscriptionStatus,
} from '../../src/gen/billing/v1/subscription';
import type { Clock } from '../../src/ports/clock.port';
import { eventually } from '../support/eventually';
import { fakeProvider } from '../support/fake-provider';
import { fakeStorefront, FakeStorefront } from '../support/fake-storefront';
import { subscriptionCheckout } from '../support/fixtures';
import { FAST_WEBHOOKS } from '../support/subotiz-world';
import { createTestDatabase, TestDatabase, webhooksSettled, withClient } from '../support/test-database';
import { call, callError, eventTypesOf, startTestService, TestService } from '../support/test-service';

const ACTIVE = SubscriptionStatus.SUBSCRIPTION_STATUS_ACTIVE;
const PAUSED = SubscriptionStatus.SUBSCRIPTION_STATUS_PAUSED;

/**
 * The engine driven through the real port by an in-memory provider whose features each test picks: `accepted`
 * outcomes, native entitlements, notify-only webhooks, a replaced subscription reference, events about unknown
 * subscriptions and a server-to-server checkout. Real gRPC, PostgreSQL and HTTP webhooks; no Kafka needed (events
 * are read back through EventService, from the outbox they are written to).
 */
describe('the engine through a fake provider', () => {
  const fakes = {
    state: fakeProvider('fakepay'),
    native: fakeProvider('fakenative', { entitlements: 'native' }),
    notify: fakeProvider('fakenotify', { webhooks: 'notification' }),
    async: fakeProvider('fakeasync', { checkout: 'server_to_server' }),
  };
  let db: TestDatabase;
  let service: TestService;
  let stores: Record<keyof typeof fakes, FakeStorefront>;
  /** The service's clock; moved on only by the last test (the reconciler's). */
  let offsetMs = 0;
  const clock: Clock = { now: () => new Date(Date.now() + offsetMs) };

  beforeAll(async () => {
    db = await createTestDatabase();
    service = await startTestService(
      { DATABASE_URL: db.url, ...FAST_WEBHOOKS, RECONCILE_INTERVAL_MS: '100' },
      { clock, extraProviders: Object.values(fakes).map((f) => f.module) },
    );
    stores = {
      state: await fakeStorefront(service, fakes.state, 'fake-state'),
      native: await fakeStorefront(service, fakes.native, 'fake-native'),
      notify: await fakeStorefront(service, fakes.notify, 'fake-notify'),
      async: await fakeStorefront(service, fakes.async, 'fake-async'),
    };
  });

  afterAll(async () => {
    for (const store of Object.values(stores ?? {})) store.close();
    await service?.close();
    await db?.drop();
  });

  const subs = () => service.clients.subscriptions;
  const query = <T>(sql: string, params: unknown[]) =>
    withClient(db.url, async (c) => (await c.query(sql, params)).rows as T[]);
  const inboxRow = async (eventId: string) =>
    (
      await query<{ status: string; outcome: string | null }>(
        'select status, outcome from webhook_inbox where provider_event_id = $1',
        [eventId],
      )
    )[0];
  const processed = (eventId: string) =>
    eventually(
      () => inboxRow(eventId),
      (row) => row?.status === 'PROCESSED',
    );
  const entitled = (store: FakeStorefront, featureKey: string) =>
    call(store.entitlements, store.entitlements.checkEntitlement, { customerId: store.customerId, featureKey });

  it('ChangePlan answered `accepted` changes nothing and emits nothing until the provider confirms, then once', async () => {
    const store = stores.state;
    const before = await store.activeSubscription();
    const eventsBefore = await eventTypesOf(service, before.id);

    store.fake.answerNext('accepted');
    const { subscription: answered } = await call(subs(), subs().changePlan, {
      subscriptionId: before.id,
      planId: store.proPlanId,
    });
    expect(answered!.planId).toBe(store.basicPlanId);
    expect(answered!.version).toBe(before.version);
    // The provider was told the plan's terms inline and where this storefront's webhooks go (PUBLIC_BASE_URL default).
    const asked = store.fake.calls.filter((c) => c.operation === 'changePlan').at(-1)!;
    expect(asked.webhookUrl).toBe(`http://localhost:${service.httpPort}/webhooks/fakepay/fake-state`);
    expect(await eventTypesOf(service, before.id)).toEqual(eventsBefore);
    const audit = await query<{ actor: string; details: Record<string, unknown> }>(
      "select actor, details from audit_log where resource_id = $1 and action = 'changePlan:accepted'",
      [before.id],
    );
    expect(audit).toHaveLength(1);
    expect(audit[0]!.details).toMatchObject({ provider: 'fakepay', planId: store.proPlanId });

    // The provider confirms by webhook (after its proration charge, say): applied, plan_changed once.
    expect(await store.fake.confirm(before.providerRef)).toBe(200);
    const changed = await store.waitFor(before.id, (s) => s.planId === store.proPlanId);
    expect(changed.status).toBe(ACTIVE);
    // The same state told again (a redelivery under a new event id) changes nothing.
    const again = await store.fake.sendState(store.fake.subscription(before.providerRef), 'plan_changed');
    expect(again).toBe(200);
    await webhooksSettled(db.url);
    const after = await eventTypesOf(service, before.id);
    expect(after.slice(eventsBefore.length)).toEqual(['billing.subscription.plan_changed']);
    expect((await entitled(store, 'pro')).granted).toBe(true);
    expect((await entitled(store, 'basic')).granted).toBe(false);
  });

  it('native entitlements: the provider’s grants and revokes decide CheckEntitlement; none derived from the plan', async () => {
    const store = stores.native;
    const subscription = await store.activeSubscription();
    const customerRef = store.fake.subscription(subscription.providerRef).customerRef!;
    const listed = async () =>
      (
        await call(store.entitlements, store.entitlements.listEntitlements, {
          customerId: store.customerId,
          includeInactive: true,
        })
      ).entitlements;
    // ACTIVE on a plan with features, yet nothing derived: this provider says who may use what.
    expect(await listed()).toEqual([]);
    expect((await entitled(store, 'basic')).granted).toBe(false);

    const grant = { customer_ref: customerRef, subscription_ref: subscription.providerRef, feature_key: 'vip' };
    expect(await store.fake.send(store.storefrontId, { type: 'entitlement.granted', data: grant })).toBe(200);
    const granted = await eventually(
      () => entitled(store, 'vip'),
      (c) => c.granted,
    );
    expect(granted.subscriptionId).toBe(subscription.id);

    expect(await store.fake.send(store.storefrontId, { type: 'entitlement.revoked', data: grant })).toBe(200);
    await eventually(
      () => entitled(store, 'vip'),
      (c) => !c.granted,
    );
    const [entitlement] = await listed();
    expect(await eventTypesOf(service, entitlement!.id)).toEqual([
      'billing.entitlement.granted',
      'billing.entitlement.revoked',
    ]);

    // Cancelling revokes nothing derived either (there is nothing derived to revoke).
    await call(subs(), subs().cancelSubscription, { subscriptionId: subscription.id, atPeriodEnd: false, reason: '' });
    expect(await listed()).toHaveLength(1);
  });

  it('notify-only: a `notification` provider’s body is never applied; the fetched state is', async () => {
    const store = stores.notify;
    // Its activation webhook is a notification too: ACTIVE comes from the fetch.
    const subscription = await store.activeSubscription();
    const atFake = store.fake.subscription(subscription.providerRef);
    const nextEnd = new Date(atFake.currentPeriodEnd!.getTime() + 30 * 86_400_000);
    // The provider renewed it (quietly); then a webhook arrives whose body lies: CANCELED.
    store.fake.update(atFake.ref, { currentPeriodStart: atFake.currentPeriodEnd, currentPeriodEnd: nextEnd });
    const lie = { ...atFake, status: 'CANCELED' as const, endedAt: new Date() };
    const id = 'fevt_lying_body';
    expect(
      await store.fake.send(store.storefrontId, {
        id,
        type: 'subscription.updated',
        data: {
          hint: 'canceled',
          subscription: {
            ref: lie.ref,
            order_id: lie.orderId,
            status: lie.status,
            ended_at: lie.endedAt.toISOString(),
          },
        },
      }),
    ).toBe(200);
    await processed(id);
    const after = await store.subscription(subscription.id);
    expect(after.status).toBe(ACTIVE);
    expect(after.currentPeriodEnd).toEqual(nextEnd);
    const types = await eventTypesOf(service, subscription.id);
    expect(types).not.toContain('billing.subscription.canceled');
    expect(types.at(-1)).toBe('billing.subscription.renewed');
  });

  it('a `changed` event makes the engine fetch the subscription and apply what the provider says now', async () => {
    const store = stores.state;
    const subscription = await store.activeSubscription();
    store.fake.update(subscription.providerRef, { cancelAtPeriodEnd: true });
    const id = 'fevt_changed_1';
    const status = await store.fake.send(store.storefrontId, {
      id,
      type: 'subscription.changed',
      data: { ref: subscription.providerRef },
    });
    expect(status).toBe(200);
    await processed(id);
    expect((await store.subscription(subscription.id)).cancelAtPeriodEnd).toBe(true);
    expect((await eventTypesOf(service, subscription.id)).at(-1)).toBe('billing.subscription.cancellation_scheduled');
    expect(store.fake.calls.filter((c) => c.operation === 'getSubscription').length).toBeGreaterThan(0);
  });

  describe('a webhook stamped in the same instant as the state held (providers stamp whole seconds)', () => {
    const asked = (store: FakeStorefront) => store.fake.calls.filter((c) => c.operation === 'getSubscription').length;

    it('arriving after a later change of that instant, it is checked with the provider and takes nothing back', async () => {
      const store = stores.state;
      const subscription = await store.activeSubscription();
      const ref = subscription.providerRef;
      const before = { ...store.fake.subscription(ref) };
      const scheduled = { ...store.fake.update(ref, { cancelAtPeriodEnd: true }) };
      expect(
        await store.fake.send(store.storefrontId, store.fake.stateWebhook(scheduled, { id: 'fevt_tie_new' })),
      ).toBe(200);
      await processed('fevt_tie_new');
      const askedBefore = asked(store);

      // The report of the state before the schedule, stamped in its instant, delivered late.
      const late = store.fake.stateWebhook({ ...before, observedAt: scheduled.observedAt }, { id: 'fevt_tie_late' });
      expect(await store.fake.send(store.storefrontId, late)).toBe(200);
      await processed('fevt_tie_late');

      expect((await store.subscription(subscription.id)).cancelAtPeriodEnd).toBe(true);
      const types = await eventTypesOf(service, subscription.id);
      expect(types).not.toContain('billing.subscription.cancellation_revoked');
      expect(types.at(-1)).toBe('billing.subscription.cancellation_scheduled');
      expect(asked(store)).toBeGreaterThan(askedBefore);
    });

    /** A subscription whose last applied report is stamped `at`, and the fake's ref of the pro plan. */
    const heldAtOneInstant = async (store: FakeStorefront, id: string) => {
      const subscription = await store.activeSubscription();
      const ref = subscription.providerRef;
      const scheduled = { ...store.fake.update(ref, { cancelAtPeriodEnd: true }) };
      expect(await store.fake.send(store.storefrontId, store.fake.stateWebhook(scheduled, { id }))).toBe(200);
      await processed(id);
      const proRef = store.fake.features.pricing === 'reference' ? 'price_pro' : store.proPlanId;
      return { subscription, ref, at: scheduled.observedAt!, proRef };
    };
    /** Changes the plan at the fake, stamped `at`, and sends its report. */
    const planChangedAt = async (store: FakeStorefront, ref: string, planRef: string, at: Date, id: string) => {
      store.fake.update(ref, { planRef });
      const changed = { ...Object.assign(store.fake.subscription(ref), { observedAt: at }) };
      expect(await store.fake.send(store.storefrontId, store.fake.stateWebhook(changed, { id }))).toBe(200);
      return processed(id);
    };

    it('one that changes only the plan, and is the truth, is checked with the provider and applied once', async () => {
      const store = stores.state;
      const { subscription, ref, at, proRef } = await heldAtOneInstant(store, 'fevt_tie_1');
      const askedBefore = asked(store);

      const row = await planChangedAt(store, ref, proRef, at, 'fevt_tie_2');

      expect(row!.outcome).toContain('same instant');
      expect(asked(store)).toBeGreaterThan(askedBefore);
      expect((await store.subscription(subscription.id)).planId).toBe(store.proPlanId);
      const types = await eventTypesOf(service, subscription.id);
      expect(types.filter((t) => t === 'billing.subscription.plan_changed')).toHaveLength(1);
    });

    /**
     * A subscription whose key's sequence began with a report of its state (sent as `firstId`, sequence 1), then
     * changed by our own call (to the pro plan): the state held is our answer's, stamped `held`.
     */
    const heldFromOurAnswer = async (store: FakeStorefront, firstId: string) => {
      const subscription = await store.activeSubscription();
      const before = { ...store.fake.subscription(subscription.providerRef) };
      const key = `cus_${subscription.id}`;
      const first = store.fake.stateWebhook(before, { id: firstId, orderingKey: key, sequence: '1' });
      expect(await store.fake.send(store.storefrontId, first)).toBe(200);
      await processed(firstId);
      await call(subs(), subs().changePlan, { subscriptionId: subscription.id, planId: store.proPlanId });
      const [row] = await query<{ held: Date }>(
        'select provider_observed_at as held from subscriptions where id = $1',
        [subscription.id],
      );
      return { subscription, before, key, held: row!.held };
    };

    it('next in its key’s sequence but dated to a second that holds our own answer: checked, nothing taken back', async () => {
      // A provider that dates events to the whole second (Azotte): the report of a state from before our change, in
      // that change's second, arrives after our answer. Its sequence orders it after earlier reports, not our answer.
      const store = stores.state;
      const { subscription, before, key, held } = await heldFromOurAnswer(store, 'fevt_seq_1');
      const askedBefore = asked(store);

      const secondOf = { observedSince: new Date(held.getTime() - 300), observedAt: new Date(held.getTime() + 400) };
      const late = store.fake.stateWebhook(
        { ...before, ...secondOf },
        { id: 'fevt_seq_2', orderingKey: key, sequence: '2' },
      );
      expect(await store.fake.send(store.storefrontId, late)).toBe(200);
      const row = await processed('fevt_seq_2');

      expect(row!.outcome).toContain('same instant');
      expect(asked(store)).toBeGreaterThan(askedBefore);
      expect((await store.subscription(subscription.id)).planId).toBe(store.proPlanId);
      const types = await eventTypesOf(service, subscription.id);
      expect(types.filter((t) => t === 'billing.subscription.plan_changed')).toHaveLength(1);
    });

    it('reports in sequence in that second that agree with the provider are each applied, not folded', async () => {
      // After our own answer, the provider pauses, resumes and pauses again within its second; the first report is in
      // doubt, and the provider's state agrees with it: applied as reported, and the two after follow it.
      const store = stores.state;
      const { subscription, key, held } = await heldFromOurAnswer(store, 'fevt_fold_1');
      const ref = subscription.providerRef;
      const window = { observedSince: new Date(held.getTime() - 300), observedAt: new Date(held.getTime() + 700) };
      const states = (['PAUSED', 'ACTIVE', 'PAUSED'] as const).map((status) => ({
        ...store.fake.update(ref, { status }),
        ...window,
      }));

      for (const [i, state] of states.entries()) {
        const id = `fevt_fold_${i + 2}`;
        const report = store.fake.stateWebhook(state, { id, orderingKey: key, sequence: String(i + 2) });
        expect(await store.fake.send(store.storefrontId, report)).toBe(200);
        await processed(id);
      }

      expect(await inboxRow('fevt_fold_2')).toMatchObject({ outcome: expect.stringContaining('agrees') });
      expect((await store.subscription(subscription.id)).status).toBe(PAUSED);
      const types = await eventTypesOf(service, subscription.id);
      expect(types.slice(-3)).toEqual([
        'billing.subscription.paused',
        'billing.subscription.resumed',
        'billing.subscription.paused',
      ]);
    });

    it('when the provider does not answer, it is ordered by its time as before, and the note says so', async () => {
      const store = stores.state;
      const { subscription, ref, at, proRef } = await heldAtOneInstant(store, 'fevt_tie_3');
      store.fake.goDown('getSubscription');
      try {
        const row = await planChangedAt(store, ref, proRef, at, 'fevt_tie_4');
        expect(row!.outcome).toMatch(/provider did not answer .*applied by time: applied/);
      } finally {
        store.fake.restore('getSubscription');
      }
      expect((await store.subscription(subscription.id)).planId).toBe(store.proPlanId);
    });
  });

  it('a change that re-issues the subscription: GetSubscription follows the new ref, and its webhooks apply', async () => {
    const store = stores.state;
    const subscription = await store.activeSubscription();
    store.fake.reissueOnNextChange();
    const { subscription: changed } = await call(subs(), subs().changePlan, {
      subscriptionId: subscription.id,
      planId: store.proPlanId,
    });
    const newRef = changed!.providerRef;
    expect(newRef).not.toBe(subscription.providerRef);
    expect(store.fake.subscription(newRef).previousRef).toBe(subscription.providerRef);
    expect(changed!.planId).toBe(store.proPlanId);
    expect((await store.subscription(subscription.id)).providerRef).toBe(newRef);

    // A later webhook naming only the new reference reaches the same subscription.
    const atFake = store.fake.update(newRef, { cancelAtPeriodEnd: true });
    const id = 'fevt_after_reissue';
    const status = await store.fake.send(store.storefrontId, {
      id,
      type: 'subscription.updated',
      data: {
        hint: 'cancellation_scheduled',
        subscription: { ref: newRef, status: 'ACTIVE', cancel_at_period_end: true },
      },
    });
    expect(status).toBe(200);
    expect(atFake.ref).toBe(newRef);
    await processed(id);
    expect((await store.subscription(subscription.id)).cancelAtPeriodEnd).toBe(true);
    // And a mutation goes to the provider under the new reference.
    await call(subs(), subs().revokeCancellation, { subscriptionId: subscription.id });
    const revoke = store.fake.calls.filter((c) => c.operation === 'revokeCancellation').at(-1);
    expect(revoke?.detail).toMatchObject({ id: subscription.id, providerRef: newRef });
  });

  it('events about a subscription we do not know are acknowledged and recorded as ignored, not dead-lettered', async () => {
    const store = stores.state;
    const id = 'fevt_unknown_subscription';
    const status = await store.fake.send(store.storefrontId, {
      id,
      type: 'subscription.updated',
      data: { hint: 'canceled', subscription: { ref: 'fsub_not_ours', order_id: 'sub_nobody', status: 'CANCELED' } },
    });
    expect(status).toBe(200);
    const row = await processed(id);
    expect(row!.outcome).toContain(IGNORED_FOREIGN);
    const deadLetters = await query<{ count: string }>(
      'select count(*) from dead_letters where provider_event_id = $1',
      [id],
    );
    expect(Number(deadLetters[0]!.count)).toBe(0);
  });

  it('a badly signed webhook is refused (401) and stored nowhere', async () => {
    const body = JSON.stringify({ id: 'fevt_forged', type: 'subscription.changed', created_at: '', data: {} });
    const response = await fetch(`http://127.0.0.1:${service.httpPort}/webhooks/fakepay/fake-state`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-fake-signature': 'sha256=00' },
      body,
    });
    expect(response.status).toBe(401);
    expect(await inboxRow('fevt_forged')).toBeUndefined();
  });

  describe('server-to-server checkout', () => {
    const request = (): CreateCheckoutSessionRequest =>
      subscriptionCheckout(stores.async.storefrontId, stores.async.customerId, stores.async.basicPlanId);

    it('without payment_method_ref → INVALID_ARGUMENT naming it; nothing reaches the provider or the database', async () => {
      const calls = stores.async.fake.calls.length;
      const error = await callError(subs(), subs().createCheckoutSession, request());
      expect(error.code).toBe(grpc.status.INVALID_ARGUMENT);
      expect(error.details).toContain('payment_method_ref');
      expect(stores.async.fake.calls.length).toBe(calls);
      const rows = await query<{ count: string }>('select count(*) from subscriptions where storefront_id = $1', [
        stores.async.storefrontId,
      ]);
      expect(Number(rows[0]!.count)).toBe(0);
    });

    it('with payment_method_ref → PROCESSING; the provider’s 3-D Secure step; ACTIVE once it completes', async () => {
      const store = stores.async;
      store.fake.requireThreeDSecure();
      const withCard = { ...request(), paymentMethodRef: 'pm_fake_visa' };
      const answer = await call(subs(), subs().createCheckoutSession, withCard);
      expect(answer.checkoutSession!.status).toBe(CheckoutSessionStatus.CHECKOUT_SESSION_STATUS_PROCESSING);
      expect(answer.subscription!.status).toBe(SubscriptionStatus.SUBSCRIPTION_STATUS_INCOMPLETE);
      const checkout = store.fake.checkout(store.sessionRefOf(answer.subscription!.id));
      expect(checkout.request.paymentMethodRef).toBe('pm_fake_visa');
      // The caller follows the session: the provider asks for a 3-D Secure step, which the caller must show.
      const sessionId = answer.checkoutSession!.id;
      const follow = () => call(subs(), subs().getCheckoutSession, { checkoutSessionId: sessionId });
      const step = await eventually(
        async () => (await follow()).checkoutSession!,
        (s) => s.status === CheckoutSessionStatus.CHECKOUT_SESSION_STATUS_ACTION_REQUIRED,
      );
      expect(step.nextAction?.html).toContain('fake-3ds');
      await store.fake.passThreeDSecure(checkout.ref);
      await store.waitFor(answer.subscription!.id, (s) => s.status === ACTIVE);
      expect((await follow()).checkoutSession!.status).toBe(CheckoutSessionStatus.CHECKOUT_SESSION_STATUS_COMPLETE);
    });

    it('is followed by the scheduler: a completed checkout whose webhook was lost is caught up without the caller asking', async () => {
      const store = stores.async;
      store.fake.requireThreeDSecure(false);
      const answer = await call(subs(), subs().createCheckoutSession, {
        ...request(),
        paymentMethodRef: 'pm_fake_visa',
      });
      expect(answer.checkoutSession!.status).toBe(CheckoutSessionStatus.CHECKOUT_SESSION_STATUS_PROCESSING);
      store.fake.dropNextWebhooks(1);
      await store.fake.completeCheckout(store.sessionRefOf(answer.subscription!.id));
      await store.waitFor(answer.subscription!.id, (s) => s.status === ACTIVE);
      const [poll] = await query<{ status: string }>(
        "select status from scheduled_actions where kind = 'checkout.poll' and subject_id = $1",
        [answer.checkoutSession!.id],
      );
      expect(poll?.status).toBe('done');
    });
  });
  // Last: the service's clock jumps past the checkout's expiry.
  describe('the reconciler', () => {
    // The sweeps' EventOrigin carries the provider's features, so a caught-up state derives nothing for it.
    it('catching up a native-entitlements provider’s lost checkout derives no entitlements', async () => {
      const store = stores.native;
      const id = await store.checkout();
      store.fake.dropNextWebhooks(1);
      await store.fake.completeCheckout(store.sessionRefOf(id));
      expect(store.fake.dropped).toHaveLength(1);
      offsetMs = store.fake.checkout(store.sessionRefOf(id)).expireTime.getTime() - Date.now() + 60_000;
      await store.waitFor(id, (s) => s.status === ACTIVE);
      const { entitlements } = await call(store.entitlements, store.entitlements.listEntitlements, {
        customerId: store.customerId,
        includeInactive: true,
      });
      expect(entitlements.filter((e) => e.subscriptionId === id)).toEqual([]);
    });
  });
});
