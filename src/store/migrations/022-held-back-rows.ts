import type { Knex } from 'knex';

/**
 * Rows held back behind a failing row of their ordering key stay out of the index the claim walks
 * (KnexWebhookInbox.claimDue, scheduleRetry): with a provider failing for one key, every later row of that key is
 * pending and due but not eligible, and each claim passing the storefront read them all (about 2 s a claim at
 * 100,000 such rows). The flag is a hint for that walk; eligibility is still decided by the key's rows themselves.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.alterTable('webhook_inbox', (t) => {
    t.boolean('held_back').notNullable().defaultTo(false);
  });
  await knex.raw('DROP INDEX IF EXISTS webhook_inbox_pending_by_storefront');
  await knex.raw(
    `CREATE INDEX webhook_inbox_claimable_by_storefront ON webhook_inbox (storefront_id, id)
     WHERE status = 'PENDING' AND NOT held_back`,
  );
  // The release on every processed webhook (markProcessed) finds the key's held rows here, usually none; through
  // the key index it read every pending row of the key, a backlog drained in quadratic time.
  await knex.raw(
    `CREATE INDEX webhook_inbox_held_by_key ON webhook_inbox (provider, storefront_id, ordering_key)
     WHERE status = 'PENDING' AND held_back`,
  );
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw('DROP INDEX IF EXISTS webhook_inbox_held_by_key');
  await knex.raw('DROP INDEX IF EXISTS webhook_inbox_claimable_by_storefront');
  await knex.raw(
    "CREATE INDEX IF NOT EXISTS webhook_inbox_pending_by_storefront ON webhook_inbox (storefront_id, id) WHERE status = 'PENDING'",
  );
  await knex.schema.alterTable('webhook_inbox', (t) => {
    t.dropColumn('held_back');
  });
}
