import type { Knex } from 'knex';

/**
 * Whether a subscription's `provider_observed_at` came from a webhook (the provider's own order of reports) rather
 * than a fetch or the answer to our own call: the next webhook of its ordering key follows a report's state even
 * within one instant, but not our calls' answers (subscription-lifecycle.ts). Existing rows say no, which only makes
 * such a tie ask the provider once.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.alterTable('subscriptions', (t) => {
    t.boolean('provider_observed_in_report').notNullable().defaultTo(false);
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.alterTable('subscriptions', (t) => {
    t.dropColumn('provider_observed_in_report');
  });
}
