import type { Knex } from 'knex';

/**
 * A write that changes a subscription sends its id on `billing_subscription_changed` at commit (NOTIFY is
 * transactional: nothing if the transaction rolls back), so each replica's GetSubscription cache drops it
 * (notified-cache.ts). A trigger rather than a statement in the repository: subscriptions are written on the webhook
 * path, where one more statement per change is one more round trip, and a trigger also covers writes made outside
 * the service.
 *
 * Only what a reader sees counts: an insert is not announced (a missing row is never cached), nor an update that
 * changes nothing or only the reconciler's bookkeeping (`reconcile_at`, `live_checked_at`), so the reconciler's
 * sweeps neither empty the caches nor take the commit-time lock a notifying transaction holds.
 */
const SEEN = "- 'reconcile_at' - 'live_checked_at'";

export async function up(knex: Knex): Promise<void> {
  await knex.raw(`
    CREATE FUNCTION billing_subscription_changed() RETURNS trigger
    LANGUAGE plpgsql AS $$
    BEGIN
      PERFORM pg_notify('billing_subscription_changed', OLD.id);
      RETURN NULL;
    END
    $$`);
  await knex.raw(`
    CREATE TRIGGER subscriptions_changed AFTER UPDATE ON subscriptions
    FOR EACH ROW WHEN ((to_jsonb(OLD) ${SEEN}) IS DISTINCT FROM (to_jsonb(NEW) ${SEEN}))
    EXECUTE FUNCTION billing_subscription_changed()`);
  await knex.raw(`
    CREATE TRIGGER subscriptions_deleted AFTER DELETE ON subscriptions
    FOR EACH ROW EXECUTE FUNCTION billing_subscription_changed()`);
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw('DROP TRIGGER subscriptions_deleted ON subscriptions');
  await knex.raw('DROP TRIGGER subscriptions_changed ON subscriptions');
  await knex.raw('DROP FUNCTION billing_subscription_changed()');
}
