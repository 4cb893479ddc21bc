import { applyOwnChange } from '../../src/app/engine/subscription-changes';
import { applyNativeEntitlement } from '../../src/app/inbound/native-entitlements';
import type { EventOrigin } from '../../src/app/inbound/event-origin';
import type { Storefront } from '../../src/domain/storefront';
import type { Subscription } from '../../src/domain/subscription';
import type { ProviderEntitlement, ProviderFeatures } from '../../src/ports/provider-adapter.port';
import type { Repositories } from '../../src/ports/store.port';
import { Database, openDatabase } from '../../src/store/database';
import { migrateToLatest } from '../../src/store/migrate';
import { KnexUnitOfWork } from '../../src/store/unit-of-work';
import { createTestDatabase, TestDatabase } from '../support/test-database';
import { customerRecord, planRecord } from '../support/fixtures';

const T0 = new Date('2030-01-01T00:00:00Z');
const DAY_MS = 86_400_000;
const ACTOR = { actor: 'test', correlationId: 'native-entitlements' };

/**
 * Entitlements a provider grants itself (features `entitlements: native`), over real PostgreSQL with the repositories
 * the engine uses: the provider's clock may run ahead of ours, yet a grant counts at once and a revoke ends it at once;
 * an end date the provider sets is kept; when our subscription ends (by any path: all go through the engine's change)
 * what the provider granted for it ends with it, revoked once, and grants tied to no subscription stay.
 */
