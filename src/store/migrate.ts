import type { Knex } from 'knex';
import * as initial from './migrations/001-initial';
import * as subscriptionEngine from './migrations/002-subscription-engine';
import * as reconciliation from './migrations/003-reconciliation';
import * as idempotencyScope from './migrations/004-idempotency-scope';
import * as outboxParking from './migrations/005-outbox-parking';
import * as webhookScope from './migrations/006-webhook-scope';
import * as inboxOrdering from './migrations/007-inbox-ordering';
import * as scheduledActions from './migrations/008-scheduled-actions';
import * as checkoutSessions from './migrations/009-checkout-sessions';
import * as paymentMethodRef from './migrations/010-payment-method-ref';
import * as upgradeInvoices from './migrations/011-upgrade-invoices-per-cycle';

/** Migrations in order. Listed here (not globbed from disk) so they run the same under tsx, jest and a build. */
const MIGRATIONS: Record<string, Knex.Migration> = {
  '001-initial': initial,
  '002-subscription-engine': subscriptionEngine,
  '003-reconciliation': reconciliation,
  '004-idempotency-scope': idempotencyScope,
  '005-outbox-parking': outboxParking,
  '006-webhook-scope': webhookScope,
  '007-inbox-ordering': inboxOrdering,
  '008-scheduled-actions': scheduledActions,
  '009-checkout-sessions': checkoutSessions,
  '010-payment-method-ref': paymentMethodRef,
  '011-upgrade-invoices-per-cycle': upgradeInvoices,
};

const source: Knex.MigrationSource<string> = {
  getMigrations: async () => Object.keys(MIGRATIONS).sort(),
  getMigrationName: (name) => name,
  getMigration: async (name) => MIGRATIONS[name]!,
};

const config: Knex.MigratorConfig = { migrationSource: source, tableName: 'knex_migrations' };

/** Brings the schema up to date. Safe to call from every replica: knex takes a migration lock. */
export async function migrateToLatest(knex: Knex): Promise<string[]> {
  const [, applied] = (await knex.migrate.latest(config)) as [number, string[]];
  return applied;
}

/** Rolls back every migration (tests, and `npm run migrate -- down`). */
export async function migrateDownAll(knex: Knex): Promise<void> {
  await knex.migrate.rollback(config, true);
}
