import pino from 'pino';
import type { Storefront } from '../../src/domain/storefront';
import type { Subscription } from '../../src/domain/subscription';
import { systemClock } from '../../src/ports/clock.port';
import {
  CHANGE_NOTICES_SESSION,
  ChangeNoticeListener,
  STOREFRONT_CHANGES,
  SUBSCRIPTION_CHANGES,
} from '../../src/store/change-notice-listener';
import { Database, openDatabase } from '../../src/store/database';
import { migrateToLatest } from '../../src/store/migrate';
import { NotifiedCache, subscriptionCache } from '../../src/store/notified-cache';
import { KnexUnitOfWork } from '../../src/store/unit-of-work';
import { eventually } from '../support/eventually';
import { proxiedDatabase, TcpProxy } from '../support/tcp-proxy';
import { createTestDatabase, TestDatabase } from '../support/test-database';
import { customerRecord, planRecord } from '../support/fixtures';

const T0 = new Date('2030-01-01T00:00:00Z');
const storefront: Storefront = {
  id: 'cached-store',
  tenantId: 'tenant-a',
  name: 'Cached',
  country: 'DE',
  defaultCurrency: 'EUR',
  binding: {
    provider: 'subotiz',
    config: { allowed_ips: '10.0.0.1' },
    secretRefs: {},
    validFrom: T0,
    actor: 'test',
    reason: 'test',
  },
  version: 1,
  createdAt: T0,
  updatedAt: T0,
};
const subscription: Subscription = {
  id: 'sub_cached',
  storefrontId: storefront.id,
  customerId: 'cus_cached',
  planId: 'plan_cached',
  quantity: 1,
  provider: 'subotiz',
  providerRef: 'sz-sub-1',
  status: 'ACTIVE',
  cancelAtPeriodEnd: false,
  version: 1,
  createdAt: T0,
  updatedAt: T0,
};

/**
 * The webhook ingress's storefront cache and GetSubscription's subscription cache over real PostgreSQL, two
 * "replicas" (pools and listeners of their own) on one database: a change made through either one reaches the
 * other's cache (LISTEN/NOTIFY), a change made here is dropped here at commit, and while the notice session is down
 * nothing is served from the cache.
 */
