import * as grpc from '@grpc/grpc-js';
import { IntervalUnit } from '../../src/gen/billing/v1/common';
import { SubscriptionStatus } from '../../src/gen/billing/v1/subscription';
import type { SubscriptionHandle } from '../../src/ports/provider-adapter.port';
import { eventually } from '../support/eventually';
import { movableClock } from '../support/movable-clock';
import { fakeProvider } from '../support/fake-provider';
import { fakeStorefront, FakeStorefront } from '../support/fake-storefront';
import { subscriptionCheckout } from '../support/fixtures';
import { FAST_WEBHOOKS } from '../support/subotiz-world';
import { createTestDatabase, TestDatabase, webhooksSettled, withClient } from '../support/test-database';
import { call, callError, startTestService, TestService } from '../support/test-service';

const ACTIVE = SubscriptionStatus.SUBSCRIPTION_STATUS_ACTIVE;
const PAST_DUE = SubscriptionStatus.SUBSCRIPTION_STATUS_PAST_DUE;
const CANCELED = SubscriptionStatus.SUBSCRIPTION_STATUS_CANCELED;

/**
 * The core made ready for a notification-style provider, proven through the fake: no trials (refused), prices inline
 * (its plan reference is our plan id), the subscription named at checkout, webhooks that are only notifications,
 * a subscription read that shows its recent invoices and payments (so a renewal seen only by a fetch is recorded
 * once), and cancel at period end emulated (a provider cancel before our period end is held until then).
 */
