import type { Knex } from 'knex';

/**
 * Idempotency keys per tenant, with a short lease and room for a provider effect.
 * - `scope` (the caller's tenant; '' before callers are authenticated) joins the key in the primary key, so two
 *   tenants using the same key never see each other's responses.
 * - `owner` names the attempt holding the key; it fences the final write, so an attempt whose lease was taken over
 *   after a stall cannot store a second response.
 * - `effect` is the provider effect an attempt recorded before calling the provider (operation, our id for the
 *   object, the provider's id once known): a retry resumes it instead of repeating it.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.alterTable('idempotency_keys', (t) => {
    t.text('scope').notNullable().defaultTo('');
    t.text('owner');
    t.jsonb('effect');
  });
  await knex.schema.alterTable('idempotency_keys', (t) => {
    t.dropPrimary();
    t.primary(['scope', 'key']);
  });
}

export async function down(knex: Knex): Promise<void> {
  // Keys of different tenants may share a key now; only one of them can survive the old primary key.
  await knex.raw(
    `DELETE FROM idempotency_keys a USING idempotency_keys b
     WHERE a.key = b.key AND a.scope > b.scope`,
  );
  await knex.schema.alterTable('idempotency_keys', (t) => {
    t.dropPrimary();
    t.primary(['key']);
  });
  await knex.schema.alterTable('idempotency_keys', (t) => {
    t.dropColumn('effect');
    t.dropColumn('owner');
    t.dropColumn('scope');
  });
}
