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
 * - the events since a recent time (ListEvents' `since`): the same walk to the first match, 31–42 ms, 0.7–1.1;
 * - subscriptions of a storefront in one status (ListSubscriptions): 18–33 ms, 0.04;
 * - the customer holding a provider's reference (webhooks that adopt or entitle): every customer, 13–23 ms, 0.01.
 *
 * Partial indexes name a status literally, as do the statements that use them: a prepared statement's generic plan
 * only matches a partial index on a literal.
 *
 * Each index is built while writes to its table wait. On a large database an operator can build them beforehand
 * without that wait (`CREATE INDEX CONCURRENTLY IF NOT EXISTS` with these names and definitions, README "Running
 * several replicas"); this migration then finds them and skips them.
 *
 * Each entry: the index's name, then what follows `ON` in its CREATE INDEX.
 */
export const INDEXES: [string, string][] = [
  ['webhook_inbox_pending_order', "webhook_inbox (id) WHERE status = 'PENDING'"],
  ['scheduled_actions_of_subject', 'scheduled_actions (kind, subject_id)'],
  ['scheduled_actions_failed', "scheduled_actions (id) WHERE status = 'failed'"],
  ['dead_letters_not_retried', 'dead_letters (id) WHERE retried_at IS NULL'],
  ['invoices_of_subscription', 'invoices (subscription_id, id)'],
  ['invoices_of_customer', 'invoices (customer_id, id)'],
  ['outbox_of_tenant', 'outbox (tenant_id, id)'],
  ['outbox_by_time', 'outbox (occurred_at)'],
  ['subscriptions_of_storefront_by_status', 'subscriptions (storefront_id, status, id)'],
  ['customers_provider_refs', 'customers USING gin (provider_refs jsonb_path_ops)'],
];

export async function up(knex: Knex): Promise<void> {
  for (const [name, definition] of INDEXES) await knex.raw(`CREATE INDEX IF NOT EXISTS ${name} ON ${definition}`);
}

export async function down(knex: Knex): Promise<void> {
  for (const [name] of [...INDEXES].reverse()) await knex.raw(`DROP INDEX IF EXISTS ${name}`);
}
