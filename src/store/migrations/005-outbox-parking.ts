import type { Knex } from 'knex';

/**
 * Poison events. An event Kafka refuses for good is parked (`outbox.parked_at`) and gets a dead letter of kind
 * 'event', so the same ListDeadLetters / RetryDeadLetter serve webhooks and events. An event dead letter has no inbox
 * row, hence the nullable `inbox_id`. The partial index holds only parked, unpublished rows: the relay asks it which
 * keys to hold back on every batch.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.alterTable('outbox', (t) => {
    t.timestamp('parked_at', { useTz: true });
  });
  await knex.raw('CREATE INDEX outbox_parked ON outbox (key) WHERE parked_at IS NOT NULL AND published_at IS NULL');
  await knex.schema.alterTable('dead_letters', (t) => {
    t.text('kind').notNullable().defaultTo('webhook');
    t.text('event_id');
    t.text('event_key');
  });
  await knex.raw('ALTER TABLE dead_letters ALTER COLUMN inbox_id DROP NOT NULL');
}

export async function down(knex: Knex): Promise<void> {
  await knex('dead_letters').where('kind', 'event').delete();
  await knex.raw('ALTER TABLE dead_letters ALTER COLUMN inbox_id SET NOT NULL');
  await knex.schema.alterTable('dead_letters', (t) => {
    t.dropColumn('event_key');
    t.dropColumn('event_id');
    t.dropColumn('kind');
  });
  await knex.raw('DROP INDEX outbox_parked');
  await knex.schema.alterTable('outbox', (t) => t.dropColumn('parked_at'));
}
