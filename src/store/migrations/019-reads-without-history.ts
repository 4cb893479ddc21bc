import type { Knex } from 'knex';

/**
 * Indexes for reads that found a little work by walking a table's whole history. The inbox, the event log, scheduled
 * actions, dead letters, invoices, customers and subscriptions keep every row they ever held, so each of these reads
 * got slower for as long as the service ran. Measured with 100,000 finished rows beside a few hundred live ones:
 * - claiming the next webhook of a backlog walked the primary key past every processed webhook: 13 ms a claim, 0.13;
 * - the last cancellation scheduled for a subscription (UpdateSubscription) read every scheduled action: 9–15 ms, 0.01;
 * - the failed scheduled actions (a gauge, every scrape) and the dead letters not yet retried (a gauge and a listing):
 *   13–15 ms and 2–4 ms, 0.01–0.08;
 * - invoices of one subscription or one customer (ListInvoices): a scan of every invoice, 13–17 ms, 0.015;
 * - a tenant's events (ListEvents from a scoped caller): the primary key from the first event on, 20–29 ms, 0.024;
 * - subscriptions of a storefront in one status (ListSubscriptions): 18–33 ms, 0.04;
 * - the customer holding a provider's reference (webhooks that adopt or entitle): every customer, 13–23 ms, 0.01.
 *
 * Partial indexes name a status literally, as do the statements that use them: a prepared statement's generic plan
 * only matches a partial index on a literal. On a large database each index is built while writes to its table wait.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.raw("CREATE INDEX webhook_inbox_pending_order ON webhook_inbox (id) WHERE status = 'PENDING'");
  await knex.raw('CREATE INDEX scheduled_actions_of_subject ON scheduled_actions (kind, subject_id)');
  await knex.raw("CREATE INDEX scheduled_actions_failed ON scheduled_actions (id) WHERE status = 'failed'");
  await knex.raw('CREATE INDEX dead_letters_not_retried ON dead_letters (id) WHERE retried_at IS NULL');
  await knex.raw('CREATE INDEX invoices_of_subscription ON invoices (subscription_id, id)');
  await knex.raw('CREATE INDEX invoices_of_customer ON invoices (customer_id, id)');
  await knex.raw('CREATE INDEX outbox_of_tenant ON outbox (tenant_id, id)');
  await knex.raw('CREATE INDEX subscriptions_of_storefront_by_status ON subscriptions (storefront_id, status, id)');
  await knex.raw('CREATE INDEX customers_provider_refs ON customers USING gin (provider_refs jsonb_path_ops)');
}

export async function down(knex: Knex): Promise<void> {
  for (const index of [
    'customers_provider_refs',
    'subscriptions_of_storefront_by_status',
    'outbox_of_tenant',
    'invoices_of_customer',
    'invoices_of_subscription',
    'dead_letters_not_retried',
    'scheduled_actions_failed',
    'scheduled_actions_of_subject',
    'webhook_inbox_pending_order',
  ]) {
    await knex.raw(`DROP INDEX IF EXISTS ${index}`);
  }
}
