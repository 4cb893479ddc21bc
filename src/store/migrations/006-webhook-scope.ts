import type { Knex } from 'knex';

/**
 * Webhooks scoped to their storefront. The inbox is unique per (provider, storefront, provider event id), as the
 * contract says, so one storefront's webhook cannot shadow another's event with the same id; and a processed row
 * keeps its `outcome` (e.g. `ignored: foreign/unknown object …`), so an acknowledged but unapplied webhook is
 * recorded rather than silently dropped.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.alterTable('webhook_inbox', (t) => {
    t.text('outcome');
    t.dropUnique(['provider', 'provider_event_id']);
    t.unique(['provider', 'storefront_id', 'provider_event_id']);
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.alterTable('webhook_inbox', (t) => {
    t.dropUnique(['provider', 'storefront_id', 'provider_event_id']);
    t.unique(['provider', 'provider_event_id']);
    t.dropColumn('outcome');
  });
}
