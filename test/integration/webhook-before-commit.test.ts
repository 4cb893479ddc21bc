import { IGNORED_FOREIGN, NOT_RECORDED_GRACE_MS } from '../../src/app/inbound/webhook-intake';
import { newId } from '../../src/domain/ids';
import { SubscriptionStatus } from '../../src/gen/billing/v1/subscription';
import type { Clock } from '../../src/ports/clock.port';
import type { ProviderModule } from '../../src/ports/provider-adapter.port';
import { eventually } from '../support/eventually';
import { fakeProvider } from '../support/fake-provider';
import { fakeStorefront, FakeStorefront } from '../support/fake-storefront';
import { FAST_WEBHOOKS } from '../support/subotiz-world';
import { createTestDatabase, TestDatabase, withClient } from '../support/test-database';
import { eventTypesOf, startTestService, TestService } from '../support/test-service';

interface InboxRow {
  provider_event_id: string;
  status: string;
  outcome: string | null;
  last_error: string | null;
  attempts: number;
  processed_at: Date | null;
}

/** What CreateCheckoutSession's provider call reached while the test holds its answer back. */
interface HeldCheckout {
  orderId: string;
  sessionRef: string;
}

/**
 * A provider's webhooks about a checkout can be processed before CreateCheckoutSession has recorded the order it
 * names (the provider is asked first, then our order is committed). Through the real ingress, inbox worker and
 * PostgreSQL, with a fake provider whose answer to createCheckout the test holds back: such a webhook is retried —
 * never adopted as another subscription, never dead-lettered — and applied once our order exists, its ordering key
 * held meanwhile; one naming an order of ours that never appears is ignored after the grace; one naming another
 * storefront's order is ignored at once.
 */
