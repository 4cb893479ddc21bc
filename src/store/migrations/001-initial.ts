import type { Knex } from 'knex';

/**
 * The whole model: storefronts with binding history, plans, customers, subscriptions, payments, refunds, invoices,
 * entitlements, usage, webhook inbox, dead letters, outbox with per-key sequences, idempotency keys and audit log.
 * Money is always (currency char(3), amount_minor bigint).
 */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('storefronts', (t) => {
    t.text('id').primary();
    t.text('tenant_id').notNullable().index();
    t.text('name').notNullable();
    t.specificType('country', 'char(2)').notNullable();
    t.specificType('default_currency', 'char(3)').notNullable();
    t.bigInteger('version').notNullable().defaultTo(1);
    t.timestamp('created_at', { useTz: true }).notNullable();
    t.timestamp('updated_at', { useTz: true }).notNullable();
  });

  await knex.schema.createTable('storefront_bindings', (t) => {
    t.bigIncrements('id');
    t.text('storefront_id').notNullable().references('storefronts.id').onDelete('CASCADE');
    t.text('provider').notNullable();
    t.jsonb('provider_config').notNullable().defaultTo('{}');
    t.jsonb('secret_refs').notNullable().defaultTo('{}');
    t.timestamp('valid_from', { useTz: true }).notNullable();
    t.timestamp('valid_until', { useTz: true });
    t.text('actor').notNullable();
    t.text('reason').notNullable().defaultTo('');
    t.index(['storefront_id', 'valid_from']);
  });
  // The binding with no end is the current one: the only record of which provider a storefront uses now.
  await knex.raw(
    'CREATE UNIQUE INDEX storefront_bindings_one_current ON storefront_bindings (storefront_id) WHERE valid_until IS NULL',
  );

  await knex.schema.createTable('plans', (t) => {
    t.text('id').primary();
    t.text('storefront_id').notNullable().references('storefronts.id');
    t.text('name').notNullable();
    t.specificType('currency', 'char(3)').notNullable();
    t.bigInteger('amount_minor').notNullable();
    t.text('interval_unit').notNullable();
    t.integer('interval_count').notNullable();
    t.integer('trial_days').notNullable().defaultTo(0);
    t.jsonb('feature_keys').notNullable().defaultTo('[]');
    t.jsonb('provider_refs').notNullable().defaultTo('{}');
    t.text('status').notNullable();
    t.timestamp('created_at', { useTz: true }).notNullable();
    t.timestamp('archived_at', { useTz: true });
    t.index(['storefront_id', 'id']);
  });

  await knex.schema.createTable('customers', (t) => {
    t.text('id').primary();
    t.text('storefront_id').notNullable().references('storefronts.id');
    t.text('external_ref').notNullable().defaultTo('');
    t.text('email').notNullable();
    t.text('email_normalized').notNullable();
    t.text('name').notNullable().defaultTo('');
    t.text('phone').notNullable().defaultTo('');
    t.text('country').notNullable().defaultTo('');
    t.jsonb('address');
    t.jsonb('provider_refs').notNullable().defaultTo('{}');
    t.bigInteger('version').notNullable().defaultTo(1);
    t.timestamp('created_at', { useTz: true }).notNullable();
    t.timestamp('updated_at', { useTz: true }).notNullable();
    t.unique(['storefront_id', 'email_normalized']);
    t.index(['storefront_id', 'external_ref']);
    t.index(['storefront_id', 'id']);
  });

  await knex.schema.createTable('subscriptions', (t) => {
    t.text('id').primary();
    t.text('storefront_id').notNullable().references('storefronts.id');
    t.text('customer_id').notNullable().references('customers.id');
    t.text('plan_id').notNullable().references('plans.id');
    t.integer('quantity').notNullable().defaultTo(1);
    // Pinned at creation; every later call and webhook routes by it.
    t.text('provider').notNullable();
    t.text('provider_ref');
    t.text('status').notNullable();
    t.timestamp('current_period_start', { useTz: true });
    t.timestamp('current_period_end', { useTz: true });
    t.timestamp('trial_end', { useTz: true });
    t.boolean('cancel_at_period_end').notNullable().defaultTo(false);
    t.timestamp('canceled_at', { useTz: true });
    t.timestamp('ended_at', { useTz: true });
    t.bigInteger('version').notNullable().defaultTo(1);
    t.timestamp('created_at', { useTz: true }).notNullable();
    t.timestamp('updated_at', { useTz: true }).notNullable();
    t.unique(['provider', 'provider_ref']);
    t.index(['customer_id']);
    t.index(['storefront_id', 'id']);
  });

  await knex.schema.createTable('invoices', (t) => {
    t.text('id').primary();
    t.text('subscription_id').notNullable().references('subscriptions.id');
    t.text('customer_id').notNullable().references('customers.id');
    t.specificType('currency', 'char(3)').notNullable();
    t.bigInteger('amount_minor').notNullable();
    t.text('type').notNullable();
    t.text('status').notNullable();
    t.integer('cycle_index').notNullable().defaultTo(0);
    t.timestamp('period_start', { useTz: true });
    t.timestamp('period_end', { useTz: true });
    t.text('provider_ref');
    t.timestamp('created_at', { useTz: true }).notNullable();
    t.timestamp('updated_at', { useTz: true }).notNullable();
    t.unique(['subscription_id', 'cycle_index', 'type']);
  });

  await knex.schema.createTable('payments', (t) => {
    t.text('id').primary();
    t.text('storefront_id').notNullable().references('storefronts.id');
    t.text('customer_id').notNullable().references('customers.id');
    t.text('subscription_id').references('subscriptions.id');
    t.text('invoice_id').references('invoices.id');
    t.text('provider').notNullable();
    t.text('provider_ref');
    t.specificType('currency', 'char(3)').notNullable();
    t.bigInteger('amount_minor').notNullable();
    t.text('status').notNullable();
    t.text('refund_state').notNullable().defaultTo('NONE');
    t.bigInteger('refunded_minor').notNullable().defaultTo(0);
    t.text('failure_code');
    t.text('failure_message');
    t.timestamp('created_at', { useTz: true }).notNullable();
    t.timestamp('updated_at', { useTz: true }).notNullable();
    t.unique(['provider', 'provider_ref']);
    t.index(['subscription_id']);
    t.index(['customer_id']);
  });

  await knex.schema.createTable('refunds', (t) => {
    t.text('id').primary();
    t.text('payment_id').notNullable().references('payments.id');
    t.specificType('currency', 'char(3)').notNullable();
    t.bigInteger('amount_minor').notNullable();
    t.text('reason').notNullable().defaultTo('');
    t.text('status').notNullable();
    t.text('provider_ref');
    t.text('failure_code');
    t.text('failure_message');
    t.timestamp('created_at', { useTz: true }).notNullable();
    t.timestamp('updated_at', { useTz: true }).notNullable();
    t.index(['payment_id']);
  });

  await knex.schema.createTable('entitlements', (t) => {
    t.text('id').primary();
    t.text('customer_id').notNullable().references('customers.id');
    t.text('feature_key').notNullable();
    t.text('subscription_id').references('subscriptions.id');
    t.timestamp('active_from', { useTz: true }).notNullable();
    t.timestamp('active_until', { useTz: true });
    t.boolean('provider_native').notNullable().defaultTo(false);
    t.index(['customer_id', 'feature_key']);
    t.index(['subscription_id']);
  });

  await knex.schema.createTable('usage_records', (t) => {
    t.text('id').primary();
    t.text('subscription_id').notNullable().references('subscriptions.id');
    t.bigInteger('quantity').notNullable();
    t.timestamp('occurred_at', { useTz: true }).notNullable();
    t.text('provider_ref');
    t.timestamp('created_at', { useTz: true }).notNullable();
    t.index(['subscription_id', 'occurred_at']);
  });

  // Raw webhooks, stored before the 200; the unique key makes redeliveries (and replicas) harmless.
  await knex.schema.createTable('webhook_inbox', (t) => {
    t.bigIncrements('id');
    t.text('provider').notNullable();
    t.text('storefront_id').notNullable();
    t.text('provider_event_id').notNullable();
    t.text('event_type').notNullable().defaultTo('');
    t.jsonb('headers').notNullable().defaultTo('{}');
    t.binary('body').notNullable();
    t.text('status').notNullable().defaultTo('PENDING');
    t.integer('attempts').notNullable().defaultTo(0);
    t.timestamp('next_attempt_at', { useTz: true });
    t.text('last_error');
    t.text('traceparent');
    t.timestamp('received_at', { useTz: true }).notNullable();
    t.timestamp('processed_at', { useTz: true });
    t.unique(['provider', 'provider_event_id']);
  });
  await knex.raw("CREATE INDEX webhook_inbox_due ON webhook_inbox (next_attempt_at) WHERE status = 'PENDING'");

  await knex.schema.createTable('dead_letters', (t) => {
    t.text('id').primary();
    t.bigInteger('inbox_id').notNullable().references('webhook_inbox.id');
    t.text('provider').notNullable();
    t.text('storefront_id').notNullable();
    t.text('provider_event_id').notNullable();
    t.text('event_type').notNullable().defaultTo('');
    t.text('error').notNullable();
    t.integer('attempts').notNullable();
    t.timestamp('received_at', { useTz: true }).notNullable();
    t.timestamp('last_attempt_at', { useTz: true }).notNullable();
    t.timestamp('retried_at', { useTz: true });
    t.index(['storefront_id', 'id']);
  });

  // The event log. Rows stay after publishing: ListEvents and ReplayEvents read them.
  await knex.schema.createTable('outbox', (t) => {
    t.bigIncrements('id');
    t.text('event_id').notNullable().unique();
    t.text('type').notNullable();
    t.text('stream').notNullable();
    t.text('key').notNullable();
    t.text('storefront_id').notNullable();
    t.text('tenant_id').notNullable();
    t.text('provider').notNullable().defaultTo('');
    t.text('aggregate_id').notNullable();
    t.bigInteger('sequence').notNullable();
    t.timestamp('occurred_at', { useTz: true }).notNullable();
    t.binary('payload').notNullable();
    t.text('traceparent');
    t.text('tracestate');
    t.timestamp('published_at', { useTz: true });
    t.unique(['key', 'sequence']);
    t.index(['storefront_id', 'id']);
    t.index(['aggregate_id', 'id']);
  });
  await knex.raw('CREATE INDEX outbox_unpublished ON outbox (id) WHERE published_at IS NULL');

  // Per-key counters: taking the row lock also serializes writers of one key, so commit order = sequence order.
  await knex.schema.createTable('event_sequences', (t) => {
    t.text('key').primary();
    t.bigInteger('last_sequence').notNullable();
  });

  // One relay publishes at a time (ordering per key across replicas); the lease passes on if its holder dies.
  await knex.schema.createTable('outbox_relay_lease', (t) => {
    t.text('name').primary();
    t.text('holder').notNullable();
    t.timestamp('expires_at', { useTz: true }).notNullable();
  });

  await knex.schema.createTable('idempotency_keys', (t) => {
    t.text('key').primary();
    t.text('method').notNullable();
    t.text('request_hash').notNullable();
    t.text('state').notNullable();
    t.binary('response');
    t.timestamp('created_at', { useTz: true }).notNullable();
    t.timestamp('locked_until', { useTz: true }).notNullable();
    t.timestamp('expires_at', { useTz: true }).notNullable().index();
  });

  await knex.schema.createTable('audit_log', (t) => {
    t.bigIncrements('id');
    t.timestamp('occurred_at', { useTz: true }).notNullable();
    t.text('actor').notNullable();
    t.text('correlation_id').notNullable();
    t.text('action').notNullable();
    t.text('resource_type').notNullable();
    t.text('resource_id').notNullable();
    t.text('storefront_id');
    t.jsonb('details').notNullable().defaultTo('{}');
    t.index(['resource_type', 'resource_id']);
    t.index(['storefront_id', 'id']);
  });
}

const TABLES_IN_DROP_ORDER = [
  'audit_log',
  'idempotency_keys',
  'outbox_relay_lease',
  'event_sequences',
  'outbox',
  'dead_letters',
  'webhook_inbox',
  'usage_records',
  'entitlements',
  'refunds',
  'payments',
  'invoices',
  'subscriptions',
  'customers',
  'plans',
  'storefront_bindings',
  'storefronts',
];

export async function down(knex: Knex): Promise<void> {
  for (const table of TABLES_IN_DROP_ORDER) await knex.schema.dropTableIfExists(table);
}
