import { insertInboxRows } from '../../src/store/inbox-batch-writer';
import { KnexWebhookInbox } from '../../src/store/webhook-inbox';
import { migratedDatabase } from '../support/test-database';

/**
 * A failure's text often quotes a provider's answer, which is the provider's to choose: a NUL in it (PostgreSQL
 * refuses NUL in text) made the failure impossible to record, so the webhook never became a dead letter and was
 * claimed first at every poll; megabytes of it went into rows and ListDeadLetters.
 */
describe('failure texts as rows keep them', () => {
  const migrated = migratedDatabase();

  const hostile = `provider said: \u0000\u001b[31m${'x'.repeat(2_000_000)}`;

  it('a retry and a dead letter are recorded with the text cut to 1,000 characters and no control characters', async () => {
    const inbox = new KnexWebhookInbox(migrated.database.knex);
    await insertInboxRows(migrated.database.knex, [
      {
        provider: 'subotiz',
        storefrontId: 'store-1',
        providerEventId: 'evt-nul',
        eventType: 'v2.payment.failed',
        headers: {},
        body: Buffer.from('{}'),
        receivedAt: new Date(),
      },
    ]);
    const entry = (await inbox.claimDue(new Date(Date.now() + 1000)))!;
    await inbox.scheduleRetry(entry.id, 1, hostile, new Date(Date.now() - 1000));
    const [retried] = await migrated.database
      .knex('webhook_inbox')
      .where({ id: entry.id })
      .select('last_error', 'attempts');
    expect(retried.attempts).toBe(1);
    expect(retried.last_error).toHaveLength(1000);
    expect(retried.last_error.startsWith('provider said: ??[31mxxx')).toBe(true);

    expect(await inbox.deadLetter(entry, 2, hostile, new Date(), 'dlq_nul')).toBe(true);
    const [letter] = await inbox.listDeadLetters({}, { size: 10 });
    expect(letter!.error).toHaveLength(1000);
    expect(letter!.error).not.toMatch(/[\u0000-\u001f]/); // eslint-disable-line no-control-regex
  });
});
