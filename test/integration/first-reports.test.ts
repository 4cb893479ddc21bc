import { ForeignOrUnknownObject, type EventOrigin } from '../../src/app/inbound/event-origin';
import { subscriptionOf } from '../../src/app/inbound/object-lookup';
import { PaymentEvents } from '../../src/app/inbound/payment-events';
import { AskedFirst } from '../../src/app/inbound/subscription-answers';
import type { Storefront } from '../../src/domain/storefront';
import type { Subscription } from '../../src/domain/subscription';
import type {
  ProviderFeatures,
  ProviderInvoiceState,
  ProviderPaymentState,
} from '../../src/ports/provider-adapter.port';
import { Database, openDatabase } from '../../src/store/database';
import { migrateToLatest } from '../../src/store/migrate';
import { KnexUnitOfWork } from '../../src/store/unit-of-work';
import { eventually } from '../support/eventually';
import { customerRecord, planRecord, storefrontRecord, subscriptionRecord } from '../support/fixtures';
import { createTestDatabase, TestDatabase } from '../support/test-database';

const T0 = new Date('2030-01-01T00:00:00Z');
const PROVIDER = 'firstpay';

/**
 * The first report naming a provider's reference for something of ours (the engine's lookups, on PostgreSQL and on
 * PGlite, the embedded default, since they are SQL of ours): a new subscription's reference is claimed for the
 * subscription our order id names, only where nothing else holds it; an invoice is recorded once and moved in place;
 * a new payment reported by two transactions at once is recorded once (PostgreSQL: PGlite is one session).
 */
