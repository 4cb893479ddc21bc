import type { Knex } from 'knex';

/**
 * What the subscription engine needs beyond the initial model: the provider time of the last applied state (so a
 * late webhook cannot regress a subscription), the hosted checkout a subscription was opened with, and lookups by
 * provider reference for invoices and refunds.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.alterTable('subscriptions', (t) => {
    t.timestamp('provider_observed_at', { useTz: true });
    t.text('checkout_session_ref');
    t.text('checkout_url');
    t.timestamp('checkout_expires_at', { useTz: true });
  });
  await knex.schema.alterTable('payments', (t) => {
    t.text('kind').notNullable().defaultTo('one_time');
  });
  await knex.schema.alterTable('invoices', (t) => {
    t.index(['provider_ref']);
  });
  await knex.schema.alterTable('refunds', (t) => {
    t.index(['provider_ref']);
  });
  await knex.schema.alterTable('usage_records', (t) => {
    t.text('idempotency_key');
    t.unique(['subscription_id', 'idempotency_key']);
  });
  await knex.schema.alterTable('dead_letters', (t) => {
    t.index(['provider', 'id']);
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.alterTable('dead_letters', (t) => t.dropIndex(['provider', 'id']));
  await knex.schema.alterTable('usage_records', (t) => {
    t.dropUnique(['subscription_id', 'idempotency_key']);
    t.dropColumn('idempotency_key');
  });
  await knex.schema.alterTable('refunds', (t) => t.dropIndex(['provider_ref']));
  await knex.schema.alterTable('invoices', (t) => t.dropIndex(['provider_ref']));
  await knex.schema.alterTable('payments', (t) => t.dropColumn('kind'));
  await knex.schema.alterTable('subscriptions', (t) => {
    t.dropColumn('provider_observed_at');
    t.dropColumn('checkout_session_ref');
    t.dropColumn('checkout_url');
    t.dropColumn('checkout_expires_at');
  });
}
