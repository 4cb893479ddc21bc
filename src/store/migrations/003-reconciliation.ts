import type { Knex } from 'knex';

/**
 * What the reconciler sweeps need: one-time payments remember their hosted checkout (so an abandoned one can be
 * closed), and partial indexes find the few rows a sweep looks at (open checkouts past expiry, pending refunds)
 * without scanning the tables.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.alterTable('payments', (t) => {
    t.text('checkout_session_ref');
    t.timestamp('checkout_expires_at', { useTz: true });
  });
  await knex.raw(
    `create index subscriptions_open_checkouts on subscriptions (checkout_expires_at) where status = 'INCOMPLETE'`,
  );
  await knex.raw(
    `create index payments_open_checkouts on payments (checkout_expires_at) where status = 'REQUIRES_PAYMENT_METHOD'`,
  );
  await knex.raw(`create index refunds_pending on refunds (updated_at) where status = 'PENDING'`);
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw('drop index refunds_pending');
  await knex.raw('drop index payments_open_checkouts');
  await knex.raw('drop index subscriptions_open_checkouts');
  await knex.schema.alterTable('payments', (t) => {
    t.dropColumn('checkout_session_ref');
    t.dropColumn('checkout_expires_at');
  });
}