describe.each([
  ['PostgreSQL', true],
  ['PGlite', false],
])('first reports of a provider reference on %s', (_name, postgres) => {
  let db: TestDatabase | undefined;
  let database: Database;
  let uow: KnexUnitOfWork;
  const ours = storefrontRecord('first-a', PROVIDER, T0);
  const theirs = storefrontRecord('first-b', PROVIDER, T0);
  const origin: EventOrigin = {
    provider: PROVIDER,
    storefront: ours,
    correlationId: 'first-reports',
    features: {} as ProviderFeatures,
  };
  const subscription = (id: string, store: Storefront, overrides: Partial<Subscription> = {}) =>
    subscriptionRecord(id, store, T0, overrides);

  beforeAll(async () => {
    db = postgres ? await createTestDatabase() : undefined;
    database = openDatabase({ databaseUrl: db?.url ?? '', dataDir: ':memory:' });
    await migrateToLatest(database.knex);
    uow = new KnexUnitOfWork(database.knex, { now: () => T0 });
    await uow.transaction(async (repos) => {
      for (const store of [ours, theirs]) {
        await repos.storefronts.insert(store);
        await repos.plans.insert(planRecord(`plan_${store.id}`, store.id, T0));
        await repos.customers.insert(customerRecord(`cus_${store.id}`, store.id, T0));
      }
      await repos.subscriptions.insert(subscription('sub_new', ours));
      await repos.subscriptions.insert(subscription('sub_blocked', ours));
      await repos.subscriptions.insert(subscription('sub_has_ref', ours, { providerRef: 'kept-1' }));
      await repos.subscriptions.insert(subscription('sub_other_provider', ours, { provider: 'elsewhere' }));
      await repos.subscriptions.insert(subscription('sub_theirs', theirs, { providerRef: 'taken-1' }));
      await repos.subscriptions.insert(subscription('sub_theirs_new', theirs));
      await repos.subscriptions.insert(subscription('sub_paid', ours, { providerRef: 'paid-1' }));
    });
  });

  afterAll(async () => {
    await database?.close();
    await db?.drop();
  });

  const stored = async (id: string) => (await uow.reads.subscriptions.get(id))!.providerRef;
  const lookUp = (ref: string, orderId: string) =>
    uow.transaction((repos) => subscriptionOf(repos, origin, ref, orderId));

  it('claims the reference for the subscription our order id names, and finds it by the reference afterwards', async () => {
    expect(await lookUp('new-1', 'sub_new')).toMatchObject({ id: 'sub_new', providerRef: 'new-1', version: 1 });
    expect(await stored('sub_new')).toBe('new-1');
    expect(await lookUp('new-1', 'sub_unrelated')).toMatchObject({ id: 'sub_new' });
  });

  it('never claims a reference another storefront’s subscription holds', async () => {
    await expect(lookUp('taken-1', 'sub_blocked')).rejects.toBeInstanceOf(ForeignOrUnknownObject);
    expect(await stored('sub_blocked')).toBeUndefined();
    expect(await stored('sub_theirs')).toBe('taken-1');
  });

  it('leaves a subscription that has its reference already as it is', async () => {
    expect(await lookUp('other-1', 'sub_has_ref')).toMatchObject({ id: 'sub_has_ref', providerRef: 'kept-1' });
    expect(await stored('sub_has_ref')).toBe('kept-1');
  });

  it('never claims for another storefront’s or another provider’s subscription', async () => {
    await expect(lookUp('stray-1', 'sub_theirs_new')).rejects.toBeInstanceOf(ForeignOrUnknownObject);
    await expect(lookUp('stray-2', 'sub_other_provider')).rejects.toBeInstanceOf(ForeignOrUnknownObject);
    expect(await stored('sub_theirs_new')).toBeUndefined();
    expect(await stored('sub_other_provider')).toBeUndefined();
  });

  // Two sessions at once: PostgreSQL only.
  if (postgres) {
    it('records a new payment reported by two transactions at once once, with one event', async () => {
      const payments = new PaymentEvents(
        { now: () => T0 },
        {
          reconcile: () => Promise.reject(new Error('an ACTIVE subscription is never reconciled for its payment')),
        },
      );
      const report: ProviderPaymentState = {
        ref: 'pay-ref-1',
        orderId: 'sub_paid',
        subscriptionRef: 'paid-1',
        kind: 'recurring',
        amount: { currency: 'EUR', amountMinor: 1000n },
        status: 'SUCCEEDED',
        refundState: 'NONE',
        refundedAmount: { currency: 'EUR', amountMinor: 0n },
      };
      const apply = () =>
        uow.transaction((repos) =>
          payments.applyPayment(repos, origin, report, { actor: 'test', correlationId: 'race' }, AskedFirst.of()),
        );
      // The first holds its transaction open after recording the payment; the second looks (finding none committed),
      // then waits for the subscription's lock, and goes on once the first has committed.
      let commitFirst!: () => void;
      const firstMayCommit = new Promise<void>((resolve) => (commitFirst = resolve));
      let firstRecorded!: (note: string) => void;
      const firstNote = new Promise<string>((resolve) => (firstRecorded = resolve));
      const first = uow.transaction(async (repos) => {
        firstRecorded(
          await payments.applyPayment(
            repos,
            origin,
            report,
            { actor: 'test', correlationId: 'race-1' },
            AskedFirst.of(),
          ),
        );
        await firstMayCommit;
      });
      await firstNote;
      const second = apply();
      await eventually(async () => (await waitingOnLocks()) > 0, Boolean);
      commitFirst();
      await first;
      const secondNote = await second;
      expect([await firstNote, secondNote]).toEqual([
        expect.stringMatching(/ SUCCEEDED$/),
        expect.stringMatching(/ unchanged$/),
      ]);
      const rows = await database.knex('payments').where({ provider: PROVIDER, provider_ref: 'pay-ref-1' });
      expect(rows).toHaveLength(1);
      const events = await database.knex('outbox').where({ type: 'billing.payment.succeeded' });
      expect(events).toHaveLength(1);
    });
  }

  it('records a reported invoice once, then moves it forward in place; another invoice in its cycle is refused', async () => {
    const payments = new PaymentEvents(
      { now: () => T0 },
      { reconcile: () => Promise.reject(new Error('no invoice here asks about the subscription')) },
    );
    const invoice = (ref: string, status: 'OPEN' | 'PAID'): ProviderInvoiceState => ({
      ref,
      orderId: 'sub_paid',
      subscriptionRef: 'paid-1',
      amount: { currency: 'EUR', amountMinor: 1000n },
      type: 'RENEWAL',
      status,
      cycleIndex: 3,
      periodStart: T0,
      periodEnd: new Date('2030-02-01T00:00:00Z'),
    });
    const apply = (state: ProviderInvoiceState) =>
      uow.transaction((repos) =>
        payments.applyInvoice(
          repos,
          origin,
          state,
          'recorded',
          { actor: 'test', correlationId: 'inv' },
          AskedFirst.of(),
        ),
      );
    const rows = () => database.knex('invoices').where({ subscription_id: 'sub_paid', cycle_index: 3 });
    const first = await apply(invoice('inv-ref-1', 'OPEN'));
    const [recorded] = await rows();
    expect(first).toBe(`invoice ${recorded.id} OPEN`);
    expect(await apply(invoice('inv-ref-1', 'OPEN'))).toBe(`invoice ${recorded.id} unchanged`);
    expect(await apply(invoice('inv-ref-1', 'PAID'))).toBe(`invoice ${recorded.id} PAID`);
    await expect(apply(invoice('inv-ref-2', 'OPEN'))).rejects.toThrow(/invoices_one_per_cycle/);
    const after = await rows();
    expect(
      after.map((r) => ({ id: r.id, ref: r.provider_ref, status: r.status, amount: String(r.amount_minor) })),
    ).toEqual([{ id: recorded.id, ref: 'inv-ref-1', status: 'PAID', amount: '1000' }]);
    expect((await rows())[0].created_at).toEqual(recorded.created_at);
    // Recorded as reported: its currency, cycle and period as the provider gave them.
    expect(
      after.map((r) => ({
        currency: String(r.currency).trim(),
        cycle: Number(r.cycle_index),
        from: new Date(r.period_start).toISOString(),
        to: new Date(r.period_end).toISOString(),
      })),
    ).toEqual([{ currency: 'EUR', cycle: 3, from: T0.toISOString(), to: '2030-02-01T00:00:00.000Z' }]);
  });

  const waitingOnLocks = async () => {
    const { rows } = await database.knex.raw<{ rows: { n: number }[] }>(
      "select count(*)::int as n from pg_stat_activity where wait_event_type = 'Lock' and datname = current_database()",
    );
    return rows[0]!.n;
  };
});
