import type { Knex } from 'knex';

/**
 * The durable scheduler and the reconciler's bookkeeping.
 * - `scheduled_actions`: timed work the providers do not do for us. At most one pending action per (kind, subject):
 *   scheduling again moves it. A runner leases due rows (`lease_owner`, `lease_until`) before it runs them, so a
 *   crashed replica's action is picked up once its lease ends.
 * - `subscriptions.live_checked_at`: when the reconciler last asked the provider about a live subscription, so one
 *   past its period end (or silent too long) is asked about once, not every sweep.
 * - `reconcile_failures`: rows whose provider check keeps failing, per sweep; after the limit the sweep gives up on
 *   the row (`given_up_at`) and on-call sees why here.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('scheduled_actions', (t) => {
    t.text('id').primary();
    t.text('kind').notNullable();
    t.text('subject_id').notNullable();
    t.text('storefront_id');
    t.timestamp('due_at', { useTz: true }).notNullable();
    t.jsonb('payload').notNullable().defaultTo('{}');
    t.integer('attempts').notNullable().defaultTo(0);
    t.text('last_error');
    t.text('lease_owner');
    t.timestamp('lease_until', { useTz: true });
    t.text('status').notNullable().defaultTo('pending');
    t.timestamp('created_at', { useTz: true }).notNullable();
    t.timestamp('updated_at', { useTz: true }).notNullable();
  });
  await knex.raw(
    `ALTER TABLE scheduled_actions ADD CONSTRAINT scheduled_actions_status
     CHECK (status IN ('pending', 'done', 'failed'))`,
  );
  await knex.raw(
    `CREATE UNIQUE INDEX scheduled_actions_one_pending ON scheduled_actions (kind, subject_id)
     WHERE status = 'pending'`,
  );
  await knex.raw(`CREATE INDEX scheduled_actions_due ON scheduled_actions (due_at) WHERE status = 'pending'`);

  await knex.schema.alterTable('subscriptions', (t) => {
    t.timestamp('live_checked_at', { useTz: true });
  });
  await knex.raw(
    `CREATE INDEX subscriptions_live ON subscriptions (current_period_end)
     WHERE status IN ('TRIALING', 'ACTIVE', 'PAST_DUE')`,
  );

  await knex.schema.createTable('reconcile_failures', (t) => {
    t.text('kind').notNullable();
    t.text('subject_id').notNullable();
    t.integer('failures').notNullable();
    t.text('last_error').notNullable();
    t.timestamp('given_up_at', { useTz: true });
    t.timestamp('updated_at', { useTz: true }).notNullable();
    t.primary(['kind', 'subject_id']);
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTable('reconcile_failures');
  await knex.raw('DROP INDEX subscriptions_live');
  await knex.schema.alterTable('subscriptions', (t) => t.dropColumn('live_checked_at'));
  await knex.schema.dropTable('scheduled_actions');
}
