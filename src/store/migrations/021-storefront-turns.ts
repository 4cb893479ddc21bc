import type { Knex } from 'knex';

/**
 * Storefronts take turns at the inbox (KnexWebhookInbox.claimDue): a claim reads the pending rows from a storefront
 * on, in (storefront, receipt) order. The partial index holds only pending rows, as webhook_inbox_pending_order does.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.raw(
    "CREATE INDEX IF NOT EXISTS webhook_inbox_pending_by_storefront ON webhook_inbox (storefront_id, id) WHERE status = 'PENDING'",
  );
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw('DROP INDEX IF EXISTS webhook_inbox_pending_by_storefront');
}