describe('webhooks that arrive before our checkout is recorded', () => {
  const fake = fakeProvider('fakeearly');
  /** Set by a test: createCheckout, once the fake has opened the checkout, waits here before it answers. */
  let holdCheckout: ((held: HeldCheckout) => Promise<void>) | undefined;
  const module: ProviderModule = {
    ...fake.module,
    create: (deps) => {
      const adapter = fake.module.create!(deps);
      const createCheckout = adapter.operations.createCheckout!;
      return {
        ...adapter,
        operations: {
          ...adapter.operations,
          createCheckout: async (ctx, request) => {
            const answer = await createCheckout(ctx, request);
            const hold = holdCheckout;
            holdCheckout = undefined;
            await hold?.({ orderId: request.orderId, sessionRef: answer.sessionRef });
            return answer;
          },
        },
      };
    },
  };
  let db: TestDatabase;
  let service: TestService;
  let store: FakeStorefront;
  let other: FakeStorefront;
  /** The service's clock; moved past the grace only by the last test. */
  let offsetMs = 0;
  const clock: Clock = { now: () => new Date(Date.now() + offsetMs) };

  beforeAll(async () => {
    db = await createTestDatabase();
    service = await startTestService({ DATABASE_URL: db.url, ...FAST_WEBHOOKS }, { clock, extraProviders: [module] });
    store = await fakeStorefront(service, fake, 'early-a');
    other = await fakeStorefront(service, fake, 'early-b');
  });

  afterAll(async () => {
    store?.close();
    other?.close();
    await service?.close();
    await db?.drop();
  });

  const query = <T>(sql: string, params: unknown[]) =>
    withClient(db.url, async (c) => (await c.query(sql, params)).rows as T[]);
  const inboxRow = async (eventId: string) =>
    (
      await query<InboxRow>(
        `select provider_event_id, status, outcome, last_error, attempts, processed_at from webhook_inbox
          where provider_event_id = $1`,
        [eventId],
      )
    )[0];
  const processed = async (eventId: string): Promise<InboxRow> =>
    (await eventually(
      () => inboxRow(eventId),
      (row) => row?.status === 'PROCESSED',
    ))!;
  /** The row has been tried and put back to wait (not failed: no attempt counted). */
  const waiting = async (eventId: string): Promise<InboxRow> =>
    (await eventually(
      () => inboxRow(eventId),
      (row) => row?.status === 'PROCESSED' || (row?.status === 'PENDING' && row.last_error !== null),
    ))!;
  const deadLetters = async () => (await query<{ n: number }>('select count(*)::int as n from dead_letters', []))[0]!.n;
  const subscriptionsWithRef = async (ref: string) =>
    (await query<{ id: string }>('select id from subscriptions where provider_ref = $1', [ref])).map((r) => r.id);

  it('is retried while our order is not recorded, then applied to it once it is, its ordering key held meanwhile', async () => {
    let reached!: (held: HeldCheckout) => void;
    let release!: () => void;
    const arrived = new Promise<HeldCheckout>((resolve) => (reached = resolve));
    const released = new Promise<void>((resolve) => (release = resolve));
    holdCheckout = (held) => {
      reached(held);
      return released;
    };
    const opening = store.checkout();
    const { orderId, sessionRef } = await arrived;

    // The customer pays at once: the fake's subscription exists and its webhooks go out before we answer the caller.
    fake.dropNextWebhooks(1);
    const paid = await fake.completeCheckout(sessionRef);
    expect(paid.orderId).toBe(orderId);
    const send = (id: string, sequence: number) =>
      fake.send(
        store.storefrontId,
        fake.stateWebhook({ ...paid }, { id, orderingKey: `key-${paid.ref}`, sequence: String(sequence) }, 'activated'),
      );
    expect(await send('early-1', 1)).toBe(200);
    fake.update(paid.ref, { quantity: 2 });
    expect(await send('early-2', 2)).toBe(200);

    const tried = await waiting('early-1');
    expect(tried.status).toBe('PENDING');
    expect(tried.last_error).toContain(orderId);
    expect(tried.attempts).toBe(0);
    // Nothing was made of it meanwhile (in particular no adopted subscription), and its successor waits untried.
    expect(await subscriptionsWithRef(paid.ref)).toEqual([]);
    expect(await inboxRow('early-2')).toMatchObject({ status: 'PENDING', last_error: null });

    release();
    const subscriptionId = await opening;
    expect(subscriptionId).toBe(orderId);
    const [first, second] = [await processed('early-1'), await processed('early-2')];
    expect(first.outcome).not.toContain('ignored');
    expect(first.outcome).not.toMatch(/adopted/);
    expect(first.processed_at!.getTime()).toBeLessThanOrEqual(second.processed_at!.getTime());
    const now = await store.waitFor(subscriptionId, (s) => s.quantity === 2);
    expect(now).toMatchObject({ status: SubscriptionStatus.SUBSCRIPTION_STATUS_ACTIVE, providerRef: paid.ref });
    expect(await subscriptionsWithRef(paid.ref)).toEqual([subscriptionId]);
    const types = await eventTypesOf(service, subscriptionId);
    expect(types.filter((t) => t === 'billing.subscription.created')).toHaveLength(1);
    expect(types.filter((t) => t === 'billing.subscription.activated')).toHaveLength(1);
    expect(types.indexOf('billing.subscription.created')).toBeLessThan(types.indexOf('billing.subscription.activated'));
    expect(await deadLetters()).toBe(0);
  });

  it("is ignored at once when it names another storefront's order", async () => {
    const theirs = await other.activeSubscription();
    const state = { ...fake.subscription(theirs.providerRef), ref: `fsub_elsewhere_${theirs.id}` };
    fake.subscriptions.set(state.ref, { ...state, storefrontId: store.storefrontId });
    expect(await fake.send(store.storefrontId, fake.stateWebhook(state, { id: 'foreign-1' }))).toBe(200);

    const row = await processed('foreign-1');
    expect(row.outcome).toContain(IGNORED_FOREIGN);
    expect(row).toMatchObject({ attempts: 0, last_error: null });
    expect(await subscriptionsWithRef(state.ref)).toEqual([]);
    expect((await other.subscription(theirs.id)).providerRef).toBe(theirs.providerRef);
    expect(await deadLetters()).toBe(0);
  });

  it('is ignored once its grace is over when the order it names is never recorded', async () => {
    // Adoptable in every other respect: our customer, our plan, live. Only our order id on it keeps it from that.
    const never = newId('sub');
    const state = fake.createElsewhere(store.storefrontId, {
      customerRef: `fcus_${store.customerId}`,
      planRef: 'price_basic',
      orderId: never,
    });
    expect(await fake.send(store.storefrontId, fake.stateWebhook(state, { id: 'never-1' }))).toBe(200);
    expect(await waiting('never-1')).toMatchObject({ status: 'PENDING', attempts: 0 });

    // The service's clock moves past the grace: the next try is the last, and ignores it.
    offsetMs += NOT_RECORDED_GRACE_MS + 1000;
    const row = await processed('never-1');
    expect(row.outcome).toContain(IGNORED_FOREIGN);
    expect(row.outcome).toContain(never);
    expect(row.attempts).toBe(0);
    expect(await subscriptionsWithRef(state.ref)).toEqual([]);
    expect(await deadLetters()).toBe(0);
  });
});
