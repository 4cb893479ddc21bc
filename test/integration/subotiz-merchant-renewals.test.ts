import { Subscription, SubscriptionStatus as S } from '../../src/gen/billing/v1/subscription';
import { PaymentStatus } from '../../src/gen/billing/v1/payment';
import { eventually } from '../support/eventually';
import { FAST_WEBHOOKS, subotizWorld, SubotizWorld } from '../support/subotiz-world';
import { createTestDatabase, TestDatabase, withClient } from '../support/test-database';
import { call, eventTypesOf, startTestService, TestService } from '../support/test-service';

const DAY = 24 * 60 * 60;

/**
 * Flow 4 on a `renewals: merchant` storefront: our scheduler charges each renewal with Create Trade and the saved
 * payment_token, and runs dunning itself. The service keeps wall time; the test moves the emulator's clock and has
 * the scheduler run what is due at the emulator's time (Scheduler.runDue(now)).
 */
describe('Subotiz merchant-initiated renewals (Flow 4)', () => {
  let db: TestDatabase;
  let service: TestService;
  let world: SubotizWorld;
  let offsetMs = 0;

  beforeAll(async () => {
    db = await createTestDatabase();
    service = await startTestService({ DATABASE_URL: db.url, ...FAST_WEBHOOKS });
    world = await subotizWorld(service, {
      storefrontId: 'flow4-store',
      providerConfig: { renewals: 'merchant' },
      merchant: { renewals: 'merchant' },
    });
  });

  afterAll(async () => {
    await world?.close();
    await service?.close();
    await db?.drop();
  });

  const subs = () => service.clients.subscriptions;
  /** Moves the emulator's clock on; the scheduler then runs what is due by it. */
  const advance = async (seconds: number) => {
    offsetMs += seconds * 1000;
    await world.control('/clock/advance', { seconds });
  };
  /** Waits for `done`, running the scheduler at the emulator's time between looks. */
  const waitFor = (id: string, done: (s: Subscription) => boolean) =>
    eventually(async () => {
      await service.scheduler.runDue(new Date(Date.now() + offsetMs));
      return world.subscription(id);
    }, done);
  /** Subscriptions a test made; ended after it, so a later test's clock advance renews (and charges) only its own. */
  const made: string[] = [];
  const active = async () => {
    const { id } = await world.activeSubscription();
    made.push(id);
    return world.subscription(id);
  };

  afterEach(async () => {
    for (const subscriptionId of made.splice(0)) {
      await call(subs(), subs().cancelSubscription, { subscriptionId, atPeriodEnd: false, reason: '' }).catch(
        () => undefined,
      );
    }
  });
  const pendingRenewal = (id: string) =>
    withClient(db.url, async (c) => {
      const rows = await c.query(
        "select due_at from scheduled_actions where kind = 'subscription.merchant_renewal' and subject_id = $1 and status = 'pending'",
        [id],
      );
      return rows.rows.map((r) => new Date(r.due_at as string));
    });
  /** The emulator's recurring trades for our subscription, oldest first. */
  const recurringTrades = async (id: string) => {
    const response = await fetch(`${world.emulator.url}/api/v1/trades?page=1&page_size=100`, {
      headers: { authorization: `Bearer ${process.env.TEST_SUBOTIZ_API_KEY}`, 'request-id': crypto.randomUUID() },
    });
    const body = (await response.json()) as {
      data: { list: { order_id: string; payment_mode: string; trade_status: string }[] };
    };
    return body.data.list.filter((t) => t.order_id.startsWith(`${id}-c`)).reverse();
  };

  it('refuses a renewals setting the provider does not list', async () => {
    const error = await call(service.clients.storefronts, service.clients.storefronts.updateStorefront, {
      storefrontId: world.storefrontId,
      providerConfig: { renewals: 'sometimes' },
      replaceProviderConfig: true,
      secretRefs: {},
      replaceSecretRefs: false,
      expectedVersion: 0n,
    }).catch((e: Error) => e);
    expect(String(error)).toContain('provider_config.renewals');
  });

  it('schedules the charge at the period end and renews with Create Trade and the saved payment_token', async () => {
    const first = await active();
    expect(await pendingRenewal(first.id)).toEqual([first.currentPeriodEnd]);

    await advance(Math.ceil((first.currentPeriodEnd!.getTime() - Date.now() - offsetMs) / 1000) + 60);
    const renewed = await waitFor(first.id, (s) => s.currentPeriodEnd!.getTime() > first.currentPeriodEnd!.getTime());
    expect(renewed.status).toBe(S.SUBSCRIPTION_STATUS_ACTIVE);
    const trades = await recurringTrades(first.id);
    expect(trades).toEqual([
      expect.objectContaining({
        order_id: `${first.id}-c2`,
        payment_mode: 'recurring_payment',
        trade_status: 'succeeded',
      }),
    ]);
    await eventually(
      () => eventTypesOf(service, first.id),
      (types) => types.includes('billing.subscription.renewed'),
    );
    const payments = await world.paymentsOf(first.id);
    expect(payments.filter((p) => p.status === PaymentStatus.PAYMENT_STATUS_SUCCEEDED)).toHaveLength(2);
    // And the next one is scheduled at the new period end.
    await eventually(
      () => pendingRenewal(first.id),
      (due) => due.length === 1 && due[0]!.getTime() === renewed.currentPeriodEnd!.getTime(),
    );
  });

  it('price × quantity beyond 10^12 minor units is not charged: the renewal waits a day saying why', async () => {
    const first = await active();
    // Each within its own bound; their product is past every amount we hold.
    await withClient(db.url, (c) =>
      c.query('update subscriptions set quantity = 1000000000 where id = $1', [first.id]),
    );

    await advance(Math.ceil((first.currentPeriodEnd!.getTime() - Date.now() - offsetMs) / 1000) + 60);
    const reason = await eventually(
      async () => {
        await service.scheduler.runDue(new Date(Date.now() + offsetMs));
        const { rows } = await withClient(db.url, (c) =>
          c.query(
            "select last_error from scheduled_actions where kind = 'subscription.merchant_renewal' and subject_id = $1 and status = 'pending'",
            [first.id],
          ),
        );
        return (rows[0]?.last_error as string | undefined) ?? '';
      },
      (text) => text !== '',
    );
    expect(reason).toContain('not charged');
    expect(await recurringTrades(first.id)).toEqual([]);
  });

  it('a declined renewal makes it PAST_DUE; the dunning retry a day later that is paid makes it ACTIVE', async () => {
    const first = await active();
    await world.control('/charges/fail-next', { count: 1 });
    await advance(Math.ceil((first.currentPeriodEnd!.getTime() - Date.now() - offsetMs) / 1000) + 60);
    await waitFor(first.id, (s) => s.status === S.SUBSCRIPTION_STATUS_PAST_DUE);

    await advance(DAY);
    const recovered = await waitFor(first.id, (s) => s.status === S.SUBSCRIPTION_STATUS_ACTIVE);
    expect(recovered.currentPeriodEnd!.getTime()).toBeGreaterThan(first.currentPeriodEnd!.getTime());
    expect((await recurringTrades(first.id)).map((t) => [t.order_id, t.trade_status])).toEqual([
      [`${first.id}-c2`, 'payment_failed'],
      [`${first.id}-c2-r1`, 'succeeded'],
    ]);
  });

  it('after the last dunning retry is declined the subscription is UNPAID', async () => {
    const first = await active();
    await world.control('/charges/fail-next', { count: 4 });
    await advance(Math.ceil((first.currentPeriodEnd!.getTime() - Date.now() - offsetMs) / 1000) + 60);
    await waitFor(first.id, (s) => s.status === S.SUBSCRIPTION_STATUS_PAST_DUE);
    // Retries 1, 3 and 5 days after the period end (the default schedule).
    await advance(DAY);
    await eventually(
      async () => {
        await service.scheduler.runDue(new Date(Date.now() + offsetMs));
        return (await recurringTrades(first.id)).length;
      },
      (n) => n === 2,
    );
    await advance(2 * DAY);
    await eventually(
      async () => {
        await service.scheduler.runDue(new Date(Date.now() + offsetMs));
        return (await recurringTrades(first.id)).length;
      },
      (n) => n === 3,
    );
    await advance(2 * DAY);
    await waitFor(first.id, (s) => s.status === S.SUBSCRIPTION_STATUS_UNPAID);
    expect(await recurringTrades(first.id)).toHaveLength(4);
    expect(await pendingRenewal(first.id)).toEqual([]);
  });

  it('a cancel at period end is honoured: no charge, and the subscription ends', async () => {
    const first = await active();
    await call(subs(), subs().cancelSubscription, { subscriptionId: first.id, atPeriodEnd: true, reason: '' });
    await eventually(
      () => pendingRenewal(first.id),
      (due) => due.length === 0,
    );
    await advance(Math.ceil((first.currentPeriodEnd!.getTime() - Date.now() - offsetMs) / 1000) + 60);
    await waitFor(first.id, (s) => s.status === S.SUBSCRIPTION_STATUS_CANCELED);
    expect(await recurringTrades(first.id)).toEqual([]);
  });
  /** Runs the scheduler once at the emulator's time; the renewal's last error, while it is still pending. */
  const runOnce = async (id: string) => {
    await service.scheduler.runDue(new Date(Date.now() + offsetMs));
    const { rows } = await withClient(db.url, (c) =>
      c.query(
        "select last_error from scheduled_actions where kind = 'subscription.merchant_renewal' and subject_id = $1 and status = 'pending'",
        [id],
      ),
    );
    return (rows[0]?.last_error as string | null | undefined) ?? '';
  };
  /** Moves the pending renewal's next run to `at`, as a run that threw and backed off past a dunning day would. */
  const retryAt = (id: string, at: Date) =>
    withClient(db.url, (c) =>
      c.query(
        "update scheduled_actions set due_at = $2 where kind = 'subscription.merchant_renewal' and subject_id = $1 and status = 'pending'",
        [id, at],
      ),
    );

  it('a renewal charged at the provider whose answer was lost is not charged again: its period is applied', async () => {
    const first = await active();
    // The charge goes through at Subotiz, but its answer and the lookup by order id fail (the run throws), and the
    // webhooks about it are lost: only the provider knows the renewal is paid, and it has moved to its next cycle.
    await world.control('/webhooks/faults', { mode: 'drop', count: 3 });
    await world.control('/faults', { count: 50, status: 503, after: true, path: '/api/v1/trade' });
    await advance(Math.ceil((first.currentPeriodEnd!.getTime() - Date.now() - offsetMs) / 1000) + 60);
    expect(await runOnce(first.id)).not.toBe('');
    await world.control('/faults/clear', {});
    // The charge's three webhooks (trade created, invoice paid, trade succeeded) were the ones dropped.
    expect(await world.control('/webhooks/faults', undefined, 'GET')).toEqual([]);
    expect((await recurringTrades(first.id)).map((t) => [t.order_id, t.trade_status])).toEqual([
      [`${first.id}-c2`, 'succeeded'],
    ]);

    const renewed = await waitFor(first.id, (s) => s.currentPeriodEnd!.getTime() > first.currentPeriodEnd!.getTime());
    expect(renewed.status).toBe(S.SUBSCRIPTION_STATUS_ACTIVE);
    // Not charged under the provider's next cycle index (`-c3`).
    expect((await recurringTrades(first.id)).map((t) => t.order_id)).toEqual([`${first.id}-c2`]);
  });

  it('a renewal whose runs failed until past the first dunning day still charges its first attempt, not a retry', async () => {
    const first = await active();
    // Subotiz unreachable at the period end: nothing is charged, and the run is retried with a growing backoff.
    await world.control('/faults', { count: 50, status: 503, path: `/api/v1/subscription/` });
    await advance(Math.ceil((first.currentPeriodEnd!.getTime() - Date.now() - offsetMs) / 1000) + 60);
    expect(await runOnce(first.id)).not.toBe('');
    await world.control('/faults/clear', {});
    await retryAt(first.id, new Date(first.currentPeriodEnd!.getTime() + DAY * 1000 + 3_600_000));
    await advance(DAY + 2 * 3600);

    await waitFor(first.id, (s) => s.currentPeriodEnd!.getTime() > first.currentPeriodEnd!.getTime());
    // The charge at the period end (`-c2`), not the first dunning retry (`-c2-r1`), which no decline came before.
    expect((await recurringTrades(first.id)).map((t) => [t.order_id, t.trade_status])).toEqual([
      [`${first.id}-c2`, 'succeeded'],
    ]);
  });
});
