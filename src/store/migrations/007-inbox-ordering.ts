import type { Knex } from 'knex';

/**
 * Webhooks processed in order per ordering key (e.g. a provider that orders its events per customer): the inbox
 * keeps the envelope's `ordering_key` and `sequence` (numeric, so '10' follows '9' and int64 values stay exact),
 * and the sender's `source_ip`. The partial index serves the claim's "is an earlier row of this key pending?".
 */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.alterTable('webhook_inbox', (t) => {
    t.text('ordering_key');
    t.decimal('sequence', 40, 0);
    t.text('source_ip');
  });
  await knex.raw(
    `CREATE INDEX webhook_inbox_pending_by_key ON webhook_inbox (provider, storefront_id, ordering_key, sequence, id)
     WHERE status = 'PENDING' AND ordering_key IS NOT NULL`,
  );
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw('DROP INDEX IF EXISTS webhook_inbox_pending_by_key');
  await knex.schema.alterTable('webhook_inbox', (t) => {
    t.dropColumn('source_ip');
    t.dropColumn('sequence');
    t.dropColumn('ordering_key');
  });
}
