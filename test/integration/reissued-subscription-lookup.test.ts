import { ForeignOrUnknownObject, type EventOrigin } from '../../src/app/inbound/event-origin';
import { peekSubscription, subscriptionOf } from '../../src/app/inbound/object-lookup';
import type { Storefront } from '../../src/domain/storefront';
import type { ProviderFeatures } from '../../src/ports/provider-adapter.port';
import { Database, openDatabase } from '../../src/store/database';
import { migrateToLatest } from '../../src/store/migrate';
import { KnexUnitOfWork } from '../../src/store/unit-of-work';
import { createTestDatabase, TestDatabase } from '../support/test-database';
import { customerRecord, planRecord, storefrontRecord, subscriptionRecord } from '../support/fixtures';

const T0 = new Date('2030-01-01T00:00:00Z');

/**
 * A provider that re-issues a subscription (a plan change making a new one) names the old reference as `previousRef`:
 * the webhook path finds ours by it and moves our reference to the new one, so later events naming only the new one
 * find it; a reference another storefront's subscription has is never claimed (real PostgreSQL, the engine's lookup).
 */
describe('a re-issued subscription, looked up from a webhook', () => {
  let db: TestDatabase;
  let database: Database;
  let uow: KnexUnitOfWork;
  const ours = storefrontRecord('reissue-a', 'reissuer', T0);
  const theirs = storefrontRecord('reissue-b', 'reissuer', T0);
  const origin: EventOrigin = {
    provider: 'reissuer',
    storefront: ours,
    correlationId: 'reissue',
    features: {} as ProviderFeatures,
  };
  const subscription = (id: string, store: Storefront, providerRef: string) =>
    subscriptionRecord(id, store, T0, { providerRef });

  beforeAll(async () => {
    db = await createTestDatabase();
    database = openDatabase({ databaseUrl: db.url, dataDir: '' });
    await migrateToLatest(database.knex);
    uow = new KnexUnitOfWork(database.knex, { now: () => T0 });
    await uow.transaction(async (repos) => {
      for (const store of [ours, theirs]) {
        await repos.storefronts.insert(store);
        await repos.plans.insert(planRecord(`plan_${store.id}`, store.id, T0));
        await repos.customers.insert(customerRecord(`cus_${store.id}`, store.id, T0));
      }
      await repos.subscriptions.insert(subscription('sub_moves', ours, 'old-1'));
      await repos.subscriptions.insert(subscription('sub_stays', ours, 'old-2'));
      await repos.subscriptions.insert(subscription('sub_theirs', theirs, 'taken-2'));
    });
  });

  afterAll(async () => {
    await database?.close();
    await db?.drop();
  });

  const stored = async (id: string) => (await uow.reads.subscriptions.get(id))!.providerRef;

  it('a state naming the new reference and the one it replaced (no order id) moves ours to the new one', async () => {
    expect(await peekSubscription(uow.reads, origin, 'new-1', undefined, 'old-1')).toMatchObject({ id: 'sub_moves' });
    const found = await uow.transaction((repos) => subscriptionOf(repos, origin, 'new-1', undefined, 'old-1'));
    expect(found).toMatchObject({ id: 'sub_moves', providerRef: 'new-1' });
    expect(await stored('sub_moves')).toBe('new-1');
    // A later event naming only the new reference (a renewal payment) finds it.
    const later = await uow.transaction((repos) => subscriptionOf(repos, origin, 'new-1', undefined));
    expect(later.id).toBe('sub_moves');
  });

  it('never claims a reference another storefront’s subscription has', async () => {
    await expect(
      uow.transaction((repos) => subscriptionOf(repos, origin, 'taken-2', undefined, 'old-2')),
    ).rejects.toBeInstanceOf(ForeignOrUnknownObject);
    expect(await peekSubscription(uow.reads, origin, 'taken-2', undefined, 'old-2')).toBeUndefined();
    expect(await stored('sub_stays')).toBe('old-2');
    expect(await stored('sub_theirs')).toBe('taken-2');
  });

  it('only the new reference, replacing none of ours, is unknown', async () => {
    await expect(
      uow.transaction((repos) => subscriptionOf(repos, origin, 'new-9', undefined, 'not-ours')),
    ).rejects.toBeInstanceOf(ForeignOrUnknownObject);
  });
});
