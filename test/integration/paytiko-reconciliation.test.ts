import type { PaytikoEmulator } from '../../adapters/paytiko/emulator';
import { InvoiceStatus } from '../../src/gen/billing/v1/payment';
import { SubscriptionStatus } from '../../src/gen/billing/v1/subscription';
import { eventually } from '../support/eventually';
import { paytikoStore, PaytikoStore, SharedClock } from '../support/paytiko-store';
import { paytikoControl, paytikoMerchant, startPaytiko } from '../support/paytiko-world';
import { FAST_WEBHOOKS } from '../support/subotiz-world';
import { createTestDatabase, TestDatabase, withClient } from '../support/test-database';
import { counter, startTestService, TestService } from '../support/test-service';

const ACTIVE = SubscriptionStatus.SUBSCRIPTION_STATUS_ACTIVE;
const PAST_DUE = SubscriptionStatus.SUBSCRIPTION_STATUS_PAST_DUE;
const CANCELED = SubscriptionStatus.SUBSCRIPTION_STATUS_CANCELED;
const MINUTE_MS = 60_000;
/** The sweep asks about a live subscription this long after its period end (the service's default grace). */
const GRACE_MS = 60 * MINUTE_MS;

/**
 * The reconciler catches up what Paytiko did while every webhook about it was lost (the emulator's drop fault): a
 * renewal, a declined renewal (PastDue) and a cancel made in Paytiko's back office. The live-subscription sweep asks
 * Paytiko past the period end plus its grace, or after a minute's silence (RECONCILE_SILENCE_MS at its minimum), and
 * applies the fetched membership with its invoices and transactions; asked again, it records nothing new.
 */
