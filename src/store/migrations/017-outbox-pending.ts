import type { Knex } from 'knex';

/**
 * What the relay has yet to publish moves out of the event log into `outbox_pending` (id, key, parked_at): marking
 * an event published deletes its row there, instead of updating `outbox.published_at`. That update could never be
 * HOT (`published_at` was in two partial-index predicates), so each mark wrote a new version of the whole row, payload
 * included, and an entry in each of the outbox's seven indexes: most of PostgreSQL's work per drained event. The
 * event log itself is now written once and never updated.
 *
 * A trigger queues every row inserted into `outbox`, whoever inserts it: the change journal, and during a rolling
 * upgrade a replica still on the previous version, whose events would otherwise never be published. (That version's
 * relay fails on the dropped columns while it leads; publishing waits for it to be replaced, and nothing is lost.)
 * Statement-level, over the inserted rows: one call however many events a transaction writes.
 *
 * No foreign key to `outbox`: its check would lock the new outbox row on every insert, and outbox rows are never
 * deleted. The partial index holds only parked rows: the relay asks it which keys to hold back on every batch. `key`
 * is copied from the event (an event's key never changes) so that check reads the queue alone, not the event log.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('outbox_pending', (t) => {
    t.bigInteger('id').primary();
    t.text('key').notNullable();
    t.timestamp('parked_at', { useTz: true });
  });
  await knex.raw('CREATE INDEX outbox_pending_parked ON outbox_pending (key) WHERE parked_at IS NOT NULL');
  await knex.raw(
    'INSERT INTO outbox_pending (id, key, parked_at) SELECT id, key, parked_at FROM outbox WHERE published_at IS NULL',
  );
  await knex.raw(`
    CREATE FUNCTION billing_queue_events() RETURNS trigger
    LANGUAGE plpgsql AS $$
    BEGIN
      INSERT INTO outbox_pending (id, key) SELECT id, key FROM inserted_events;
      RETURN NULL;
    END
    $$`);
  await knex.raw(`
    CREATE TRIGGER outbox_queued AFTER INSERT ON outbox REFERENCING NEW TABLE AS inserted_events
    FOR EACH STATEMENT EXECUTE FUNCTION billing_queue_events()`);
  await knex.raw('DROP INDEX outbox_unpublished');
  await knex.raw('DROP INDEX outbox_parked');
  await knex.schema.alterTable('outbox', (t) => {
    t.dropColumn('published_at');
    t.dropColumn('parked_at');
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.alterTable('outbox', (t) => {
    t.timestamp('published_at', { useTz: true });
    t.timestamp('parked_at', { useTz: true });
  });
  // The time of publishing was not kept: rows no longer pending count as published at the rollback.
  await knex.raw(`UPDATE outbox o SET published_at = now()
    WHERE NOT EXISTS (SELECT 1 FROM outbox_pending p WHERE p.id = o.id)`);
  await knex.raw('UPDATE outbox o SET parked_at = p.parked_at FROM outbox_pending p WHERE p.id = o.id');
  await knex.raw('CREATE INDEX outbox_unpublished ON outbox (id) WHERE published_at IS NULL');
  await knex.raw('CREATE INDEX outbox_parked ON outbox (key) WHERE parked_at IS NOT NULL AND published_at IS NULL');
  await knex.raw('DROP TRIGGER outbox_queued ON outbox');
  await knex.raw('DROP FUNCTION billing_queue_events()');
  await knex.schema.dropTable('outbox_pending');
}
