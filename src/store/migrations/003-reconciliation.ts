import type { Knex } from 'knex';

/**
 * What the reconciler needs. One-time payments remember their hosted checkout, so an abandoned one can be closed.
 * `reconcile_at` (subscriptions, payments) is when the reconciler next asks the provider about an open checkout:
 * its expiry at first, later again while the provider still calls it open. `last_checked_at` (refunds) is when a
 * pending refund was requested or last asked about. Both are the reconciler's own bookkeeping, so the rows' real
 * times (checkout expiry, update time) keep their meaning. Partial indexes hold only the rows a sweep looks at.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.alterTable('subscriptions', (t) => {
    t.timestamp('reconcile_at', { useTz: true });
  });
  await knex.schema.alterTable('payments', (t) => {
    t.text('checkout_session_ref');
    t.timestamp('checkout_expires_at', { useTz: true });
    t.timestamp('reconcile_at', { useTz: true });
  });
  await knex.schema.alterTable('refunds', (t) => {
    t.timestamp('last_checked_at', { useTz: true });
  });
  // Checkouts opened before this migration: ask about them at their expiry, or a day after they were opened.
  await knex.raw(
    `UPDATE subscriptions SET reconcile_at = coalesce(checkout_expires_at, created_at + interval '1 day')
     WHERE status = 'INCOMPLETE'`,
  );
  await knex.raw(`UPDATE refunds SET last_checked_at = created_at WHERE status = 'PENDING'`);
  await knex.raw(
    `CREATE INDEX subscriptions_reconcile ON subscriptions (reconcile_at)
     WHERE status = 'INCOMPLETE' AND reconcile_at IS NOT NULL`,
  );
  await knex.raw(
    `CREATE INDEX payments_reconcile ON payments (reconcile_at)
     WHERE status = 'REQUIRES_PAYMENT_METHOD' AND reconcile_at IS NOT NULL`,
  );
  await knex.raw(`CREATE INDEX refunds_reconcile ON refunds (last_checked_at) WHERE status = 'PENDING'`);
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw('DROP INDEX refunds_reconcile');
  await knex.raw('DROP INDEX payments_reconcile');
  await knex.raw('DROP INDEX subscriptions_reconcile');
  await knex.schema.alterTable('refunds', (t) => t.dropColumn('last_checked_at'));
  await knex.schema.alterTable('payments', (t) => {
    t.dropColumn('checkout_session_ref');
    t.dropColumn('checkout_expires_at');
    t.dropColumn('reconcile_at');
  });
  await knex.schema.alterTable('subscriptions', (t) => t.dropColumn('reconcile_at'));
}