describe('core for a notification-style provider (through the fake)', () => {
  const features = {
    pricing: 'inline',
    webhooks: 'notification',
    cancelAtPeriodEnd: 'emulated',
    trials: 'none',
    subscriptionAtCheckout: true,
    invoicesWithSubscription: true,
  } as const;
  const fakes = {
    notify: fakeProvider('fakenote', features),
    sweep: fakeProvider('fakesweep', features),
    late: fakeProvider('fakelate', features),
    refunding: fakeProvider('fakerefund', { ...features, refunds: true }),
    trials: fakeProvider('faketrial'),
  };
  let db: TestDatabase;
  let service: TestService;
  let stores: Record<keyof typeof fakes, FakeStorefront>;
  const clock = movableClock();
  const subs = () => service.clients.subscriptions;
  const query = <T>(sql: string, params: unknown[]) =>
    withClient(db.url, async (c) => (await c.query(sql, params)).rows as T[]);
  /** Every event keyed by the subscription (its own, its invoices', its payments'), in order. */
  const keyed = async (subscriptionId: string) =>
    (await query<{ type: string }>('select type from outbox where key = $1 order by id', [subscriptionId])).map(
      (r) => r.type,
    );
  const count = (types: string[], type: string) => types.filter((t) => t === type).length;

  beforeAll(async () => {
    db = await createTestDatabase();
    service = await startTestService(
      {
        DATABASE_URL: db.url,
        ...FAST_WEBHOOKS,
        RECONCILE_INTERVAL_MS: '100',
        RECONCILE_PERIOD_END_GRACE_MS: '0',
        SCHEDULER_POLL_INTERVAL_MS: '100',
      },
      { clock, extraProviders: Object.values(fakes).map((f) => f.module) },
    );
    stores = {
      notify: await fakeStorefront(service, fakes.notify, 'fake-note'),
      sweep: await fakeStorefront(service, fakes.sweep, 'fake-sweep'),
      late: await fakeStorefront(service, fakes.late, 'fake-late'),
      refunding: await fakeStorefront(service, fakes.refunding, 'fake-refund'),
      trials: await fakeStorefront(service, fakes.trials, 'fake-trials'),
    };
  });

  afterAll(async () => {
    for (const store of Object.values(stores ?? {})) store.close();
    await service?.close();
    await db?.drop();
  });

  describe('trials', () => {
    const trialPlan = (storefrontId: string) => ({
      storefrontId,
      name: 'Pro with trial',
      price: { currencyCode: 'EUR', amountMinor: 1999n, amountDecimal: '' },
      interval: { unit: IntervalUnit.INTERVAL_UNIT_MONTH, count: 1 },
      trialDays: 14,
      featureKeys: ['pro'],
      providerRefs: {},
    });

    it('CreatePlan with a trial on a provider without trials → FAILED_PRECONDITION naming plan, trial and provider', async () => {
      const { catalog } = service.clients;
      const error = await callError(catalog, catalog.createPlan, trialPlan('fake-note'));
      expect(error.code).toBe(grpc.status.FAILED_PRECONDITION);
      expect(error.details).toContain('Pro with trial');
      expect(error.details).toContain('14-day trial');
      expect(error.details).toContain("'fakenote'");
      const plans = await query('select id from plans where storefront_id = $1 and trial_days > 0', ['fake-note']);
      expect(plans).toHaveLength(0);
    });

    it('lists CreateCheckoutSession.trial only where trials are native', async () => {
      const { storefronts } = service.clients;
      const ops = async (id: string) =>
        (await call(storefronts, storefronts.getStorefront, { storefrontId: id })).storefront!.capabilities.map(
          (c) => c.operation,
        );
      expect(await ops('fake-trials')).toContain('CreateCheckoutSession.trial');
      expect(await ops('fake-note')).not.toContain('CreateCheckoutSession.trial');
    });

    it('SwitchProvider to a provider without trials while active plans have one → FAILED_PRECONDITION, nothing changes', async () => {
      const { catalog, storefronts } = service.clients;
      const { plan } = await call(catalog, catalog.createPlan, trialPlan('fake-trials'));
      const error = await callError(storefronts, storefronts.switchProvider, {
        storefrontId: 'fake-trials',
        provider: 'fakenote',
        providerConfig: {},
        secretRefs: fakes.notify.secretRefs('tenant-a'),
        reason: 'cheaper',
      });
      expect(error.code).toBe(grpc.status.FAILED_PRECONDITION);
      expect(error.details).toContain(plan!.id);
      const { storefront } = await call(storefronts, storefronts.getStorefront, { storefrontId: 'fake-trials' });
      expect(storefront!.binding!.provider).toBe('faketrial');
    });
  });

  it('the provider names its subscription at checkout: remembered as the provider reference at once', async () => {
    const store = stores.notify;
    const id = await store.checkout();
    const checkout = store.fake.checkout(store.sessionRefOf(id));
    expect(checkout.subscriptionRef).toBeDefined();
    expect((await store.subscription(id)).providerRef).toBe(checkout.subscriptionRef);
    await store.fake.completeCheckout(checkout.ref);
    const active = await store.waitFor(id, (s) => s.status === ACTIVE);
    expect(active.providerRef).toBe(checkout.subscriptionRef);
    // The initial invoice and payment came with the fetched state: recorded once each.
    const types = await keyed(id);
    expect(count(types, 'billing.invoice.paid')).toBe(1);
    expect(count(types, 'billing.payment.succeeded')).toBe(1);
  });

  it('a plan changed at the provider (inline: it names our plan id) is plan_changed once; another storefront’s plan never', async () => {
    const store = stores.notify;
    const subscription = await store.activeSubscription();
    store.fake.update(subscription.providerRef, { planRef: stores.late.proPlanId });
    await store.fake.sendState(store.fake.subscription(subscription.providerRef));
    await webhooksSettled(db.url);
    expect((await store.subscription(subscription.id)).planId).toBe(store.basicPlanId);

    store.fake.update(subscription.providerRef, { planRef: store.proPlanId });
    await store.fake.sendState(store.fake.subscription(subscription.providerRef), 'plan_changed');
    await store.fake.sendState(store.fake.subscription(subscription.providerRef), 'plan_changed');
    await store.waitFor(subscription.id, (s) => s.planId === store.proPlanId);
    await webhooksSettled(db.url);
    expect(count(await keyed(subscription.id), 'billing.subscription.plan_changed')).toBe(1);
  });

  it('webhooks dropped: the sweep finds a renewal and then a declined charge, recording each once', async () => {
    const store = stores.sweep;
    await clock.moveTo(clock.now(), store.fake);
    const subscription = await store.activeSubscription();
    const before = await keyed(subscription.id);
    store.fake.dropNextWebhooks(1_000);
    await clock.moveTo(new Date(subscription.currentPeriodEnd!.getTime() + 60_000), store.fake);
    const renewed = await store.waitFor(subscription.id, (s) => s.currentPeriodEnd! > subscription.currentPeriodEnd!);
    expect(renewed.status).toBe(ACTIVE);
    await eventually(
      () => keyed(subscription.id),
      (types) => count(types, 'billing.invoice.paid') === 2,
    );
    const afterRenewal = (await keyed(subscription.id)).slice(before.length);
    expect(count(afterRenewal, 'billing.subscription.renewed')).toBe(1);
    expect(count(afterRenewal, 'billing.payment.succeeded')).toBe(1);
    expect(count(afterRenewal, 'billing.invoice.paid')).toBe(1);

    // The next charge is declined; its webhook is dropped too.
    store.fake.failNextCharges(1);
    await clock.moveTo(new Date(renewed.currentPeriodEnd!.getTime() + 60_000), store.fake);
    await store.waitFor(subscription.id, (s) => s.status === PAST_DUE);
    await eventually(
      () => keyed(subscription.id),
      (types) => count(types, 'billing.invoice.payment_failed') === 1,
    );
    // Asked again (another sweep pass, a notification): nothing new.
    const settled = await keyed(subscription.id);
    await store.fake.send(store.storefrontId, {
      type: 'subscription.changed',
      data: { ref: subscription.providerRef },
    });
    const again = await keyed(subscription.id);
    expect(count(again, 'billing.payment.failed')).toBe(1);
    expect(count(again, 'billing.subscription.past_due')).toBe(1);
    expect(count(again, 'billing.subscription.renewed')).toBe(1);
    expect(again.length).toBeGreaterThanOrEqual(settled.length);
  });

  it('emulated cancel: a provider CANCELED before our period end is held (ACTIVE, entitled) and ends at period end', async () => {
    const store = stores.late;
    await clock.moveTo(clock.now(), store.fake);
    const subscription = await store.activeSubscription();
    await call(subs(), subs().cancelSubscription, { subscriptionId: subscription.id, atPeriodEnd: true, reason: '' });
    // The provider cancels on its own (its dashboard, say) and notifies.
    store.fake.update(subscription.providerRef, { status: 'CANCELED', canceledAt: store.fake.now() });
    await store.fake.sendState(store.fake.subscription(subscription.providerRef), 'canceled');
    const [action] = await eventually(
      () =>
        query<{ due_at: Date; payload: Record<string, unknown> }>(
          `select due_at, payload from scheduled_actions where subject_id = $1 and status = 'pending'`,
          [subscription.id],
        ),
      (rows) => rows.length === 1 && rows[0]!.payload.provider_canceled_at !== undefined,
    );
    expect(action!.due_at.getTime()).toBe(subscription.currentPeriodEnd!.getTime());
    const held = await store.subscription(subscription.id);
    expect(held).toMatchObject({ status: ACTIVE, cancelAtPeriodEnd: true });
    const entitled = await call(store.entitlements, store.entitlements.checkEntitlement, {
      customerId: store.customerId,
      featureKey: 'basic',
    });
    expect(entitled.granted).toBe(true);
    const error = await callError(subs(), subs().revokeCancellation, { subscriptionId: subscription.id });
    expect(error.code).toBe(grpc.status.FAILED_PRECONDITION);
    expect(error.details).toContain('no longer be revoked');

    clock.advanceTo(new Date(subscription.currentPeriodEnd!.getTime() + 1_000));
    const ended = await store.waitFor(subscription.id, (s) => s.status === CANCELED);
    expect(ended.endedAt).toEqual(subscription.currentPeriodEnd);
    expect(count(await keyed(subscription.id), 'billing.subscription.canceled')).toBe(1);
  });

  it.each([
    ['reports', 'late' as const, 'LateCancellationRenewalCharged'],
    ['refunds', 'refunding' as const, 'LateCancellationRenewalRefunded'],
  ])(
    'a cancellation job that runs after the provider renewed ends ours at period end and %s the charge',
    async (_how, which, audit) => {
      const store = stores[which];
      await clock.moveTo(clock.now(), store.fake);
      const subscription = await store.activeSubscription();
      await call(subs(), subs().cancelSubscription, { subscriptionId: subscription.id, atPeriodEnd: true, reason: '' });
      // The provider renews (and charges) before our job runs; the renewal's webhook is lost.
      store.fake.dropNextWebhooks(1);
      await store.fake.advanceClock(
        (subscription.currentPeriodEnd!.getTime() + 60_000 - store.fake.now().getTime()) / 1000,
      );
      // Our clock reaches only the job's due time (the minute before our period end), so no sweep asks first: the
      // provider's clock ran ahead, as when our job runs late.
      clock.advanceTo(new Date(subscription.currentPeriodEnd!.getTime() - 30_000));
      const ended = await store.waitFor(subscription.id, (s) => s.status === CANCELED);
      expect(ended.endedAt).toEqual(subscription.currentPeriodEnd);
      expect(store.fake.subscription(subscription.providerRef).status).toBe('CANCELED');
      const rows = await query<{ details: Record<string, unknown> }>(
        'select details from audit_log where resource_id = $1 and action = $2',
        [subscription.id, audit],
      );
      expect(rows).toHaveLength(1);
      const charge = store.fake.charges.get(subscription.providerRef)!.at(-1)!.payment;
      expect(rows[0]!.details).toMatchObject({ payment_ref: charge.ref, amount_minor: '1999', currency: 'EUR' });
      const types = await keyed(subscription.id);
      expect(count(types, 'billing.subscription.canceled')).toBe(1);
      expect(count(types, 'billing.subscription.renewed')).toBe(0);
      if (which === 'refunding') expect(count(types, 'billing.payment.refunded')).toBe(1);
    },
  );

  it.each([
    ['reports', 'late' as const, 'LateCancellationRenewalCharged'],
    ['refunds', 'refunding' as const, 'LateCancellationRenewalRefunded'],
  ])(
    'a renewal notified before the late cancellation job runs is never applied; the job ends ours and %s the charge',
    async (_how, which, audit) => {
      const store = stores[which];
      await clock.moveTo(clock.now(), store.fake);
      const subscription = await store.activeSubscription();
      await call(subs(), subs().cancelSubscription, { subscriptionId: subscription.id, atPeriodEnd: true, reason: '' });
      const before = await keyed(subscription.id);
      // The provider renews (and charges) past our period end and notifies before our job runs (the service was
      // down across the boundary, say): the notification is fetched and applied first.
      await store.fake.advanceClock(
        (subscription.currentPeriodEnd!.getTime() + 60_000 - store.fake.now().getTime()) / 1000,
      );
      await eventually(
        () => keyed(subscription.id),
        (types) => count(types, 'billing.payment.succeeded') === count(before, 'billing.payment.succeeded') + 1,
      );
      await webhooksSettled(db.url);
      const held = await store.subscription(subscription.id);
      expect(held).toMatchObject({
        status: ACTIVE,
        cancelAtPeriodEnd: true,
        currentPeriodEnd: subscription.currentPeriodEnd,
      });
      expect(count(await keyed(subscription.id), 'billing.subscription.renewed')).toBe(0);

      clock.advanceTo(new Date(subscription.currentPeriodEnd!.getTime() - 30_000));
      const ended = await store.waitFor(subscription.id, (s) => s.status === CANCELED);
      expect(ended.endedAt).toEqual(subscription.currentPeriodEnd);
      expect(store.fake.subscription(subscription.providerRef).status).toBe('CANCELED');
      const rows = await query<{ details: Record<string, unknown> }>(
        'select details from audit_log where resource_id = $1 and action = $2',
        [subscription.id, audit],
      );
      expect(rows).toHaveLength(1);
      const charge = store.fake.charges.get(subscription.providerRef)!.at(-1)!.payment;
      expect(rows[0]!.details).toMatchObject({ payment_ref: charge.ref, amount_minor: '1999', currency: 'EUR' });
      const types = await keyed(subscription.id);
      expect(count(types, 'billing.subscription.canceled')).toBe(1);
      expect(count(types, 'billing.subscription.renewed')).toBe(0);
      expect(count(types, 'billing.payment.succeeded')).toBe(count(before, 'billing.payment.succeeded') + 1);
      expect(count(types, 'billing.payment.refunded')).toBe(which === 'refunding' ? 1 : 0);
    },
  );

  it('a notification is fetched with no row locked: the subscription and its payments stay free while the provider answers', async () => {
    const store = stores.notify;
    const subscription = await store.activeSubscription();
    const asking = store.fake.holdNext(
      'getSubscription',
      (handle) => (handle as SubscriptionHandle).providerRef === subscription.providerRef,
    );
    await store.fake.send(store.storefrontId, {
      type: 'subscription.changed',
      data: { ref: subscription.providerRef },
    });
    await asking.reached;
    try {
      // NOWAIT, tried for a while: a webhook transaction holding the rows across the provider call would refuse every
      // try until the call is released; the reconciler's and scheduler's short sweeps (every 100 ms here) lock a row
      // only for a moment, so one of the tries gets through.
      const lockedUntilReleased = await eventually(
        () =>
          withClient(db.url, async (c) => {
            await c.query('begin');
            try {
              await c.query('select id from subscriptions where id = $1 for update nowait', [subscription.id]);
              await c.query('select id from payments where subscription_id = $1 for update nowait', [subscription.id]);
              return false;
            } catch {
              return true;
            } finally {
              await c.query('rollback');
            }
          }),
        (locked) => !locked,
        3_000,
      ).catch(() => true);
      expect(lockedUntilReleased).toBe(false);
    } finally {
      asking.release();
    }
    await webhooksSettled(db.url);
  });

  it('a checkout the provider’s preflight refuses sends nothing and writes nothing; the key then retries cleanly', async () => {
    const store = stores.notify;
    const { customers } = service.clients;
    // A customer the provider does not know yet: a checkout would first create it there.
    const { customer } = await call(customers, customers.createCustomer, {
      storefrontId: store.storefrontId,
      externalRef: 'user-preflight',
      email: 'grace@example.com',
      name: 'Grace',
      phone: '',
      country: 'DE',
      address: undefined,
    });
    const request = subscriptionCheckout(store.storefrontId, customer!.id, store.basicPlanId);
    const key = { 'idempotency-key': 'checkout-preflight-refused' };
    const sent = store.fake.calls.length;
    // The reconciler's and scheduler's sweeps read other subscriptions meanwhile; only what this call sends counts.
    const sentSince = (from: number) =>
      store.fake.calls.slice(from).filter((c) => c.operation !== 'getSubscription' && c.operation !== 'getCheckout');
    const subscriptions = () => query('select id from subscriptions where customer_id = $1', [customer!.id]);
    store.fake.refuseNextCheckoutPreflight();
    const error = await callError(subs(), subs().createCheckoutSession, request, key);
    expect(error.code).toBe(grpc.status.INVALID_ARGUMENT);
    expect(error.details).toContain('customer.phone');
    expect(sentSince(sent)).toEqual([]);
    expect(await subscriptions()).toHaveLength(0);
    const [refs] = await query<{ provider_refs: Record<string, string> }>(
      'select provider_refs from customers where id = $1',
      [customer!.id],
    );
    expect(refs!.provider_refs).toEqual({});
    // It checked the checkout as it would go out, before an order id was chosen.
    expect(store.fake.preflights.at(-1)).toMatchObject({
      orderId: '',
      mode: 'subscription',
      customer: { id: customer!.id },
    });

    const retried = await call(subs(), subs().createCheckoutSession, request, key);
    expect(retried.subscription!.id).toMatch(/^sub_/);
    expect(sentSince(sent).map((c) => c.operation)).toEqual(['ensureCustomer', 'createCheckout']);
    expect(await subscriptions()).toHaveLength(1);
  });

  it('UpdateCustomer asks the providers with no transaction holding the customer', async () => {
    const store = stores.notify;
    const { customers } = service.clients;
    const asking = store.fake.holdNext('updateCustomer');
    const updating = call(customers, customers.updateCustomer, {
      customerId: store.customerId,
      name: 'Ada King',
      address: undefined,
    });
    await asking.reached;
    await withClient(db.url, async (c) => {
      await c.query('begin');
      await c.query('select id from customers where id = $1 for update nowait', [store.customerId]);
      await c.query('rollback');
    });
    asking.release();
    expect((await updating).customer!.name).toBe('Ada King');
  });

  it('UpdateCustomer changed meanwhile is re-read and sent to the providers again, not answered ABORTED', async () => {
    const store = stores.notify;
    const { customers } = service.clients;
    const before = (await call(customers, customers.getCustomer, { customerId: store.customerId })).customer!;
    const asking = store.fake.holdNext('updateCustomer');
    const updating = call(customers, customers.updateCustomer, {
      customerId: store.customerId,
      name: 'Ada Byron',
      address: undefined,
    });
    await asking.reached;
    // Another change commits while the providers are being told (the phone, here).
    await query('update customers set phone = $2, version = version + 1 where id = $1', [
      store.customerId,
      '+442079460001',
    ]);
    asking.release();
    const updated = (await updating).customer!;
    expect(updated).toMatchObject({ name: 'Ada Byron', phone: '+442079460001' });
    expect(Number(updated.version)).toBe(Number(before.version) + 2);
    // The providers were told again, with the change made meanwhile.
    const sent = store.fake.calls.filter((c) => c.operation === 'updateCustomer').at(-1);
    expect(sent?.detail).toMatchObject({ name: 'Ada Byron', phone: '+442079460001' });
  });

  it('an adapter’s own INVALID_ARGUMENT leaves nothing behind: no subscription, no event, and the key retries cleanly', async () => {
    const store = stores.notify;
    const key = { 'idempotency-key': 'checkout-refused-once' };
    store.fake.rejectNext('createCheckout');
    const request = subscriptionCheckout(store.storefrontId, store.customerId, store.basicPlanId);
    const count0 = (await query('select id from subscriptions where storefront_id = $1', [store.storefrontId])).length;
    const error = await callError(subs(), subs().createCheckoutSession, request, key);
    expect(error.code).toBe(grpc.status.INVALID_ARGUMENT);
    expect(error.details).toContain('fake_field');
    expect(await query('select id from subscriptions where storefront_id = $1', [store.storefrontId])).toHaveLength(
      count0,
    );
    const retried = await call(subs(), subs().createCheckoutSession, request, key);
    expect(retried.subscription!.id).toMatch(/^sub_/);
    expect(count(await keyed(retried.subscription!.id), 'billing.subscription.created')).toBe(1);

    const active = await store.activeSubscription();
    const changeKey = { 'idempotency-key': 'change-refused-once' };
    store.fake.rejectNext('changePlan');
    const changeError = await callError(
      subs(),
      subs().changePlan,
      { subscriptionId: active.id, planId: store.proPlanId },
      changeKey,
    );
    expect(changeError.code).toBe(grpc.status.INVALID_ARGUMENT);
    const unchanged = await store.subscription(active.id);
    expect(unchanged.version).toBe(active.version);
    const changed = await call(
      subs(),
      subs().changePlan,
      { subscriptionId: active.id, planId: store.proPlanId },
      changeKey,
    );
    expect(changed.subscription!.planId).toBe(store.proPlanId);
  });

  it('UpdateCustomer reaches the providers that know the customer; a provider refusal writes nothing', async () => {
    const store = stores.notify;
    const { customers } = service.clients;
    const update = (name: string) => ({ customerId: store.customerId, name, address: undefined });
    const before = (await call(customers, customers.getCustomer, { customerId: store.customerId })).customer!;
    await call(customers, customers.updateCustomer, update('Ada Lovelace'));
    const sent = store.fake.calls.filter((c) => c.operation === 'updateCustomer').at(-1);
    expect(sent?.detail).toMatchObject({
      id: store.customerId,
      name: 'Ada Lovelace',
      providerRef: `fcus_${store.customerId}`,
    });

    store.fake.rejectNext('updateCustomer');
    const error = await callError(customers, customers.updateCustomer, update('Nobody'));
    expect(error.code).toBe(grpc.status.INVALID_ARGUMENT);
    const after = (await call(customers, customers.getCustomer, { customerId: store.customerId })).customer!;
    expect(after.name).toBe('Ada Lovelace');
    expect(Number(after.version)).toBe(Number(before.version) + 1);
  });
});