describe('notified caches with change notices', () => {
  let db: TestDatabase;
  const replicas: {
    database: Database;
    uow: KnexUnitOfWork;
    cache: NotifiedCache<Storefront>;
    subscriptions: NotifiedCache<Subscription>;
    listener: ChangeNoticeListener;
    loads: number;
    subscriptionLoads: number;
  }[] = [];

  beforeAll(async () => {
    db = await createTestDatabase();
    for (let i = 0; i < 2; i++) {
      const database = openDatabase({ databaseUrl: db.url, dataDir: '' });
      if (i === 0) await migrateToLatest(database.knex);
      const uow = new KnexUnitOfWork(database.knex, systemClock);
      const replica = { database, uow, loads: 0, subscriptionLoads: 0 } as (typeof replicas)[number];
      replica.cache = new NotifiedCache(
        (id) => {
          replica.loads += 1;
          return uow.reads.storefronts.get(id);
        },
        { ttlMs: 3_600_000 },
      );
      // As the service builds it (capacity, and copies made by spreading).
      replica.subscriptions = subscriptionCache(
        (id) => {
          replica.subscriptionLoads += 1;
          return uow.reads.subscriptions.get(id);
        },
        { ttlMs: 3_600_000 },
      );
      uow.onStorefrontChanged((id) => replica.cache.changed(id));
      uow.onSubscriptionChanged((id) => replica.subscriptions.changed(id));
      replica.listener = new ChangeNoticeListener(
        database.sessionClient!,
        { [STOREFRONT_CHANGES]: replica.cache, [SUBSCRIPTION_CHANGES]: replica.subscriptions },
        pino({ level: 'silent' }),
        100,
      );
      await replica.listener.start();
      replicas.push(replica);
    }
    await replicas[0]!.uow.transaction(async (repos) => {
      await repos.storefronts.insert(storefront);
      await repos.plans.insert(planRecord(subscription.planId, storefront.id, T0));
      await repos.customers.insert(customerRecord(subscription.customerId, storefront.id, T0));
      await repos.subscriptions.insert(subscription);
    });
  });

  afterAll(async () => {
    for (const r of replicas) {
      await r.listener.stop();
      await r.database.close();
    }
    await db?.drop();
  });

  const allowedIps = async (i: number) => (await replicas[i]!.cache.get(storefront.id))?.binding.config.allowed_ips;

  it('reads a storefront once, then from memory', async () => {
    const b = replicas[1]!;
    expect(await allowedIps(1)).toBe('10.0.0.1');
    // Once the storefront's creation notice has arrived (it may drop the first read's entry), reads stay in memory.
    await eventually(
      async () => {
        await allowedIps(1);
        const before = b.loads;
        expect(await allowedIps(1)).toBe('10.0.0.1');
        expect(await allowedIps(1)).toBe('10.0.0.1');
        return b.loads - before;
      },
      (loads) => loads === 0,
    );
  });

  it('a binding change on one replica reaches the other replica’s cache', async () => {
    await allowedIps(1);
    await replicas[0]!.uow.transaction((repos) =>
      repos.storefronts.updateCurrentBinding(storefront.id, { allowed_ips: '10.0.0.2' }, {}),
    );
    // The writer's own cache drops it at commit.
    expect(await allowedIps(0)).toBe('10.0.0.2');
    await eventually(
      () => allowedIps(1),
      (ips) => ips === '10.0.0.2',
    );
  });

  it('a change that rolls back is not announced: the cached storefront stays', async () => {
    await allowedIps(1);
    const b = replicas[1]!;
    await expect(
      replicas[0]!.uow.transaction(async (repos) => {
        await repos.storefronts.updateCurrentBinding(storefront.id, { allowed_ips: '10.9.9.9' }, {});
        throw new Error('rolled back');
      }),
    ).rejects.toThrow('rolled back');
    const before = b.loads;
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(await allowedIps(1)).toBe('10.0.0.2');
    expect(b.loads).toBe(before);
  });

  it('a binding changed outside the service (plain SQL) reaches every replica through the table trigger', async () => {
    await allowedIps(0);
    await allowedIps(1);
    await replicas[0]!.database.knex.raw(
      `UPDATE storefront_bindings SET provider_config = jsonb_set(provider_config, '{allowed_ips}', '"10.0.0.9"')
        WHERE storefront_id = ? AND valid_until IS NULL`,
      [storefront.id],
    );
    for (const i of [0, 1]) {
      await eventually(
        () => allowedIps(i),
        (ips) => ips === '10.0.0.9',
      );
    }
  });

  it('while its notice session is down, reads go to the database; the cache comes back with the session', async () => {
    const b = replicas[1]!;
    await allowedIps(1);
    // Cut the listener's session from the server side, as a restart or network cut would.
    await replicas[0]!.database.knex.raw(
      'SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = ? AND datname = current_database()',
      [CHANGE_NOTICES_SESSION],
    );
    await eventually(
      async () => {
        const before = b.loads;
        await allowedIps(1);
        return b.loads - before;
      },
      (loads) => loads === 1,
    );
    // A change made meanwhile, while nobody listens, is seen.
    await replicas[0]!.uow.transaction((repos) =>
      repos.storefronts.updateCurrentBinding(storefront.id, { allowed_ips: '10.0.0.3' }, {}),
    );
    expect(await allowedIps(1)).toBe('10.0.0.3');
    // Reconnected (both listeners were cut), it caches again.
    await eventually(
      async () => {
        await allowedIps(1);
        const before = b.loads;
        await allowedIps(1);
        return b.loads - before;
      },
      (loads) => loads === 0,
    );
  });

  const cachedSubscription = (i: number) => replicas[i]!.subscriptions.get(subscription.id);
  /** Reads replica i's subscription until two reads in a row come from memory (a notice in flight may drop one). */
  const warm = (i: number) =>
    eventually(
      async () => {
        await cachedSubscription(i);
        const before = replicas[i]!.subscriptionLoads;
        await cachedSubscription(i);
        await cachedSubscription(i);
        return replicas[i]!.subscriptionLoads - before;
      },
      (loads) => loads === 0,
    );

  it('a subscription written on one replica is read fresh there at once, and on the other once its notice arrives', async () => {
    await warm(0);
    await warm(1);
    await replicas[0]!.uow.transaction(async (repos) => {
      const current = (await repos.subscriptions.get(subscription.id, { forUpdate: true }))!;
      await repos.subscriptions.update({ ...current, status: 'PAST_DUE', version: current.version + 1 });
    });
    expect((await cachedSubscription(0))!.status).toBe('PAST_DUE');
    await eventually(
      async () => (await cachedSubscription(1))!.status,
      (status) => status === 'PAST_DUE',
    );
  });

  it('a subscription row changed outside the service (plain SQL) reaches every replica through the table trigger', async () => {
    await warm(0);
    await warm(1);
    await replicas[0]!.database.knex('subscriptions').where({ id: subscription.id }).update({ quantity: 7 });
    for (const i of [0, 1]) {
      await eventually(
        async () => (await cachedSubscription(i))!.quantity,
        (quantity) => quantity === 7,
      );
    }
  });

  it('the reconciler’s bookkeeping (reconcile_at, live_checked_at) and writes that change nothing are not announced', async () => {
    await warm(1);
    const before = replicas[1]!.subscriptionLoads;
    const knex = replicas[0]!.database.knex;
    await knex('subscriptions').where({ id: subscription.id }).update({ reconcile_at: new Date() });
    await knex('subscriptions').where({ id: subscription.id }).update({ live_checked_at: new Date() });
    await knex.raw('UPDATE subscriptions SET status = status WHERE id = ?', [subscription.id]);
    // A notice would have dropped the entry by now (the others arrive within milliseconds).
    await new Promise((resolve) => setTimeout(resolve, 300));
    await cachedSubscription(1);
    expect(replicas[1]!.subscriptionLoads).toBe(before);
  });

  it('hands out copies: what a caller changes never reaches the cache', async () => {
    await warm(1);
    const copy = (await cachedSubscription(1))!;
    copy.status = 'CANCELED';
    expect((await cachedSubscription(1))!.status).not.toBe('CANCELED');
  });
});

