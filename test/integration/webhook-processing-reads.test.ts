import { eventually } from '../support/eventually';
import { fakeProvider } from '../support/fake-provider';
import { fakeStorefrontService } from '../support/fake-storefront';
import { FAST_WEBHOOKS } from '../support/subotiz-world';
import { withClient } from '../support/test-database';

/**
 * Webhook processing is bound by its round trips (README, performance): each statement of a webhook's transaction
 * is one more wait on PostgreSQL for its lane. The storefront a webhook names is read at ingress through a cache
 * that drops changed storefronts; processing read it again from the database, once per webhook.
 */
describe('webhook processing reads its storefront from the cache ingress filled', () => {
  const fake = fakeProvider('fakereads');
  const world = fakeStorefrontService(fake, 'fake-reads', FAST_WEBHOOKS);

  it('processes webhooks without reading their storefront from the database', async () => {
    const subscription = await world.store.activeSubscription();
    let storefrontReads = 0;
    const count = (query: { sql: string }) => {
      if (/from "storefronts"/i.test(query.sql)) storefrontReads += 1;
    };
    const processed = () =>
      withClient(world.db.url, async (c) => {
        const { rows } = await c.query("select count(*)::int as n from webhook_inbox where status = 'PROCESSED'");
        return rows[0].n as number;
      });
    const before = await processed();
    world.service.database.knex.on('query', count);
    try {
      for (let i = 0; i < 5; i++) await fake.sendState(fake.subscription(subscription.providerRef));
      await eventually(processed, (n) => n >= before + 5);
    } finally {
      world.service.database.knex.removeListener('query', count);
    }
    expect(storefrontReads).toBe(0);
  });
});
