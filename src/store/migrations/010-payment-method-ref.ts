import type { Knex } from 'knex';

/**
 * The saved payment method a subscription's merchant-initiated renewals charge (the provider's payment token;
 * never card data). Empty until the first payment saved one.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.alterTable('subscriptions', (t) => {
    t.text('payment_method_ref');
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.alterTable('subscriptions', (t) => {
    t.dropColumn('payment_method_ref');
  });
}
