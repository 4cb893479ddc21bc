import { insertInboxRows } from '../../src/store/inbox-batch-writer';
import { KnexWebhookInbox } from '../../src/store/webhook-inbox';
import type { NewInboxEntry } from '../../src/ports/store.port';
import { eventually } from '../support/eventually';
import { fakeProvider } from '../support/fake-provider';
import { fakeStorefront, FakeStorefront } from '../support/fake-storefront';
import { createTestDatabase, migratedDatabase, TestDatabase, withClient } from '../support/test-database';
import { startTestService, TestService } from '../support/test-service';

/**
 * Storefronts take turns at the webhook inbox. A tenant can sign as many webhooks as it likes for its own
 * storefront; processed oldest first, such a flood delayed every other tenant's webhooks by its whole backlog.
 */
describe('storefronts take turns at the inbox', () => {
  describe('the claim', () => {
    const migrated = migratedDatabase();

    const row = (storefrontId: string, id: string): NewInboxEntry => ({
      provider: 'fakepay',
      storefrontId,
      providerEventId: id,
      eventType: 'subscription.updated',
      headers: {},
      body: Buffer.from('{}'),
      receivedAt: new Date(Date.now() - 1000),
    });

    it('after a storefront, takes the next storefront’s oldest row, wrapping round; each in order of receipt', async () => {
      const flood = Array.from({ length: 1_000 }, (_, i) => row('store-m', `flood_${i}`));
      await insertInboxRows(migrated.database.knex, flood);
      await insertInboxRows(migrated.database.knex, [
        row('store-z', 'z_1'),
        row('store-a', 'a_1'),
        row('store-a', 'a_2'),
      ]);
      const inbox = new KnexWebhookInbox(migrated.database.knex);
      const claimed: string[] = [];
      let last = '';
      for (let i = 0; i < 6; i++) {
        // Each claim in its own transaction, marked processed as a lane would.
        await migrated.database.knex.transaction(async (trx) => {
          const entry = (await new KnexWebhookInbox(trx).claimDue(new Date(), 0, last))!;
          claimed.push(entry.providerEventId);
          last = entry.storefrontId;
          await new KnexWebhookInbox(trx).markProcessed(entry.id, new Date(), 'test');
        });
      }
      expect(claimed).toEqual(['a_1', 'flood_0', 'z_1', 'a_2', 'flood_1', 'flood_2']);
      // A row another worker holds is skipped for the next storefront's, not waited for.
      await migrated.database.knex.transaction(async (holder) => {
        const held = (await new KnexWebhookInbox(holder).claimDue(new Date(), 0, 'store-a'))!;
        expect(held.providerEventId).toBe('flood_3');
        const next = await inbox.claimDue(new Date(), 0, 'store-a');
        expect(next?.providerEventId).toBe('flood_4');
      });
    });
  });

  describe('through the service', () => {
    const fake = fakeProvider('fakeflood');
    let db: TestDatabase;
    let service: TestService;
    let flooded: FakeStorefront;
    let quiet: FakeStorefront;

    beforeAll(async () => {
      db = await createTestDatabase();
      service = await startTestService({ DATABASE_URL: db.url }, { extraProviders: [fake.module] });
      flooded = await fakeStorefront(service, fake, 'flood-store');
      quiet = await fakeStorefront(service, fake, 'quiet-store');
    });
    afterAll(async () => {
      flooded?.close();
      quiet?.close();
      await service?.close();
      await db?.drop();
    });

    const pendingOf = (storefrontId: string) =>
      withClient(db.url, async (c) => {
        const { rows } = await c.query(
          "select count(*)::int as n from webhook_inbox where storefront_id = $1 and status = 'PENDING'",
          [storefrontId],
        );
        return rows[0].n as number;
      });
    const about = (id: string) => ({
      id,
      type: 'subscription.updated',
      data: { hint: 'updated', subscription: { ref: `fsub_${id}`, order_id: 'sub_nobody', status: 'ACTIVE' } },
    });

    it('a webhook for another storefront is processed while a flood of one storefront’s is still waiting', async () => {
      for (let batch = 0; batch < 12; batch++) {
        const sends = Array.from({ length: 50 }, (_, i) => fake.send(flooded.storefrontId, about(`f_${batch}_${i}`)));
        expect(new Set(await Promise.all(sends))).toEqual(new Set([200]));
      }
      expect(await fake.send(quiet.storefrontId, about('q_1'))).toBe(200);

      await eventually(
        () => pendingOf(quiet.storefrontId),
        (n) => n === 0,
      );
      // Oldest first, the quiet webhook waited for every flooded one received before it.
      expect(await pendingOf(flooded.storefrontId)).toBeGreaterThan(100);
    });
  });
});
