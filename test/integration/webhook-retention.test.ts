import { purgeOldWebhooks } from '../../src/app/background/webhook-retention';
import { insertInboxRows } from '../../src/store/inbox-batch-writer';
import { KnexWebhookInbox } from '../../src/store/webhook-inbox';
import { migratedDatabase } from '../support/test-database';

const DAY = 86_400_000;

/**
 * Processed webhooks (bodies included) are deleted once past WEBHOOK_RETENTION_DAYS; before, the inbox kept every
 * webhook ever received. What is still needed stays: pending ones, dead ones, and any row a dead letter names.
 */
describe('webhook retention', () => {
  const migrated = migratedDatabase();
  const now = new Date();
  const daysAgo = (days: number) => new Date(now.getTime() - days * DAY);
  const inbox = () => new KnexWebhookInbox(migrated.database.knex);

  const store = (id: string, receivedAt: Date) =>
    insertInboxRows(migrated.database.knex, [
      {
        provider: 'subotiz',
        storefrontId: 'store-1',
        providerEventId: id,
        eventType: 'v2.subscription.updated',
        headers: {},
        body: Buffer.from(`{"id":"${id}"}`),
        receivedAt,
      },
    ]);
  const left = async () =>
    (await migrated.database.knex('webhook_inbox').orderBy('id').select('provider_event_id')).map(
      (r: { provider_event_id: string }) => r.provider_event_id,
    );

  it('deletes only processed webhooks past the retention, in batches, and keeps what a dead letter names', async () => {
    const old = Array.from({ length: 2_500 }, (_, i) => `evt_old_${i}`);
    await insertInboxRows(
      migrated.database.knex,
      old.map((id) => ({
        provider: 'subotiz',
        storefrontId: 'store-1',
        providerEventId: id,
        eventType: 'v2.subscription.updated',
        headers: {},
        body: Buffer.alloc(2_000, 'x'),
        receivedAt: daysAgo(40),
        settledAs: 'nothing to apply',
      })),
    );
    // Dead 40 days ago and never retried; dead, then retried and processed (its letter stays for the record);
    // still pending after 40 days; processed yesterday.
    for (const id of ['evt_dead', 'evt_retried', 'evt_pending', 'evt_recent']) {
      await store(id, id === 'evt_recent' ? daysAgo(1) : daysAgo(40));
    }
    for (const id of ['evt_dead', 'evt_retried']) {
      const entry = (await inbox().claimDue(now))!;
      expect(entry.providerEventId).toBe(id);
      expect(await inbox().deadLetter(entry, 3, 'provider down', daysAgo(40), `dlq_${id}`)).toBe(true);
    }
    await inbox().requeueDeadLetter('dlq_evt_retried', daysAgo(39));
    const retried = (await inbox().claimDue(now))!;
    expect(retried.providerEventId).toBe('evt_retried');
    await inbox().markProcessed(retried.id, daysAgo(39), 'applied');
    const recent = await migrated.database.knex('webhook_inbox').where('provider_event_id', 'evt_recent').first('id');
    await inbox().markProcessed(String(recent.id), daysAgo(1), 'applied');

    const purged = await purgeOldWebhooks(inbox(), now, 30 * DAY, new AbortController().signal);

    expect(purged).toBe(2_500);
    expect(await left()).toEqual(['evt_dead', 'evt_retried', 'evt_pending', 'evt_recent']);
    const letters = await migrated.database.knex('dead_letters').orderBy('id').pluck('provider_event_id');
    expect(letters).toEqual(['evt_dead', 'evt_retried']);
    // Nothing left to purge: the next run deletes nothing.
    expect(await purgeOldWebhooks(inbox(), now, 30 * DAY, new AbortController().signal)).toBe(0);
  });

  it('a webhook stamped ahead of the clock (a replica whose clock runs ahead) does not hold back later ones', async () => {
    await migrated.database.knex('dead_letters').delete();
    await migrated.database.knex('webhook_inbox').delete();
    await store('evt_ahead', new Date(now.getTime() + DAY));
    await store('evt_late_old', daysAgo(40));
    await migrated.database
      .knex('webhook_inbox')
      .update({ status: 'PROCESSED', processed_at: daysAgo(40) })
      .where('provider_event_id', 'evt_late_old');
    await migrated.database
      .knex('webhook_inbox')
      .update({ status: 'PROCESSED', processed_at: new Date(now.getTime() + DAY) })
      .where('provider_event_id', 'evt_ahead');

    expect(await purgeOldWebhooks(inbox(), now, 30 * DAY, new AbortController().signal)).toBe(1);
    expect(await left()).toEqual(['evt_ahead']);
  });

  it('a redelivery of a purged webhook is stored again (processing it again applies nothing new)', async () => {
    expect(await store('evt_late_old', now)).toEqual([true]);
    expect(await store('evt_ahead', now)).toEqual([false]);
  });
});
