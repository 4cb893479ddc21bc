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
import * as webhookOrderPositions from './migrations/012-webhook-order-positions';
import * as dropRelayLease from './migrations/013-drop-relay-lease';
import * as eventSequenceField from './migrations/014-event-sequence-field';
import * as abortStatement from './migrations/015-abort-statement';
import * as changeNoticeTriggers from './migrations/016-change-notice-triggers';
import * as outboxPending from './migrations/017-outbox-pending';
import * as observedInReport from './migrations/018-observed-in-report';
import * as readsWithoutHistory from './migrations/019-reads-without-history';
import * as inboxRetention from './migrations/020-inbox-retention';
import * as storefrontTurns from './migrations/021-storefront-turns';
import * as heldBackRows from './migrations/022-held-back-rows';
import * as waitingRetries from './migrations/023-waiting-retries';

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
  '012-webhook-order-positions': webhookOrderPositions,
  '013-drop-relay-lease': dropRelayLease,
  '014-event-sequence-field': eventSequenceField,
  '015-abort-statement': abortStatement,
  '016-change-notice-triggers': changeNoticeTriggers,
  '017-outbox-pending': outboxPending,
  '018-observed-in-report': observedInReport,
  '019-reads-without-history': readsWithoutHistory,
  '020-inbox-retention': inboxRetention,
  '021-storefront-turns': storefrontTurns,
  '022-held-back-rows': heldBackRows,
  '023-waiting-retries': waitingRetries,
};

const source: Knex.MigrationSource<string> = {
  getMigrations: async () => Object.keys(MIGRATIONS).sort(),
  getMigrationName: (name) => name,
  getMigration: async (name) => MIGRATIONS[name]!,
};

const config: Knex.MigratorConfig = { migrationSource: source, tableName: 'knex_migrations' };

/**
 * Replicas starting together on a new database would race knex's own bookkeeping: it checks for its migration tables
 * and creates them without a lock (the loser dies on 42P07), and only then takes its lock row. So on PostgreSQL the
 * whole run happens under one advisory lock, held by a transaction that stays open (idle) on its own connection
 * while the migrations run on others; a replica that waits finds the schema current. PGlite serves one process,
 * and a single connection (PGlite's, or DATABASE_POOL_MAX=1) could not hold the lock and migrate at once.
 */
const MIGRATION_LOCK = 'billing-adapter:migrations';

/** Brings the schema up to date. Safe to call from every replica at once. */
export async function migrateToLatest(knex: Knex): Promise<string[]> {
  const latest = async () => ((await knex.migrate.latest(config)) as [number, string[]])[1];
  if (!canHoldLockWhileMigrating(knex)) return latest();
  return knex.transaction(async (lock) => {
    await lock.raw('SELECT pg_advisory_xact_lock(hashtext(?))', [MIGRATION_LOCK]);
    return latest();
  });
}

function canHoldLockWhileMigrating(knex: Knex): boolean {
  // The pg family (ours names its statements, see prepared-statements.ts; PGlite's is pinned to one connection).
  const client = knex.client as { dialect?: string; config?: { pool?: { max?: number } } };
  return client.dialect === 'postgresql' && (client.config?.pool?.max ?? 1) >= 2;
}

/** Rolls back every migration (tests, and `npm run migrate -- down`). */
export async function migrateDownAll(knex: Knex): Promise<void> {
  await knex.migrate.rollback(config, true);
}