describe('native entitlements (granted by the provider)', () => {
  let db: TestDatabase;
  let database: Database;
  let uow: KnexUnitOfWork;
  let nowMs = T0.getTime();
  const now = () => new Date(nowMs);
  /** The provider's clock: two days ahead of ours (emulators advance theirs). */
  const providerNow = () => new Date(nowMs + 2 * DAY_MS);
  const storefront: Storefront = {
    id: 'native-store',
    tenantId: 'tenant-a',
    name: 'Native',
    country: 'DE',
    defaultCurrency: 'EUR',
    binding: { provider: 'nativepay', config: {}, secretRefs: {}, validFrom: T0, actor: 'test', reason: 'test' },
    version: 1,
    createdAt: T0,
    updatedAt: T0,
  };
  const origin: EventOrigin = {
    provider: 'nativepay',
    storefront,
    correlationId: 'native-entitlements',
    features: { entitlements: 'native' } as ProviderFeatures,
  };
  const subscription: Subscription = {
    id: 'sub_native',
    storefrontId: storefront.id,
    customerId: 'cus_native',
    planId: 'plan_native',
    quantity: 1,
    provider: 'nativepay',
    providerRef: 'np-sub-1',
    status: 'ACTIVE',
    currentPeriodStart: T0,
    currentPeriodEnd: new Date(T0.getTime() + 30 * DAY_MS),
    cancelAtPeriodEnd: false,
    version: 1,
    createdAt: T0,
    updatedAt: T0,
  };

  beforeAll(async () => {
    db = await createTestDatabase();
    database = openDatabase({ databaseUrl: db.url, dataDir: '' });
    await migrateToLatest(database.knex);
    uow = new KnexUnitOfWork(database.knex, { now });
    await uow.transaction(async (repos) => {
      await repos.storefronts.insert(storefront);
      await repos.plans.insert(planRecord('plan_native', storefront.id, T0, { featureKeys: ['pro'] }));
      await repos.customers.insert(
        customerRecord('cus_native', storefront.id, T0, { providerRefs: { nativepay: 'np-cus-1' } }),
      );
      await repos.subscriptions.insert(subscription);
    });
  });

  afterAll(async () => {
    await database?.close();
    await db?.drop();
  });

  const apply = (action: 'granted' | 'revoked', state: Omit<ProviderEntitlement, 'customerRef'>) =>
    uow.transaction((repos) =>
      applyNativeEntitlement(repos, origin, action, { customerRef: 'np-cus-1', ...state }, ACTOR, now()),
    );
  /** Our subscription ends (CANCELED, reported without an end date), applied under its lock as the engine does. */
  const cancelLocked = async (repos: Repositories, id: string) => {
    const current = (await repos.subscriptions.get(id, { forUpdate: true }))!;
    await applyOwnChange(repos, storefront, current, { status: 'CANCELED', observedAt: now() }, ACTOR, now(), 'native');
  };
  /** What CheckEntitlement answers now: the customer's entitlements active at our now. */
  const activeNow = async (featureKey: string) =>
    uow.reads.entitlements.listOfCustomer('cus_native', { featureKey, activeAt: now() });
  /** The entitlement events written so far (outbox), as `type:featureKey`. */
  const entitlementEvents = async () => {
    const rows = (await database
      .knex('outbox')
      .where('type', 'like', 'billing.entitlement.%')
      .orderBy('id')
      .select('type', 'aggregate_id')) as { type: string; aggregate_id: string }[];
    const all = await uow.reads.entitlements.listOfCustomer('cus_native', {});
    const featureOf = new Map(all.map((e) => [e.id, e.featureKey]));
    return rows.map((r) => `${r.type}:${featureOf.get(r.aggregate_id)}`);
  };

  it('a grant dated by a provider clock ahead of ours counts at once, from our now', async () => {
    expect(
      await apply('granted', { featureKey: 'pro', subscriptionRef: 'np-sub-1', activeFrom: providerNow() }),
    ).toMatch(/granted$/);
    const [pro] = await activeNow('pro');
    expect(pro).toMatchObject({ subscriptionId: subscription.id, providerNative: true, activeFrom: now() });
    expect(await entitlementEvents()).toEqual(['billing.entitlement.granted:pro']);
  });

  it('an end date the provider sets (updated) is kept as it says, even ahead of our clock', async () => {
    nowMs += 60_000;
    const until = new Date(providerNow().getTime() + 10 * DAY_MS);
    expect(await apply('granted', { featureKey: 'pro', subscriptionRef: 'np-sub-1', activeUntil: until })).toMatch(
      /extended$/,
    );
    expect((await activeNow('pro')).map((e) => e.activeUntil)).toEqual([until]);
    expect(await entitlementEvents()).toEqual(['billing.entitlement.granted:pro']);
  });

  it('a revoke dated by a provider clock ahead of ours ends it now', async () => {
    nowMs += 60_000;
    await apply('granted', { featureKey: 'vip', activeFrom: providerNow() });
    expect(await activeNow('vip')).toHaveLength(1);
    nowMs += 60_000;
    expect(await apply('revoked', { featureKey: 'vip', activeUntil: providerNow() })).toMatch(/revoked$/);
    expect(await activeNow('vip')).toEqual([]);
    const [vip] = await uow.reads.entitlements.listOfCustomer('cus_native', { featureKey: 'vip' });
    expect(vip!.activeUntil).toEqual(now());
    // Granted again, tied to no subscription: it must outlive the subscription below.
    nowMs += 60_000;
    await apply('granted', { featureKey: 'vip' });
    expect(await activeNow('vip')).toHaveLength(1);
  });

  it('the subscription ending ends what the provider granted for it, once; grants tied to none stay', async () => {
    nowMs += 60_000;
    const before = (await entitlementEvents()).length;
    // The provider's end date is ahead of our clock: ended now at the latest.
    const ended = await uow.transaction(async (repos) => {
      const current = (await repos.subscriptions.get(subscription.id, { forUpdate: true }))!;
      const observed = { status: 'CANCELED' as const, endedAt: providerNow(), observedAt: now() };
      return applyOwnChange(repos, storefront, current, observed, ACTOR, now(), 'native');
    });
    expect(ended.result.outcome).toBe('applied');
    expect(await activeNow('pro')).toEqual([]);
    const [pro] = await uow.reads.entitlements.listOfCustomer('cus_native', { featureKey: 'pro' });
    expect(pro!.activeUntil).toEqual(now());
    expect(await activeNow('vip')).toHaveLength(1);
    expect((await entitlementEvents()).slice(before)).toEqual(['billing.entitlement.revoked:pro']);

    // The same end reported again, and the provider's own revoke after it: nothing more.
    nowMs += 60_000;
    await uow.transaction((repos) => cancelLocked(repos, subscription.id));
    expect(await apply('revoked', { featureKey: 'pro', subscriptionRef: 'np-sub-1' })).toMatch(/nothing to revoke$/);
    expect((await entitlementEvents()).slice(before)).toEqual(['billing.entitlement.revoked:pro']);
    expect(await activeNow('vip')).toHaveLength(1);
  });

  it('a grant that arrives after its subscription ended opens nothing and announces nothing', async () => {
    // The provider's grant webhook for the activation was still on its way when the subscription was canceled.
    nowMs += 60_000;
    const before = (await entitlementEvents()).length;
    expect(await apply('granted', { featureKey: 'late', subscriptionRef: 'np-sub-1' })).toMatch(/ended$/);
    expect(await activeNow('late')).toEqual([]);
    const [late] = await uow.reads.entitlements.listOfCustomer('cus_native', { featureKey: 'late' });
    expect(late!.activeUntil!.getTime()).toBeLessThanOrEqual(now().getTime());
    expect((await entitlementEvents()).slice(before)).toEqual([]);
  });

  it('a grant processed while a cancel of its subscription is committing opens nothing', async () => {
    // A second subscription, so this case does not depend on the ones above.
    const racing: Subscription = { ...subscription, id: 'sub_racing', providerRef: 'np-sub-2' };
    await uow.transaction((repos) => repos.subscriptions.insert(racing));
    nowMs += 60_000;
    let releaseCancel!: () => void;
    const cancelHeld = new Promise<void>((resolve) => (releaseCancel = resolve));
    let cancelApplied!: () => void;
    const applied = new Promise<void>((resolve) => (cancelApplied = resolve));
    // The cancel: applied under the subscription's lock, then held open before it commits.
    const cancel = uow.transaction(async (repos) => {
      await cancelLocked(repos, racing.id);
      cancelApplied();
      await cancelHeld;
    });
    await applied;
    const grant = apply('granted', { featureKey: 'raced', subscriptionRef: 'np-sub-2' });
    // Give the grant time to read the subscription while the cancel is uncommitted (no timing is asserted).
    await new Promise((resolve) => setTimeout(resolve, 200));
    releaseCancel();
    await cancel;
    expect(await grant).toMatch(/ended$/);
    const raced = await uow.reads.entitlements.listOfCustomer('cus_native', { featureKey: 'raced', activeAt: now() });
    expect(raced).toEqual([]);
  });
});
