import * as grpc from '@grpc/grpc-js';
import { CapabilitySupport } from '../../src/gen/billing/v1/storefront';
import { SubscriptionStatus } from '../../src/gen/billing/v1/subscription';
import type { SubscriptionHandle } from '../../src/ports/provider-adapter.port';
import { eventually } from '../support/eventually';
import { movableClock } from '../support/movable-clock';
import { fakeProvider } from '../support/fake-provider';
import { fakeStorefront, FakeStorefront } from '../support/fake-storefront';
import { FAST_WEBHOOKS } from '../support/subotiz-world';
import { createTestDatabase, TestDatabase, webhooksSettled, withClient } from '../support/test-database';
import { call, callError, eventTypesOf, startTestService, TestService } from '../support/test-service';

const ACTIVE = SubscriptionStatus.SUBSCRIPTION_STATUS_ACTIVE;
const CANCELED = SubscriptionStatus.SUBSCRIPTION_STATUS_CANCELED;

/**
 * Cancel at period end on a provider that has none (features `cancelAtPeriodEnd: emulated`): the flag and its events
 * are ours, nothing reaches the provider until our durable scheduler cancels there just before the period ends —
 * also when the service restarted in between — and ours ends when the period does; a revoke before the provider is
 * told undoes it, one after is refused; a renewal the provider made before a late job ran is never applied.
 */
