import type { Knex } from 'knex';

/**
 * The relay's row lease gives way to an advisory lock held by the leader's session (relay-leadership.ts), which a
 * dead process frees at once instead of 15 s later. Dropping the table also stops the relay of a replica still on
 * the old version during a rolling upgrade: its lease query fails, so it cannot publish beside the new leader.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.dropTable('outbox_relay_lease');
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.createTable('outbox_relay_lease', (t) => {
    t.text('name').primary();
    t.text('holder').notNullable();
    t.timestamp('expires_at', { useTz: true }).notNullable();
  });
}
