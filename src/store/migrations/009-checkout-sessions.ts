import type { Knex } from 'knex';

/**
 * Checkout sessions as objects of their own (`cs_…`), so a caller can follow one (GetCheckoutSession) through
 * PROCESSING and a 3-D Secure step to COMPLETE, EXPIRED or FAILED, whichever provider runs it. A session sells
 * exactly one subscription or one payment. The provider's session ref is unique per provider, so a replayed
 * checkout finds the row its first attempt wrote. `check_at` is when to ask the provider again (its Retry-After).
 * Subscriptions' and payments' own `checkout_session_ref` columns stay: the reconciler reads them.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('checkout_sessions', (t) => {
    t.text('id').primary();
    t.text('storefront_id').notNullable().references('storefronts.id');
    t.text('provider').notNullable();
    t.text('provider_ref').notNullable();
    t.text('subscription_id').references('subscriptions.id');
    t.text('payment_id').references('payments.id');
    t.text('status').notNullable();
    t.jsonb('next_action');
    t.timestamp('expires_at', { useTz: true });
    t.timestamp('check_at', { useTz: true });
    t.text('failure_code');
    t.text('failure_message');
    t.timestamp('created_at', { useTz: true }).notNullable();
    t.timestamp('updated_at', { useTz: true }).notNullable();
    t.unique(['provider', 'provider_ref']);
    t.index(['subscription_id']);
    t.index(['payment_id']);
  });
  await knex.raw(
    `ALTER TABLE checkout_sessions ADD CONSTRAINT checkout_sessions_sells_one
     CHECK ((subscription_id IS NULL) <> (payment_id IS NULL))`,
  );
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTable('checkout_sessions');
}