describe('cancel at period end, emulated by our scheduler', () => {
  const fake = fakeProvider('fakeemu', { cancelAtPeriodEnd: 'emulated' });
  /** One that shows its charges and can refund them. */
  const refunding = fakeProvider('fakeemr', {
    cancelAtPeriodEnd: 'emulated',
    refunds: true,
    invoicesWithSubscription: true,
  });
  let db: TestDatabase;
  let service: TestService;
  let store: FakeStorefront;
  let refundingStore: FakeStorefront | undefined;
  let laterStore: FakeStorefront | undefined;
  const clock = movableClock();
  const start = () =>
    startTestService(
      { DATABASE_URL: db.url, ...FAST_WEBHOOKS, SCHEDULER_POLL_INTERVAL_MS: '100' },
      { clock, extraProviders: [fake.module, refunding.module] },
    );
  const pendingActions = (subscriptionId: string) =>
    withClient(db.url, async (c) => {
      const { rows } = await c.query(
        `SELECT due_at, payload FROM scheduled_actions
          WHERE subject_id = $1 AND kind = 'subscription.cancel_at_period_end' AND status = 'pending'`,
        [subscriptionId],
      );
      return rows as { due_at: Date; payload: Record<string, unknown> }[];
    });
  /** The cancellation moved to the period end once the provider cancelled (ahead of the boundary). */
  const heldUntil = (subscriptionId: string, periodEnd: Date) =>
    eventually(
      () => pendingActions(subscriptionId),
      (rows) =>
        rows.length === 1 &&
        rows[0]!.payload.provider_canceled_at !== undefined &&
        rows[0]!.due_at.getTime() === periodEnd.getTime(),
    );
  const cancelCalls = (subscriptionId?: string) =>
    fake.calls.filter(
      (c) =>
        c.operation === 'cancelSubscription' &&
        (!subscriptionId || (c.detail as SubscriptionHandle).id === subscriptionId),
    );
  const subs = () => service.clients.subscriptions;
  const scheduleCancel = (subscriptionId: string) =>
    call(subs(), subs().cancelSubscription, { subscriptionId, atPeriodEnd: true, reason: 'moving' });
  const auditActions = (subscriptionId: string, like: string) =>
    withClient(db.url, async (c) => {
      const { rows } = await c.query('SELECT action FROM audit_log WHERE resource_id = $1 AND action LIKE $2', [
        subscriptionId,
        like,
      ]);
      return (rows as { action: string }[]).map((r) => r.action);
    });

  beforeAll(async () => {
    db = await createTestDatabase();
    service = await start();
    store = await fakeStorefront(service, fake, 'fake-emulated');
  });

  afterAll(async () => {
    store?.close();
    refundingStore?.close();
    laterStore?.close();
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

  it('a revoke while the job is telling the provider is refused; access lasts until the period end all the same', async () => {
    const subscription = await store.activeSubscription();
    const periodEnd = subscription.currentPeriodEnd!;
    await scheduleCancel(subscription.id);
    const inFlight = fake.holdNext('cancelSubscription', (h) => (h as SubscriptionHandle).id === subscription.id);
    await clock.moveTo(new Date(periodEnd.getTime() - 30_000), fake);
    await inFlight.reached;

    // The job committed its marker before it called the provider: the revoke cannot win any more.
    const error = await callError(subs(), subs().revokeCancellation, { subscriptionId: subscription.id });
    expect(error.code).toBe(grpc.status.FAILED_PRECONDITION);
    expect(error.details).toContain('the provider was already told to cancel');
    expect(error.details).toContain('no longer be revoked');
    inFlight.release();

    // Cancelled at the provider ahead of the boundary, but ours lasts the period paid for.
    await heldUntil(subscription.id, periodEnd);
    expect(fake.subscription(subscription.providerRef).status).toBe('CANCELED');
    expect(await store.subscription(subscription.id)).toMatchObject({ status: ACTIVE, cancelAtPeriodEnd: true });
    const entitled = await call(store.entitlements, store.entitlements.checkEntitlement, {
      customerId: store.customerId,
      featureKey: 'basic',
    });
    expect(entitled.granted).toBe(true);

    await clock.moveTo(new Date(periodEnd.getTime() + 1_000), fake);
    const ended = await store.waitFor(subscription.id, (s) => s.status === CANCELED);
    expect(ended.endedAt).toEqual(periodEnd);
    expect(cancelCalls(subscription.id)).toHaveLength(1);
    const types = await eventTypesOf(service, subscription.id);
    expect(types.filter((t) => t === 'billing.subscription.canceled')).toHaveLength(1);
    expect(types).not.toContain('billing.subscription.cancellation_revoked');
  });

  it('a renewal the provider reports before the late job runs is never applied; the job ends ours and reports the charge', async () => {
    const subscription = await store.activeSubscription();
    const periodEnd = subscription.currentPeriodEnd!;
    await scheduleCancel(subscription.id);
    // The provider's clock passes the boundary before ours reaches the job (the service was down, say): it renews,
    // and its webhook with the new period is applied first.
    await fake.advanceClock((periodEnd.getTime() + 60_000 - fake.now().getTime()) / 1000);
    expect(fake.subscription(subscription.providerRef).currentPeriodStart!.getTime()).toBeGreaterThanOrEqual(
      periodEnd.getTime(),
    );
    await webhooksSettled(db.url);
    const held = await store.subscription(subscription.id);
    expect(held).toMatchObject({ status: ACTIVE, cancelAtPeriodEnd: true, currentPeriodEnd: periodEnd });
    expect(await eventTypesOf(service, subscription.id)).not.toContain('billing.subscription.renewed');

    // The job runs late: the provider renewed; ours ends at our period end and the charge is reported (no refunds).
    await clock.moveTo(new Date(periodEnd.getTime() - 30_000), fake);
    const ended = await store.waitFor(subscription.id, (s) => s.status === CANCELED);
    expect(ended.endedAt).toEqual(periodEnd);
    expect(fake.subscription(subscription.providerRef).status).toBe('CANCELED');
    const reported = await withClient(db.url, async (c) => {
      const { rows } = await c.query('SELECT action FROM audit_log WHERE resource_id = $1 AND action LIKE $2', [
        subscription.id,
        'LateCancellationRenewal%',
      ]);
      return rows as { action: string }[];
    });
    expect(reported).toEqual([{ action: 'LateCancellationRenewalCharged' }]);
    const types = await eventTypesOf(service, subscription.id);
    expect(types).not.toContain('billing.subscription.renewed');
    expect(types.filter((t) => t === 'billing.subscription.canceled')).toHaveLength(1);
  });

  it("a provider's cancel reported only after our period is over ends ours dated at the period end, not when it cancelled", async () => {
    const subscription = await store.activeSubscription();
    const periodEnd = subscription.currentPeriodEnd!;
    await scheduleCancel(subscription.id);
    // The provider cancels mid-period on its own (its dashboard) and says nothing yet.
    const midPeriod = new Date(periodEnd.getTime() - 10 * 86_400_000);
    const cancelled = fake.update(subscription.providerRef, { status: 'CANCELED', canceledAt: midPeriod });
    // Our job comes due and asks the provider; it is held there while the provider's webhook finally arrives.
    const asking = fake.holdNext('getSubscription', (h) => (h as SubscriptionHandle).id === subscription.id);
    await clock.moveTo(new Date(periodEnd.getTime() + 60_000), fake);
    await asking.reached;
    expect(await fake.sendState(cancelled, 'canceled')).toBe(200);
    const ended = await store.waitFor(subscription.id, (s) => s.status === CANCELED);
    asking.release();
    // The customer paid for the whole period: that is when access ended, whoever ended it first.
    expect(ended.endedAt).toEqual(periodEnd);
    await webhooksSettled(db.url);
    const types = await eventTypesOf(service, subscription.id);
    expect(types.filter((t) => t === 'billing.subscription.canceled')).toHaveLength(1);
  });

  it('schedules and revokes on our side only, and cancels at the provider just before the period ends, across a restart', async () => {
    const subscription = await store.activeSubscription();
    const periodEnd = subscription.currentPeriodEnd!;
    const cancel = () => scheduleCancel(subscription.id);

    const scheduled = (await cancel()).subscription!;
    expect(scheduled).toMatchObject({ status: ACTIVE, cancelAtPeriodEnd: true });
    expect(cancelCalls(subscription.id)).toHaveLength(0);
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
    await clock.moveTo(new Date(periodEnd.getTime() - 30_000), fake);
    await heldUntil(subscription.id, periodEnd);
    expect(cancelCalls(subscription.id)).toHaveLength(1);
    // Cancelled outright at the provider (it knows no period-end cancel), so it charges no renewal.
    expect([...fake.subscriptions.values()].find((s) => s.orderId === subscription.id)?.status).toBe('CANCELED');
    // Ours still grants the rest of the period; it ends exactly when the period paid for does.
    expect(
      (await call(subs(), subs().getSubscription, { subscriptionId: subscription.id })).subscription,
    ).toMatchObject({ status: ACTIVE, cancelAtPeriodEnd: true });
    await clock.moveTo(new Date(periodEnd.getTime() + 1_000), fake);
    const ended = await eventually(
      async () => (await call(subs(), subs().getSubscription, { subscriptionId: subscription.id })).subscription!,
      (s) => s.status === CANCELED,
    );
    expect(ended.endedAt).toEqual(periodEnd);
    expect(cancelCalls(subscription.id)).toHaveLength(1);
    const types = await eventTypesOf(service, subscription.id);
    expect(types.filter((t) => t === 'billing.subscription.canceled')).toHaveLength(1);
    expect(await pendingActions(subscription.id)).toHaveLength(0);
  });

  it('once the provider was told, a revoke stays refused and a repeated cancel keeps the marker, though the job ran out of attempts', async () => {
    // A storefront on the service as it now is (the one above talks to the service before its restart).
    laterStore = await fakeStorefront(service, fake, 'fake-emulated-later');
    const subscription = await laterStore.activeSubscription();
    await scheduleCancel(subscription.id);
    // The job marked the provider as told, then its provider calls failed until it ran out of attempts.
    await withClient(db.url, (c) =>
      c.query(
        `UPDATE scheduled_actions SET status = 'failed', attempts = 5, last_error = 'provider unavailable',
                payload = payload || '{"provider_cancel_sent_at": "2026-01-01T00:00:00.000Z"}'::jsonb
          WHERE subject_id = $1 AND kind = 'subscription.cancel_at_period_end' AND status = 'pending'`,
        [subscription.id],
      ),
    );
    const error = await callError(subs(), subs().revokeCancellation, { subscriptionId: subscription.id });
    expect(error.code).toBe(grpc.status.FAILED_PRECONDITION);
    expect(error.details).toContain('the provider was already told to cancel');
    expect(await laterStore.subscription(subscription.id)).toMatchObject({ status: ACTIVE, cancelAtPeriodEnd: true });

    // Asked again, the cancellation is scheduled anew with what the failed one knew.
    await scheduleCancel(subscription.id);
    const [again] = await pendingActions(subscription.id);
    expect(again!.payload).toMatchObject({ provider_cancel_sent_at: '2026-01-01T00:00:00.000Z', reason: 'moving' });
    const still = await callError(subs(), subs().revokeCancellation, { subscriptionId: subscription.id });
    expect(still.code).toBe(grpc.status.FAILED_PRECONDITION);
  });

  it("a late renewal is refunded and recorded even when the provider's cancellation ended ours before the job finished", async () => {
    await clock.moveTo(clock.now(), refunding);
    refundingStore = await fakeStorefront(service, refunding, 'fake-emulated-refunds');
    const subscription = await refundingStore.activeSubscription();
    const periodEnd = subscription.currentPeriodEnd!;
    await scheduleCancel(subscription.id);
    // The provider renews (and charges) before our job runs; the renewal is withheld.
    await refunding.advanceClock((periodEnd.getTime() + 60_000 - refunding.now().getTime()) / 1000);
    await webhooksSettled(db.url);

    // The job runs past our period end: it cancels at the provider, whose webhook ends ours (nothing holds it past
    // the period end) while the job's refund is still in flight.
    const refundInFlight = refunding.holdNext('refund');
    await clock.moveTo(new Date(periodEnd.getTime() + 1_000), refunding);
    await refundInFlight.reached;
    try {
      expect(refunding.subscription(subscription.providerRef).status).toBe('CANCELED');
      await refunding.sendState(refunding.subscription(subscription.providerRef), 'canceled');
      await refundingStore.waitFor(subscription.id, (s) => s.status === CANCELED);
    } finally {
      refundInFlight.release();
    }

    await eventually(
      () => auditActions(subscription.id, 'LateCancellationRenewal%'),
      (actions) => actions.length > 0,
    );
    expect(await auditActions(subscription.id, 'LateCancellationRenewal%')).toEqual([
      'LateCancellationRenewalRefunded',
    ]);
    expect(refunding.refunds).toHaveLength(1);
    const types = await eventTypesOf(service, subscription.id);
    expect(types).not.toContain('billing.subscription.renewed');
  });
});