describe('notified cache: a read in flight across a change', () => {
  it('does not put back what it read before the change', async () => {
    let release!: (s: Storefront) => void;
    let loads = 0;
    const cache = new NotifiedCache<Storefront>(
      () => {
        loads += 1;
        return loads === 1
          ? new Promise<Storefront>((resolve) => (release = resolve))
          : Promise.resolve({ ...storefront, name: 'new' });
      },
      { ttlMs: 3_600_000 },
    );
    const slow = cache.get(storefront.id);
    cache.changed(storefront.id);
    release({ ...storefront, name: 'old' });
    expect((await slow)!.name).toBe('old');
    expect((await cache.get(storefront.id))!.name).toBe('new');
    expect((await cache.get(storefront.id))!.name).toBe('new');
    expect(loads).toBe(2);
  });

  it('keeps at most its capacity, the oldest stored going first', async () => {
    const loaded: string[] = [];
    const cache = new NotifiedCache<Storefront>(
      async (id) => {
        loaded.push(id);
        return { ...storefront, id };
      },
      { ttlMs: 3_600_000, capacity: 2 },
    );
    for (const id of ['a', 'b', 'c', 'b', 'c', 'a']) await cache.get(id);
    // 'a' went when 'c' came; 'b' and 'c' were still kept; reading 'a' again loads it.
    expect(loaded).toEqual(['a', 'b', 'c', 'a']);
  });
});

/**
 * A notice session that dies without a word (a partition: no error, no end, no notices) is found by its heartbeat:
 * the cache is bypassed until a new session listens, instead of serving what may have changed meanwhile.
 */
describe('change notices over a connection that stops answering', () => {
  let db: TestDatabase;
  let proxied: { proxy: TcpProxy; url: string };
  let listener: ChangeNoticeListener;
  let sessions: Database | undefined;

  beforeAll(async () => {
    db = await createTestDatabase();
    proxied = await proxiedDatabase(db.url);
  });

  afterAll(async () => {
    await listener?.stop();
    await sessions?.close();
    await proxied?.proxy.stop();
    await db?.drop();
  });

  it('is found within a heartbeat and its query timeout; the cache comes back once a session listens again', async () => {
    let loads = 0;
    const cache = new NotifiedCache<Storefront>(
      async (id) => {
        loads += 1;
        return { ...storefront, id };
      },
      { ttlMs: 3_600_000 },
    );
    // The service's own session client: its query timeout is what bounds a heartbeat that gets no answer.
    sessions = openDatabase({ databaseUrl: proxied.url, dataDir: '', acquireTimeoutMs: 300 });
    listener = new ChangeNoticeListener(
      sessions.sessionClient!,
      { [STOREFRONT_CHANGES]: cache },
      pino({ level: 'silent' }),
      100,
      100,
    );
    await listener.start();
    const readsLoading = async () => {
      const before = loads;
      await cache.get('s');
      await cache.get('s');
      return loads - before;
    };
    expect(await readsLoading()).toBe(1);
    expect(await readsLoading()).toBe(0);

    proxied.proxy.hang();
    await eventually(readsLoading, (n) => n === 2);

    await proxied.proxy.restore();
    await eventually(readsLoading, (n) => n <= 1);
    expect(await readsLoading()).toBe(0);
  });
});
