import { syncEntitlements } from '../../src/app/engine/entitlement-sync';
import type { Plan } from '../../src/domain/plan';
import type { Storefront } from '../../src/domain/storefront';
import type { Subscription } from '../../src/domain/subscription';
import { Database, openDatabase } from '../../src/store/database';
import { migrateToLatest } from '../../src/store/migrate';
import { KnexUnitOfWork } from '../../src/store/unit-of-work';
import { createTestDatabase, TestDatabase } from '../support/test-database';
import { customerRecord, planRecord } from '../support/fixtures';

const T0 = new Date('2030-01-01T00:00:00Z');
const PERIOD_END = new Date('2030-02-01T00:00:00Z');
const ACTOR = { actor: 'test', correlationId: 'entitlement-sync' };

/**
 * Derived entitlements follow a subscription's state, step by step on one subscription (real PostgreSQL, the
 * repositories the engine uses): one per plan feature while it grants access, until the period end while a cancel is
 * scheduled, revoked when access stops; each grant and revoke is one event, a repeat is none; the rows a step
 * changes are written in one statement per kind of write.
 */
describe('entitlement sync (derived from the plan)', () => {
  let db: TestDatabase;
  let database: Database;
  let uow: KnexUnitOfWork;
  let minute = 0;
  /** Each step a minute later, so a revoke at one step is in the past at the next. */
  const now = () => new Date(T0.getTime() + minute * 60_000);
  const storefront: Storefront = {
    id: 'sync-store',
    tenantId: 'tenant-a',
    name: 'Sync',
    country: 'DE',
    defaultCurrency: 'EUR',
    binding: { provider: 'fakepay', config: {}, secretRefs: {}, validFrom: T0, actor: 'test', reason: 'test' },
    version: 1,
    createdAt: T0,
    updatedAt: T0,
  };
  const plan = (id: string, featureKeys: string[]): Plan =>
    planRecord(id, storefront.id, T0, { name: id, featureKeys });
  let subscription: Subscription = {
    id: 'sub_sync',
    storefrontId: storefront.id,
    customerId: 'cus_sync',
    planId: 'plan_pro',
    quantity: 1,
    provider: 'fakepay',
    status: 'INCOMPLETE',
    currentPeriodStart: T0,
    currentPeriodEnd: PERIOD_END,
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
      await repos.plans.insert(plan('plan_pro', ['pro', 'export']));
      await repos.plans.insert(plan('plan_team', ['pro', 'reports']));
      await repos.customers.insert(customerRecord('cus_sync', storefront.id, T0));
      await repos.subscriptions.insert(subscription);
    });
  });

  afterAll(async () => {
    await database?.close();
    await db?.drop();
  });

  type Step = [
    name: string,
    change: Partial<Pick<Subscription, 'status' | 'cancelAtPeriodEnd' | 'planId'>>,
    open: Record<string, Date | undefined>,
    events: string[],
  ];
  const granted = (key: string) => `billing.entitlement.granted:${key}`;
  const revoked = (key: string) => `billing.entitlement.revoked:${key}`;
  const steps: Step[] = [
    ['INCOMPLETE grants nothing', { status: 'INCOMPLETE' }, {}, []],
    [
      'ACTIVE grants each plan feature, open-ended',
      { status: 'ACTIVE' },
      { export: undefined, pro: undefined },
      [granted('export'), granted('pro')],
    ],
    ['ACTIVE again changes nothing', { status: 'ACTIVE' }, { export: undefined, pro: undefined }, []],
    [
      'a scheduled cancel keeps access until the period end, silently',
      { cancelAtPeriodEnd: true },
      { export: PERIOD_END, pro: PERIOD_END },
      [],
    ],
    [
      'a revoked cancel makes it open-ended again',
      { cancelAtPeriodEnd: false },
      { export: undefined, pro: undefined },
      [],
    ],
    ['PAST_DUE keeps access while dunning runs', { status: 'PAST_DUE' }, { export: undefined, pro: undefined }, []],
    [
      'a plan change revokes what the new plan lacks and grants what it adds, keeping the rest',
      { status: 'ACTIVE', planId: 'plan_team' },
      { pro: undefined, reports: undefined },
      [revoked('export'), granted('reports')],
    ],
    ['PAUSED revokes everything', { status: 'PAUSED' }, {}, [revoked('pro'), revoked('reports')]],
    [
      'resumed: granted anew',
      { status: 'ACTIVE' },
      { pro: undefined, reports: undefined },
      [granted('pro'), granted('reports')],
    ],
    ['UNPAID revokes everything', { status: 'UNPAID' }, {}, [revoked('pro'), revoked('reports')]],
    [
      'ACTIVE once more',
      { status: 'ACTIVE' },
      { pro: undefined, reports: undefined },
      [granted('pro'), granted('reports')],
    ],
    [
      'CANCELED with a scheduled cancel still set revokes everything',
      { status: 'CANCELED', cancelAtPeriodEnd: true },
      {},
      [revoked('pro'), revoked('reports')],
    ],
  ];

  let eventsSeen = 0;
  it.each(steps)('%s', async (_name, change, open, events) => {
    minute++;
    subscription = { ...subscription, ...change };
    const writes: string[] = [];
    const seen = (query: { sql: string }) => {
      if (/^(insert into|update) "entitlements"/.test(query.sql)) writes.push(query.sql.split(' ')[0]!);
    };
    database.knex.on('query', seen);
    try {
      await uow.transaction((repos) => syncEntitlements(repos, storefront, subscription, ACTOR, now()));
    } finally {
      database.knex.removeListener('query', seen);
    }
    // However many features change, each kind of write is one statement (these steps move all the same way).
    expect(writes.filter((w) => w === 'insert').length).toBeLessThanOrEqual(1);
    expect(writes.filter((w) => w === 'update').length).toBeLessThanOrEqual(1);

    const current = await uow.reads.entitlements.openOfSubscription(subscription.id, now());
    const byFeature = Object.fromEntries(current.map((e) => [e.featureKey, e.activeUntil]));
    expect(byFeature).toEqual(open);
    expect(current.every((e) => !e.providerNative && e.customerId === 'cus_sync')).toBe(true);

    const rows = (await database
      .knex('outbox')
      .where({ key: 'cus_sync' })
      .orderBy('id')
      .select('type', 'aggregate_id')) as { type: string; aggregate_id: string }[];
    const all = await uow.reads.entitlements.listOfCustomer('cus_sync', {});
    const featureOf = new Map(all.map((e) => [e.id, e.featureKey]));
    const fresh = rows.slice(eventsSeen).map((r) => `${r.type}:${featureOf.get(r.aggregate_id)}`);
    eventsSeen = rows.length;
    expect(fresh.sort()).toEqual([...events].sort());
  });
});