describe('Paytiko reconciliation: lost webhooks caught up by the sweep, once', () => {
  let db: TestDatabase;
  let emulator: PaytikoEmulator;
  let clocks: SharedClock;
  let service: TestService;
  let store: PaytikoStore;
  const merchant = paytikoMerchant();

  beforeAll(async () => {
    db = await createTestDatabase();
    emulator = await startPaytiko([merchant]);
    clocks = new SharedClock(emulator);
    service = await startTestService(
      { DATABASE_URL: db.url, ...FAST_WEBHOOKS, RECONCILE_INTERVAL_MS: '100', RECONCILE_SILENCE_MS: '60000' },
      { clock: clocks.clock },
    );
    store = await paytikoStore(service, emulator, merchant, { storefrontId: 'paytiko-reconcile' });
  });

  afterAll(async () => {
    store?.close();
    await service?.close();
    await emulator?.stop();
    await db?.drop();
  });

  /** Every event keyed by the subscription (its own, its invoices', its payments'), in order. */
  const keyed = (subscriptionId: string) =>
    withClient(db.url, async (c) => {
      const { rows } = await c.query('select type from outbox where key = $1 order by id', [subscriptionId]);
      return (rows as { type: string }[]).map((r) => r.type);
    });
  const count = (types: string[], type: string) => types.filter((t) => t === type).length;
  const checked = () =>
    counter(service, 'billing_reconciler_rows_total', { kind: 'live_subscription', outcome: 'checked' });
  /** Webhooks Paytiko sent about the membership that never reached us, as Action names. */
  const lost = async (membershipKey: string) =>
    (await paytikoControl<{ type: string; membership: string; attempts: number }[]>(emulator, '/webhooks'))
      .filter((h) => h.membership === membershipKey && h.attempts === 0)
      .map((h) => h.type);
  /** Two more sweeps ask about the subscription (a minute of silence each), and nothing new is recorded. */
  const askedTwiceMore = async (subscriptionId: string) => {
    const settled = await keyed(subscriptionId);
    for (let round = 0; round < 2; round += 1) {
      const before = await checked();
      await clocks.moveTo(new Date((await clocks.emulatorNow()).getTime() + MINUTE_MS + 1_000));
      await eventually(checked, (n) => n > before);
    }
    expect(await keyed(subscriptionId)).toEqual(settled);
  };

  it('a renewal, a declined renewal and a back-office cancel, all unheard of, each recorded once', async () => {
    const subscription = await store.activeSubscription();
    const firstEnd = subscription.currentPeriodEnd!;
    const before = await keyed(subscription.id);
    await paytikoControl(emulator, '/webhooks/faults', { mode: 'drop', count: 1_000 });

    // Paytiko renews; its TRANSACTION webhook is lost. Past the grace, the sweep asks and records the renewal.
    await clocks.moveTo(new Date(firstEnd.getTime() + GRACE_MS + MINUTE_MS));
    expect(await lost(subscription.providerRef)).toEqual(['TRANSACTION']);
    const renewed = await store.waitFor(subscription.id, (s) => s.currentPeriodEnd! > firstEnd);
    expect(renewed).toMatchObject({ status: ACTIVE, currentPeriodStart: firstEnd });
    await askedTwiceMore(subscription.id);
    const afterRenewal = (await keyed(subscription.id)).slice(before.length);
    expect(afterRenewal.filter((t) => t.startsWith('billing.subscription.'))).toEqual(['billing.subscription.renewed']);
    expect(count(afterRenewal, 'billing.invoice.paid')).toBe(1);
    expect(count(afterRenewal, 'billing.payment.succeeded')).toBe(1);
    const recurring = (await store.membership(subscription.providerRef)).invoices.find((i) => i.type === 'Recurring')!;
    const renewal = (await store.invoicesOf(subscription.id)).find((i) => i.providerRef === recurring.invoiceKey);
    expect(renewal).toMatchObject({ status: InvoiceStatus.INVOICE_STATUS_PAID, cycleIndex: 2 });
    expect(renewal!.amount!.amountMinor).toBe(999n);

    // The next renewal is declined (PastDue at Paytiko); both webhooks are lost.
    await paytikoControl(emulator, '/charges/fail-next', { count: 1 });
    const secondEnd = renewed.currentPeriodEnd!;
    await clocks.moveTo(new Date(secondEnd.getTime() + GRACE_MS + MINUTE_MS));
    expect(await lost(subscription.providerRef)).toEqual(['TRANSACTION', 'TRANSACTION', 'SUBSCRIPTION_STATUS_CHANGED']);
    await store.waitFor(subscription.id, (s) => s.status === PAST_DUE);
    await askedTwiceMore(subscription.id);
    const afterDecline = (await keyed(subscription.id)).slice(before.length + afterRenewal.length);
    expect(afterDecline.filter((t) => t.startsWith('billing.subscription.'))).toEqual([
      'billing.subscription.past_due',
    ]);
    expect(count(afterDecline, 'billing.invoice.payment_failed')).toBe(1);
    expect(count(afterDecline, 'billing.payment.failed')).toBe(1);

    // The merchant cancels it in Paytiko's back office; that webhook is lost too.
    expect((await store.paytiko('POST', `/membership/cancel/${subscription.providerRef}`)).status).toBe(200);
    expect((await lost(subscription.providerRef)).at(-1)).toBe('SUBSCRIPTION_STATUS_CHANGED');
    expect((await lost(subscription.providerRef)).length).toBe(4);
    await clocks.moveTo(new Date((await clocks.emulatorNow()).getTime() + MINUTE_MS + 1_000));
    const ended = await store.waitFor(subscription.id, (s) => s.status === CANCELED);
    expect(ended.endedAt).toBeDefined();
    expect(await store.entitled(subscription.customerId)).toBe(false);
    // Ended, it is no longer swept; the canceled event is there once.
    const all = await keyed(subscription.id);
    expect(count(all, 'billing.subscription.canceled')).toBe(1);
    expect(count(all, 'billing.subscription.renewed')).toBe(1);
    expect(count(all, 'billing.subscription.past_due')).toBe(1);
  });
});
