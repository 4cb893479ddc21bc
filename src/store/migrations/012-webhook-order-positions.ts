import type { Knex } from 'knex';

/**
 * The last applied sequence per ordering key (provider, storefront, key), so the inbox can tell the next webhook of
 * a key from one that arrived after a gap (held for the missing ones, up to the gap wait) or a late one. Numeric like
 * the inbox's `sequence`. No row yet: nothing applied, and the next expected is 1 (providers number from 1).
 */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('webhook_order_positions', (t) => {
    t.text('provider').notNullable();
    t.text('storefront_id').notNullable();
    t.text('ordering_key').notNullable();
    t.decimal('sequence', 40, 0).notNullable();
    t.timestamp('updated_at', { useTz: true }).notNullable();
    t.primary(['provider', 'storefront_id', 'ordering_key']);
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTable('webhook_order_positions');
}
