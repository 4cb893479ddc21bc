import { eventually } from '../support/eventually';
import { fakeProvider } from '../support/fake-provider';
import { fakeStorefront, FakeStorefront } from '../support/fake-storefront';
import { FAST_WEBHOOKS } from '../support/subotiz-world';
import { createTestDatabase, TestDatabase, withClient } from '../support/test-database';
import { startTestService, TestService } from '../support/test-service';

/**
 * Webhook processing is bound by its round trips (README, performance): each statement of a webhook's transaction
 * is one more wait on PostgreSQL for its lane. The storefront a webhook names is read at ingress through a cache
 * that drops changed storefronts; processing read it again from the database, once per webhook.
 */
describe('webhook processing reads its storefront from the cache ingress filled', () => {
  const fake = fakeProvider('fakereads');
  let db: TestDatabase;
  let service: TestService;
  let store: FakeStorefront;

  beforeAll(async () => {
    db = await createTestDatabase();
    service = await startTestService({ DATABASE_URL: db.url, ...FAST_WEBHOOKS }, { extraProviders: [fake.module] });
    store = await fakeStorefront(service, fake, 'fake-reads');
  });

  afterAll(async () => {
    store?.close();
    await service?.close();
    await db?.drop();
  });

  it('processes webhooks without reading their storefront from the database', async () => {
    const subscription = await store.activeSubscription();
    let storefrontReads = 0;
    const count = (query: { sql: string }) => {
      if (/from "storefronts"/i.test(query.sql)) storefrontReads += 1;
    };
    const processed = () =>
      withClient(db.url, async (c) => {
        const { rows } = await c.query("select count(*)::int as n from webhook_inbox where status = 'PROCESSED'");
        return rows[0].n as number;
      });
    const before = await processed();
    service.database.knex.on('query', count);
    try {
      for (let i = 0; i < 5; i++) await fake.sendState(fake.subscription(subscription.providerRef));
      await eventually(processed, (n) => n >= before + 5);
    } finally {
      service.database.knex.removeListener('query', count);
    }
    expect(storefrontReads).toBe(0);
  });
});
