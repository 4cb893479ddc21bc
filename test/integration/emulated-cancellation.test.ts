import { CapabilitySupport } from '../../src/gen/billing/v1/storefront';
import { SubscriptionStatus } from '../../src/gen/billing/v1/subscription';
import type { Clock } from '../../src/ports/clock.port';
import { eventually } from '../support/eventually';
import { fakeProvider } from '../support/fake-provider';
import { fakeStorefront, FakeStorefront } from '../support/fake-storefront';
import { FAST_WEBHOOKS } from '../support/subotiz-world';
import { createTestDatabase, TestDatabase, withClient } from '../support/test-database';
import { call, eventTypesOf, startTestService, TestService } from '../support/test-service';

const ACTIVE = SubscriptionStatus.SUBSCRIPTION_STATUS_ACTIVE;
const CANCELED = SubscriptionStatus.SUBSCRIPTION_STATUS_CANCELED;

/**
 * Cancel at period end on a provider that has none (features `cancelAtPeriodEnd: emulated`): the flag and its events
 * are ours, nothing reaches the provider until our durable scheduler cancels there just before the period ends —
 * also when the service restarted in between — and a revoke before then undoes it.
 */
describe('cancel at period end, emulated by our scheduler', () => {
  const fake = fakeProvider('fakeemu', { cancelAtPeriodEnd: 'emulated' });
  let db: TestDatabase;
  let service: TestService;
  let store: FakeStorefront;
  let offsetMs = 0;
  const clock: Clock = { now: () => new Date(Date.now() + offsetMs) };
  const start = () =>
    startTestService(
      { DATABASE_URL: db.url, ...FAST_WEBHOOKS, SCHEDULER_POLL_INTERVAL_MS: '100' },
      { clock, extraProviders: [fake.module] },
    );
  const pendingActions = (subscriptionId: string) =>
    withClient(db.url, async (c) => {
      const { rows } = await c.query(
        `SELECT due_at FROM scheduled_actions WHERE subject_id = $1 AND kind = 'subscription.cancel_at_period_end'
           AND status = 'pending'`,
        [subscriptionId],
      );
      return rows as { due_at: Date }[];
    });
  const cancelCalls = () => fake.calls.filter((c) => c.operation === 'cancelSubscription');

  beforeAll(async () => {
    db = await createTestDatabase();
    service = await start();
    store = await fakeStorefront(service, fake, 'fake-emulated');
  });

  afterAll(async () => {
    store?.close();
    await service?.close();
    await db?.drop();
  });

  it('lists CancelSubscription.at_period_end as EMULATED', async () => {
    const { storefronts } = service.clients;
    const { storefront } = await call(storefronts, storefronts.getStorefront, { storefrontId: 'fake-emulated' });
    expect(storefront!.capabilities).toEqual(
      expect.arrayContaining([
        { operation: 'CancelSubscription.at_period_end', support: CapabilitySupport.CAPABILITY_SUPPORT_EMULATED },
        { operation: 'RevokeCancellation', support: CapabilitySupport.CAPABILITY_SUPPORT_EMULATED },
      ]),
    );
  });

  it('schedules and revokes on our side only, and cancels at the provider just before the period ends, across a restart', async () => {
    const subscription = await store.activeSubscription();
    const periodEnd = subscription.currentPeriodEnd!;
    const subs = () => service.clients.subscriptions;
    const cancel = () =>
      call(subs(), subs().cancelSubscription, { subscriptionId: subscription.id, atPeriodEnd: true, reason: 'moving' });

    const scheduled = (await cancel()).subscription!;
    expect(scheduled).toMatchObject({ status: ACTIVE, cancelAtPeriodEnd: true });
    expect(cancelCalls()).toHaveLength(0);
    const [action] = await pendingActions(subscription.id);
    expect(action!.due_at.getTime()).toBe(periodEnd.getTime() - 60_000);

    const revoked = (await call(subs(), subs().revokeCancellation, { subscriptionId: subscription.id })).subscription!;
    expect(revoked).toMatchObject({ status: ACTIVE, cancelAtPeriodEnd: false });
    expect(await pendingActions(subscription.id)).toHaveLength(0);
    expect(await eventTypesOf(service, subscription.id)).toEqual(
      expect.arrayContaining([
        'billing.subscription.cancellation_scheduled',
        'billing.subscription.cancellation_revoked',
      ]),
    );

    await cancel();
    expect(await pendingActions(subscription.id)).toHaveLength(1);
    // The provider knows nothing of it: a state it reports (here after a quantity change) never clears our flag.
    const changed = await call(subs(), subs().updateQuantity, { subscriptionId: subscription.id, quantity: 2 });
    expect(changed.subscription).toMatchObject({ quantity: 2, cancelAtPeriodEnd: true });
    expect(await pendingActions(subscription.id)).toHaveLength(1);
    // The action is durable: a restarted service (another replica, after a deploy) runs it.
    await service.close();
    service = await start();
    fake.deliverTo(`http://127.0.0.1:${service.httpPort}`);

    // Both clocks reach the last 30 s of the period: the action (due 60 s before its end) runs.
    offsetMs = periodEnd.getTime() - 30_000 - Date.now();
    await fake.advanceClock((periodEnd.getTime() - 30_000 - fake.now().getTime()) / 1000);
    const ended = await eventually(
      async () => (await call(subs(), subs().getSubscription, { subscriptionId: subscription.id })).subscription!,
      (s) => s.status === CANCELED,
    );
    expect(cancelCalls()).toHaveLength(1);
    // Cancelled outright at the provider (it knows no period-end cancel), so it charges no renewal.
    expect([...fake.subscriptions.values()].find((s) => s.orderId === subscription.id)?.status).toBe('CANCELED');
    // Access lasted the period paid for (up to the moment the provider was told, at most a minute before its end).
    expect(ended.endedAt!.getTime()).toBeGreaterThanOrEqual(periodEnd.getTime() - 60_000);
    const types = await eventTypesOf(service, subscription.id);
    expect(types.filter((t) => t === 'billing.subscription.canceled')).toHaveLength(1);
    expect(await pendingActions(subscription.id)).toHaveLength(0);
  });
});
