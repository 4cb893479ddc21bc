import pino from 'pino';
import type { Storefront } from '../../src/domain/storefront';
import { systemClock } from '../../src/ports/clock.port';
import { Database, openDatabase } from '../../src/store/database';
import { migrateToLatest } from '../../src/store/migrate';
import { StorefrontCache } from '../../src/store/storefront-cache';
import { StorefrontChangeListener } from '../../src/store/storefront-change-listener';
import { KnexUnitOfWork } from '../../src/store/unit-of-work';
import { eventually } from '../support/eventually';
import { createTestDatabase, TestDatabase } from '../support/test-database';

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

/**
 * The webhook ingress's storefront cache over real PostgreSQL, two "replicas" (pools and listeners of their own) on
 * one database: a change made through either one reaches the other's cache (LISTEN/NOTIFY), a change made here is
 * dropped here at commit, and while the notice session is down nothing is served from the cache.
 */
describe('storefront cache with change notices', () => {
  let db: TestDatabase;
  const replicas: {
    database: Database;
    uow: KnexUnitOfWork;
    cache: StorefrontCache;
    listener: StorefrontChangeListener;
    loads: number;
  }[] = [];

  beforeAll(async () => {
    db = await createTestDatabase();
    for (let i = 0; i < 2; i++) {
      const database = openDatabase({ databaseUrl: db.url, dataDir: '' });
      if (i === 0) await migrateToLatest(database.knex);
      const uow = new KnexUnitOfWork(database.knex, systemClock);
      const replica = { database, uow, loads: 0 } as (typeof replicas)[number];
      replica.cache = new StorefrontCache(
        (id) => {
          replica.loads += 1;
          return uow.reads.storefronts.get(id);
        },
        { ttlMs: 3_600_000 },
      );
      uow.onStorefrontChanged((id) => replica.cache.changed(id));
      replica.listener = new StorefrontChangeListener(
        database.sessionClient!,
        replica.cache,
        pino({ level: 'silent' }),
        100,
      );
      await replica.listener.start();
      replicas.push(replica);
    }
    await replicas[0]!.uow.transaction((repos) => repos.storefronts.insert(storefront));
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

  it('while its notice session is down, reads go to the database; the cache comes back with the session', async () => {
    const b = replicas[1]!;
    await allowedIps(1);
    // Cut the listener's session from the server side, as a restart or network cut would.
    await replicas[0]!.database.knex.raw(
      "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = 'billing-adapter storefront changes' AND datname = current_database()",
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
});

describe('storefront cache: a read in flight across a change', () => {
  it('does not put back what it read before the change', async () => {
    let release!: (s: Storefront) => void;
    let loads = 0;
    const cache = new StorefrontCache(
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
});
