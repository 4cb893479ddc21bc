import type { Knex } from 'knex';

/**
 * Processed webhooks are deleted once past WEBHOOK_RETENTION_DAYS (KnexWebhookInbox.purgeProcessed), except those a
 * dead letter still names (a retried dead letter's row is processed, and its letter stays for the record). This
 * index lets the purge ask that of each candidate without reading every dead letter.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.raw('CREATE INDEX IF NOT EXISTS dead_letters_of_inbox ON dead_letters (inbox_id)');
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw('DROP INDEX IF EXISTS dead_letters_of_inbox');
}
