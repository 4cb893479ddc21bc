import type { Subscription as Sub } from '../../src/gen/billing/v1/subscription';
import type { ProviderSubscriptionState } from '../../src/ports/provider-adapter.port';
import { eventually } from '../support/eventually';
import { fakeProvider } from '../support/fake-provider';
import { fakeStorefront, FakeStorefront } from '../support/fake-storefront';
import { FAST_WEBHOOKS } from '../support/subotiz-world';
import { createTestDatabase, TestDatabase, withClient } from '../support/test-database';
import { eventTypesOf, startTestService, TestService } from '../support/test-service';

const GAP_WAIT_MS = 3000;

interface InboxRow {
  provider_event_id: string;
  status: string;
  outcome: string | null;
  received_at: Date;
  processed_at: Date | null;
}

/**
 * A provider that numbers its webhooks per ordering key (the fake's envelope carries `ordering_key` + `sequence`)
 * through the real ingress, inbox worker and PostgreSQL: one that arrives before a missing earlier one waits for
 * it (up to WEBHOOK_ORDER_GAP_MS), then is applied with the provider's current state caught up; a late one goes
 * through the state machine; a redelivered id is applied once.
 */
describe('ordered webhooks with gaps', () => {
  const fake = fakeProvider('fakeorder');
  let db: TestDatabase;
  let service: TestService;
  let store: FakeStorefront;

  beforeAll(async () => {
    db = await createTestDatabase();
    service = await startTestService(
      { DATABASE_URL: db.url, ...FAST_WEBHOOKS, WEBHOOK_ORDER_GAP_MS: String(GAP_WAIT_MS) },
      { extraProviders: [fake.module] },
    );
    store = await fakeStorefront(service, fake, 'fake-order');
  });

  afterAll(async () => {
    store?.close();
    await service?.close();
    await db?.drop();
  });

  const inbox = (ids: readonly string[]) =>
    withClient(db.url, async (c) => {
      const { rows } = await c.query<InboxRow>(
        `select provider_event_id, status, outcome, received_at, processed_at from webhook_inbox
          where provider_event_id = any($1)`,
        [ids],
      );
      return Object.fromEntries(rows.map((r) => [r.provider_event_id, r]));
    });
  const processed = (ids: readonly string[]) =>
    eventually(
      () => inbox(ids),
      (rows) => ids.every((id) => rows[id]?.status === 'PROCESSED'),
    );
  /** Sends the subscription's state as told at that moment, numbered within `key`. */
  const tell = async (state: ProviderSubscriptionState, key: string, sequence: number, id: string) => {
    expect(
      await fake.send(
        store.storefrontId,
        fake.stateWebhook({ ...state }, { id, orderingKey: key, sequence: String(sequence) }),
      ),
    ).toBe(200);
  };
  const snapshot = (ref: string, patch: Parameters<typeof fake.update>[1]) => ({ ...fake.update(ref, patch) });

  it('applies 1, 2, 3 in order when 3 arrives before 2', async () => {
    const sub: Sub = await store.activeSubscription();
    const ref = sub.providerRef;
    const first = snapshot(ref, { quantity: 2 });
    const second = snapshot(ref, { quantity: 3 });
    const third = snapshot(ref, { quantity: 4 });

    await tell(first, 'okey-a', 1, 'a1');
    await processed(['a1']);
    await tell(third, 'okey-a', 3, 'a3');
    await new Promise((r) => setTimeout(r, 300));
    // Held: 2 has not come yet (and the gap wait is not over).
    expect((await inbox(['a3'])).a3?.status).toBe('PENDING');
    await tell(second, 'okey-a', 2, 'a2');

    const rows = await processed(['a1', 'a2', 'a3']);
    const order = ['a1', 'a2', 'a3'].sort(
      (x, y) => rows[x]!.processed_at!.getTime() - rows[y]!.processed_at!.getTime(),
    );
    expect(order).toEqual(['a1', 'a2', 'a3']);
    expect(rows.a3!.outcome).not.toContain('after a gap');
    expect((await store.subscription(sub.id)).quantity).toBe(4);
    const updates = (await eventTypesOf(service, sub.id)).filter((t) => t === 'billing.subscription.updated');
    expect(updates).toHaveLength(3);

    // The same webhook again (the provider's redelivery, same id): acknowledged, stored once, applied once.
    const before = await eventTypesOf(service, sub.id);
    await tell(third, 'okey-a', 3, 'a3');
    await new Promise((r) => setTimeout(r, 300));
    const count = await withClient(
      db.url,
      async (c) =>
        (await c.query("select count(*)::int as n from webhook_inbox where provider_event_id = 'a3'")).rows[0].n,
    );
    expect(count).toBe(1);
    expect(await eventTypesOf(service, sub.id)).toEqual(before);
  });

  it('applies one after a gap never filled once the wait is over, with the provider’s current state caught up', async () => {
    const sub = await store.activeSubscription();
    const ref = sub.providerRef;
    await tell(snapshot(ref, { quantity: 2 }), 'okey-b', 1, 'b1');
    await processed(['b1']);
    // Webhook 2 (cancel at period end) is lost for good; webhook 3 tells only the quantity.
    fake.update(ref, { cancelAtPeriodEnd: true });
    const third = { ...snapshot(ref, { quantity: 5 }), cancelAtPeriodEnd: undefined };
    const asked = fake.calls.filter((c) => c.operation === 'getSubscription').length;
    await tell(third, 'okey-b', 3, 'b3');
    await new Promise((r) => setTimeout(r, 300));
    expect((await inbox(['b3'])).b3?.status).toBe('PENDING');

    const row = (await processed(['b3'])).b3!;
    expect(row.processed_at!.getTime() - row.received_at.getTime()).toBeGreaterThanOrEqual(GAP_WAIT_MS);
    expect(row.outcome).toMatch(/^after a gap \(sequence 3, last applied 1\): /);
    // The provider was asked, and what the lost webhook said is applied too, after webhook 3's own change.
    expect(fake.calls.filter((c) => c.operation === 'getSubscription').length).toBeGreaterThan(asked);
    const now = await store.subscription(sub.id);
    expect(now.quantity).toBe(5);
    expect(now.cancelAtPeriodEnd).toBe(true);
    expect((await eventTypesOf(service, sub.id)).slice(-2)).toEqual([
      'billing.subscription.updated',
      'billing.subscription.cancellation_scheduled',
    ]);

    // A late one (sequence 2, a new id, an older state): applied through the state machine, which refuses to go back.
    const events = await eventTypesOf(service, sub.id);
    const old = { ...third, status: 'PAST_DUE' as const, observedAt: new Date(Date.now() - 3_600_000) };
    await tell(old, 'okey-b', 2, 'b2-late');
    const late = (await processed(['b2-late']))['b2-late']!;
    expect(late.outcome).toMatch(/^late \(sequence 2, last applied 3\): /);
    expect(late.outcome).toContain('stale');
    expect((await store.subscription(sub.id)).quantity).toBe(5);
    expect(await eventTypesOf(service, sub.id)).toEqual(events);
  });

  it('keeps the last applied sequence per key; a late one never moves it back', async () => {
    const positions = await withClient(
      db.url,
      async (c) =>
        (
          await c.query(
            "select ordering_key, sequence::text as sequence from webhook_order_positions where provider = 'fakeorder' order by 1",
          )
        ).rows,
    );
    expect(positions).toEqual([
      { ordering_key: 'okey-a', sequence: '3' },
      { ordering_key: 'okey-b', sequence: '3' },
    ]);
  });

  it('applies one after a gap even when the provider cannot answer its catch-up: noted, not a dead letter', async () => {
    const sub = await store.activeSubscription();
    const ref = sub.providerRef;
    await tell(snapshot(ref, { quantity: 2 }), 'okey-c', 1, 'c1');
    await processed(['c1']);
    // The provider is down for fetches when webhook 3 (after the lost 2) is processed: its own change needs no fetch.
    fake.goDown('getSubscription');
    try {
      const asked = fake.calls.filter((c) => c.operation === 'getSubscription').length;
      await tell(snapshot(ref, { quantity: 6 }), 'okey-c', 3, 'c3');
      const row = (await processed(['c3'])).c3!;
      expect(fake.calls.filter((c) => c.operation === 'getSubscription').length).toBeGreaterThan(asked);
      expect(row.outcome).toMatch(/^after a gap \(sequence 3, last applied 1\): /);
      expect(row.outcome).toContain(`catch-up of ${sub.id} skipped (provider: the fake is down for getSubscription)`);
      // The signed event itself is applied and told, while the provider is still down.
      expect((await store.subscription(sub.id)).quantity).toBe(6);
      expect((await eventTypesOf(service, sub.id)).slice(-1)).toEqual(['billing.subscription.updated']);
    } finally {
      fake.restore('getSubscription');
    }
  });
});
