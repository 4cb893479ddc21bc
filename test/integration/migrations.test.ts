import knexFactory, { Knex } from 'knex';
import { openDatabase } from '../../src/store/database';
import { migrateDownAll, migrateToLatest } from '../../src/store/migrate';
import { createTestDatabase, TestDatabase } from '../support/test-database';

const MODEL_TABLES = [
  'storefronts',
  'storefront_bindings',
  'plans',
  'customers',
  'subscriptions',
  'payments',
  'refunds',
  'invoices',
  'entitlements',
  'usage_records',
  'webhook_inbox',
  'dead_letters',
  'outbox',
  'event_sequences',
  'idempotency_keys',
  'audit_log',
  'scheduled_actions',
  'reconcile_failures',
  'checkout_sessions',
  'webhook_order_positions',
];

/** Every migration, in the order they apply. */
const MIGRATIONS = [
  '001-initial',
  '002-subscription-engine',
  '003-reconciliation',
  '004-idempotency-scope',
  '005-outbox-parking',
  '006-webhook-scope',
  '007-inbox-ordering',
  '008-scheduled-actions',
  '009-checkout-sessions',
  '010-payment-method-ref',
  '011-upgrade-invoices-per-cycle',
  '012-webhook-order-positions',
  '013-drop-relay-lease',
  '014-event-sequence-field',
  '015-abort-statement',
  '016-change-notice-triggers',
];

async function tables(knex: Knex): Promise<string[]> {
  const result = await knex.raw(
    "SELECT tablename FROM pg_tables WHERE schemaname = 'public' AND tablename NOT LIKE 'knex_%'",
  );
  return result.rows.map((r: { tablename: string }) => r.tablename).sort();
}

/** Up, down, and up again: the schema is complete, the rollback leaves nothing, and re-applying works. */
async function roundTrip(knex: Knex): Promise<void> {
  expect(await migrateToLatest(knex)).toEqual(MIGRATIONS);
  expect(await tables(knex)).toEqual([...MODEL_TABLES].sort());
  expect(await migrateToLatest(knex)).toEqual([]);
  await migrateDownAll(knex);
  expect(await tables(knex)).toEqual([]);
  expect(await migrateToLatest(knex)).toEqual(MIGRATIONS);
}

describe('migrations', () => {
  it('run up and down on PostgreSQL', async () => {
    const db: TestDatabase = await createTestDatabase();
    const knex = knexFactory({ client: 'pg', connection: db.url });
    try {
      await roundTrip(knex);
    } finally {
      await knex.destroy();
      await db.drop();
    }
  });

  it('run once when several replicas start together on a new database', async () => {
    const db: TestDatabase = await createTestDatabase();
    const replicas = Array.from({ length: 4 }, () => openDatabase({ databaseUrl: db.url, dataDir: ':memory:' }));
    try {
      const applied = await Promise.all(replicas.map((replica) => migrateToLatest(replica.knex)));
      // One replica applied everything; the others waited for it and found the schema current.
      expect(applied.filter((list) => list.length > 0)).toEqual([MIGRATIONS]);
      expect(await tables(replicas[0]!.knex)).toEqual([...MODEL_TABLES].sort());
    } finally {
      await Promise.all(replicas.map((replica) => replica.close()));
      await db.drop();
    }
  });

  it('run up and down on embedded PGlite', async () => {
    const database = openDatabase({ dataDir: ':memory:' });
    try {
      await roundTrip(database.knex);
    } finally {
      await database.close();
    }
  });
});
