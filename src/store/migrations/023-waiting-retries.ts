import type { Knex } from 'knex';

/**
 * Rows waiting for a retry (a failed attempt, or a webhook waiting for our record of its order) stay out of the index
 * the claim walks, as the rows held back behind them already do (022): with a provider down for one storefront, each
 * of its failing keys left one pending row that was not due, and every claim whose turn passed that storefront read
 * them all, so one tenant's outage slowed every storefront's processing. The inbox worker's poll moves the rows whose
 * time has come back into the walk (KnexWebhookInbox.wakeDue), through an index of their own.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.alterTable('webhook_inbox', (t) => {
    t.boolean('waiting').notNullable().defaultTo(false);
  });
  // Retries scheduled before this are waiting as scheduleRetry now leaves them; the poll wakes them when due.
  await knex.raw("UPDATE webhook_inbox SET waiting = true WHERE status = 'PENDING' AND next_attempt_at > now()");
  // A new index beside 022's: replicas still on the code before keep claiming through that one while a rolling
  // deploy runs (their claims do not exclude waiting rows, so this one is of no use to them). A later migration may
  // drop webhook_inbox_claimable_by_storefront once no such replica is left.
  await knex.raw(
    `CREATE INDEX webhook_inbox_claimable_not_waiting ON webhook_inbox (storefront_id, id)
     WHERE status = 'PENDING' AND NOT held_back AND NOT waiting`,
  );
  await knex.raw(
    `CREATE INDEX webhook_inbox_waiting_due ON webhook_inbox (next_attempt_at)
     WHERE status = 'PENDING' AND waiting`,
  );
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw('DROP INDEX IF EXISTS webhook_inbox_waiting_due');
  await knex.raw('DROP INDEX IF EXISTS webhook_inbox_claimable_not_waiting');
  await knex.schema.alterTable('webhook_inbox', (t) => {
    t.dropColumn('waiting');
  });
}
