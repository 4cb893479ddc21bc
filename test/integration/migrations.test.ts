import knexFactory, { Knex } from 'knex';
import { openDatabase } from '../../src/store/database';
import { migrateDownAll, migrateToLatest } from '../../src/store/migrate';
import * as outboxPending from '../../src/store/migrations/017-outbox-pending';
import * as readsWithoutHistory from '../../src/store/migrations/019-reads-without-history';
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
  'outbox_pending',
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
  '017-outbox-pending',
  '018-observed-in-report',
  '019-reads-without-history',
  '020-inbox-retention',
  '021-storefront-turns',
  '022-held-back-rows',
  '023-waiting-retries',
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

  it("carry the relay's queue across 017-outbox-pending, both ways: published, waiting and parked events", async () => {
    const db: TestDatabase = await createTestDatabase();
    const knex = knexFactory({ client: 'pg', connection: db.url });
    const state = async () =>
      (
        await knex.raw(`SELECT o.event_id, p.id IS NOT NULL AS pending, p.parked_at IS NOT NULL AS parked
          FROM outbox o LEFT JOIN outbox_pending p USING (id) ORDER BY o.id`)
      ).rows;
    try {
      await migrateToLatest(knex);
      // Inserting queues each event (the trigger); then one is published and one parked.
      await knex.raw(`INSERT INTO outbox (event_id, type, stream, key, storefront_id, tenant_id, aggregate_id,
          sequence, occurred_at, payload)
        SELECT 'evt_' || g, 'billing.customer.created', 'customers', 'cus_' || g, 'store', 'tenant', 'cus_' || g, 1,
          now(), '\\x00'::bytea
        FROM generate_series(1, 3) g`);
      await knex.raw("DELETE FROM outbox_pending WHERE id = (SELECT id FROM outbox WHERE event_id = 'evt_1')");
      await knex.raw(`UPDATE outbox_pending SET parked_at = now()
        WHERE id = (SELECT id FROM outbox WHERE event_id = 'evt_3')`);
      const expected = [
        { event_id: 'evt_1', pending: false, parked: false },
        { event_id: 'evt_2', pending: true, parked: false },
        { event_id: 'evt_3', pending: true, parked: true },
      ];
      expect(await state()).toEqual(expected);

      await outboxPending.down(knex);
      const columns = await knex.raw(
        'SELECT event_id, published_at IS NOT NULL AS published, parked_at IS NOT NULL AS parked FROM outbox ORDER BY id',
      );
      expect(columns.rows).toEqual([
        { event_id: 'evt_1', published: true, parked: false },
        { event_id: 'evt_2', published: false, parked: false },
        { event_id: 'evt_3', published: false, parked: true },
      ]);

      await outboxPending.up(knex);
      expect(await state()).toEqual(expected);
    } finally {
      await knex.destroy();
      await db.drop();
    }
  });

  it('find an index of 019-reads-without-history an operator built beforehand, concurrently, and keep it', async () => {
    const db: TestDatabase = await createTestDatabase();
    const knex = knexFactory({ client: 'pg', connection: db.url });
    const [name, definition] = readsWithoutHistory.INDEXES[0]!;
    const indexOid = async () => (await knex.raw('SELECT ?::regclass::oid AS oid', [name])).rows[0].oid as number;
    try {
      await migrateToLatest(knex);
      await readsWithoutHistory.down(knex);
      // As the README tells an operator to, from the migration's list.
      await knex.raw(`CREATE INDEX CONCURRENTLY IF NOT EXISTS ${name} ON ${definition}`);
      const built = await indexOid();

      await readsWithoutHistory.up(knex);

      expect(await indexOid()).toBe(built);
    } finally {
      await knex.destroy();
      await db.drop();
    }
  });
});
