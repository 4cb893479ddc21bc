import type { Knex } from 'knex';

/**
 * An initial or renewal invoice is one per cycle, but upgrade invoices are not: a provider that charges each plan or
 * quantity change as its own proration invoice bills two changes in one cycle as two. Those stay unique by the
 * provider's invoice reference instead.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.alterTable('invoices', (t) => {
    t.dropUnique(['subscription_id', 'cycle_index', 'type']);
  });
  await knex.raw(
    `CREATE UNIQUE INDEX invoices_one_per_cycle ON invoices (subscription_id, cycle_index, type) WHERE type <> 'UPGRADE'`,
  );
  await knex.raw(
    `CREATE UNIQUE INDEX invoices_upgrade_provider_ref ON invoices (subscription_id, provider_ref)
       WHERE type = 'UPGRADE' AND provider_ref IS NOT NULL`,
  );
}

/** Fails where a subscription has two upgrade invoices in one cycle (the old rule cannot hold them). */
export async function down(knex: Knex): Promise<void> {
  await knex.raw('DROP INDEX invoices_upgrade_provider_ref');
  await knex.raw('DROP INDEX invoices_one_per_cycle');
  await knex.schema.alterTable('invoices', (t) => {
    t.unique(['subscription_id', 'cycle_index', 'type']);
  });
}
