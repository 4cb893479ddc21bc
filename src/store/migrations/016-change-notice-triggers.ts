import type { Knex } from 'knex';

/**
 * A committed change to a row the replicas cache sends that row's id on its channel (NOTIFY is transactional: nothing
 * if the transaction rolls back), so every replica's cache drops it (notified-cache.ts, change-notice-listener.ts):
 * - `billing_storefront_changed`: a storefront, or any of its bindings, with the storefront's id;
 * - `billing_subscription_changed`: a subscription.
 * Triggers rather than statements in the repositories: no write pays a round trip for it, and writes made outside
 * the service (by hand, in SQL) are announced too.
 *
 * Only what a reader sees counts. Inserts of storefronts and subscriptions are not announced (a missing row is never
 * cached), nor an update that changes nothing or only the reconciler's bookkeeping on subscriptions (`reconcile_at`,
 * `live_checked_at`): the sweeps neither empty the caches nor take the commit-time lock a notifying transaction holds.
 */
const SUBSCRIPTION_SEEN = "- 'reconcile_at' - 'live_checked_at'";

export async function up(knex: Knex): Promise<void> {
  // Arguments: the channel, and the column holding the cached row's id.
  await knex.raw(`
    CREATE FUNCTION billing_announce_change() RETURNS trigger
    LANGUAGE plpgsql AS $$
    BEGIN
      PERFORM pg_notify(TG_ARGV[0],
        (CASE WHEN TG_OP = 'DELETE' THEN to_jsonb(OLD) ELSE to_jsonb(NEW) END) ->> TG_ARGV[1]);
      RETURN NULL;
    END
    $$`);
  await knex.raw(`
    CREATE TRIGGER storefronts_changed AFTER UPDATE OR DELETE ON storefronts
    FOR EACH ROW EXECUTE FUNCTION billing_announce_change('billing_storefront_changed', 'id')`);
  await knex.raw(`
    CREATE TRIGGER storefront_bindings_changed AFTER INSERT OR UPDATE OR DELETE ON storefront_bindings
    FOR EACH ROW EXECUTE FUNCTION billing_announce_change('billing_storefront_changed', 'storefront_id')`);
  await knex.raw(`
    CREATE TRIGGER subscriptions_changed AFTER UPDATE ON subscriptions
    FOR EACH ROW WHEN ((to_jsonb(OLD) ${SUBSCRIPTION_SEEN}) IS DISTINCT FROM (to_jsonb(NEW) ${SUBSCRIPTION_SEEN}))
    EXECUTE FUNCTION billing_announce_change('billing_subscription_changed', 'id')`);
  await knex.raw(`
    CREATE TRIGGER subscriptions_deleted AFTER DELETE ON subscriptions
    FOR EACH ROW EXECUTE FUNCTION billing_announce_change('billing_subscription_changed', 'id')`);
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw('DROP TRIGGER subscriptions_deleted ON subscriptions');
  await knex.raw('DROP TRIGGER subscriptions_changed ON subscriptions');
  await knex.raw('DROP TRIGGER storefront_bindings_changed ON storefront_bindings');
  await knex.raw('DROP TRIGGER storefronts_changed ON storefronts');
  await knex.raw('DROP FUNCTION billing_announce_change()');
}
