import type { Knex } from 'knex';

/**
 * Every write to a subscription row sends its id on `billing_subscription_changed` at commit (NOTIFY is transactional:
 * nothing if the transaction rolls back), so each replica's GetSubscription cache drops it (notified-cache.ts). A
 * trigger rather than a statement in the repository: subscriptions are written on the webhook path, where one more
 * statement per change is one more round trip, and a trigger also covers writes made outside the service.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.raw(`
    CREATE FUNCTION billing_subscription_changed() RETURNS trigger
    LANGUAGE plpgsql AS $$
    BEGIN
      PERFORM pg_notify('billing_subscription_changed', coalesce(NEW.id, OLD.id));
      RETURN NULL;
    END
    $$`);
  await knex.raw(`
    CREATE TRIGGER subscriptions_changed AFTER INSERT OR UPDATE OR DELETE ON subscriptions
    FOR EACH ROW EXECUTE FUNCTION billing_subscription_changed()`);
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw('DROP TRIGGER subscriptions_changed ON subscriptions');
  await knex.raw('DROP FUNCTION billing_subscription_changed()');
}
