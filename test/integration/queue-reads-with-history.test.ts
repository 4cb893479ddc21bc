import type { Knex } from 'knex';
import { systemClock } from '../../src/ports/clock.port';
import { KnexCustomerRepository } from '../../src/store/customer-repository';
import { KnexEventLog } from '../../src/store/event-log';
import { KnexInvoiceRepository } from '../../src/store/invoice-repository';
import { OutboxRelayStore } from '../../src/store/outbox-relay-store';
import { relayLeadership } from '../../src/store/relay-leadership';
import { KnexScheduledActionQueue } from '../../src/store/scheduled-action-queue';
import { KnexScheduledActions } from '../../src/store/scheduled-actions';
import { KnexSubscriptionRepository } from '../../src/store/subscription-repository';
import { KnexWebhookInbox } from '../../src/store/webhook-inbox';
import { migratedDatabase, withClient } from '../support/test-database';

/** Rows of history (published events, processed webhooks) beside the little work that is due. */
const HISTORY = 20_000;

/**
 * The event log and the webhook inbox keep every row they ever held, so a query that finds the next work by walking
 * that history gets slower for as long as the service runs: at 20,000 rows of history the relay's batch read 19,500
 * rows of published events and each webhook claim 20,000 processed ones. These read a query's rows the way
 * PostgreSQL executed it (EXPLAIN ANALYZE of the prepared statement), with the plan made for its values and with the
 * plan PostgreSQL settles on once the statement has run a few times (possibly a generic one, blind to the values),
 * so a plan that walks the history fails here whatever the machine's speed.
 */
describe('the relay and the inbox read the work that is due, not the history beside it', () => {
  const migrated = migratedDatabase();

  it('reads one batch of the outbox whatever the number of events published before it', async () => {
    await migrated.database.knex.raw(
      `INSERT INTO outbox (event_id, type, stream, key, storefront_id, tenant_id, provider, aggregate_id, sequence,
         occurred_at, payload)
       SELECT 'evt_' || g, 'billing.customer.created', 'customers', 'cus_' || g, 'store', 'tenant', 'subotiz',
         'cus_' || g, 1, now(), '\\x00'::bytea
       FROM generate_series(1, ?) g`,
      [HISTORY],
    );
    // Statistics from before the drain, as autovacuum leaves them between its runs: the queue looks long.
    await migrated.database.knex.raw('ANALYZE outbox, outbox_pending');
    await migrated.database.knex.raw('DELETE FROM outbox_pending WHERE id <= ?', [HISTORY - 600]);
    const store = new OutboxRelayStore(migrated.database.knex, relayLeadership(migrated.database));

    const { result, rowsRead } = await measured(migrated.database.knex, migrated.db.url, () =>
      store.nextBatch(500, [String(HISTORY - 599)]),
    );

    expect(result.map((e) => Number(e.id))).toEqual(range(HISTORY - 598, 500));
    // About two rows an event: its place in the queue and its row in the log.
    for (const plan of ['custom', 'repeated'] as const) expect(rowsRead[plan]).toBeLessThan(3 * 500);
  });

  it('claims the next webhook of a backlog whatever the number processed before it', async () => {
    await migrated.database.knex.raw(
      `INSERT INTO webhook_inbox (provider, storefront_id, provider_event_id, body, status, next_attempt_at,
         received_at, processed_at, ordering_key, sequence)
       SELECT 'subotiz', 'store', 'evt_' || g, '\\x00'::bytea, CASE WHEN g > ? THEN 'PENDING' ELSE 'PROCESSED' END,
         now() - interval '1 minute', now(), now(), 'key_' || g, 1
       FROM generate_series(1, ?) g`,
      [HISTORY, HISTORY + 500],
    );
    await migrated.database.knex.raw('ANALYZE webhook_inbox');
    const inbox = new KnexWebhookInbox(migrated.database.knex);

    const { result, rowsRead } = await measured(migrated.database.knex, migrated.db.url, () =>
      inbox.claimDue(new Date(), 60_000),
    );

    expect(result?.providerEventId).toBe(`evt_${HISTORY + 1}`);
    for (const plan of ['custom', 'repeated'] as const) expect(rowsRead[plan]).toBeLessThan(100);
  });

  it('claims past a key held back behind its failing row without walking the rows behind it', async () => {
    // A provider failing for one key: its first row waits to retry, and every later row of the key is due but must
    // wait for it. Then a row without a key arrives on the same storefront.
    await migrated.database.knex.raw(
      `INSERT INTO webhook_inbox (provider, storefront_id, provider_event_id, body, status, next_attempt_at,
         received_at, ordering_key, sequence)
       SELECT 'subotiz', 'stuck', 'stuck_' || g, '\\x00'::bytea, 'PENDING', now() - interval '1 minute',
         now() - interval '1 minute', 'sub_1', g
       FROM generate_series(1, ?) g`,
      [HISTORY],
    );
    await migrated.database.knex.raw(
      `INSERT INTO webhook_inbox (provider, storefront_id, provider_event_id, body, status, next_attempt_at,
         received_at)
       VALUES ('subotiz', 'stuck', 'free', '\\x00'::bytea, 'PENDING', now() - interval '1 minute', now())`,
    );
    await migrated.database.knex.raw('ANALYZE webhook_inbox');
    const inbox = new KnexWebhookInbox(migrated.database.knex);
    const head = await migrated.database.knex('webhook_inbox').where({ provider_event_id: 'stuck_1' }).first();
    await inbox.scheduleRetry(String(head.id), 1, 'provider unavailable', new Date(Date.now() + 60_000));

    // 'stuck' is the storefront after 'store' (the backlog of the claim test above).
    const { result, rowsRead } = await measured(migrated.database.knex, migrated.db.url, () =>
      inbox.claimDue(new Date(), 60_000, 'store'),
    );

    expect(result?.providerEventId).toBe('free');
    for (const plan of ['custom', 'repeated'] as const) expect(rowsRead[plan]).toBeLessThan(100);
  });

  it('claims past a storefront whose provider is down, without reading its webhooks waiting for a retry', async () => {
    // Every key of 'aaa-down' failed once and waits an hour for its retry, as scheduleRetry leaves a failed row; the
    // storefronts after it (the other tests' backlogs, 'aab-up') have work due. The claim starts at the first
    // storefront, as a lane's turn comes round.
    await migrated.database.knex.raw(
      `INSERT INTO webhook_inbox (provider, storefront_id, provider_event_id, body, status, next_attempt_at,
         received_at, ordering_key, sequence, attempts, waiting)
       SELECT 'subotiz', 'aaa-down', 'down_' || g, '\\x00'::bytea, 'PENDING', now() + interval '1 hour',
         now() - interval '1 minute', 'key_' || g, 1, 1, true
       FROM generate_series(1, ?) g`,
      [HISTORY],
    );
    await migrated.database.knex.raw(
      `INSERT INTO webhook_inbox (provider, storefront_id, provider_event_id, body, status, next_attempt_at,
         received_at)
       VALUES ('subotiz', 'aab-up', 'up', '\\x00'::bytea, 'PENDING', now() - interval '1 minute', now())`,
    );
    await migrated.database.knex.raw('ANALYZE webhook_inbox');
    const inbox = new KnexWebhookInbox(migrated.database.knex);

    const { result, rowsRead } = await measured(migrated.database.knex, migrated.db.url, () =>
      inbox.claimDue(new Date(), 60_000, ''),
    );

    expect(result?.providerEventId).toBe('up');
    for (const plan of ['custom', 'repeated'] as const) expect(rowsRead[plan]).toBeLessThan(100);
    // Their time come, each poll makes up to 1,000 of them claimable again (more than lanes process meanwhile).
    const waiting = async () =>
      Number(
        (await migrated.database.knex('webhook_inbox').where({ waiting: true }).count({ n: '*' }).first())?.n ?? 0,
      );
    const before = await waiting();
    expect(await inbox.wakeDue(new Date(Date.now() + 2 * 3_600_000))).toBe(true);
    expect(before - (await waiting())).toBe(1_000);
    await migrated.database.knex('webhook_inbox').where({ storefront_id: 'aaa-down' }).delete();
  });

  it('marks a webhook processed without reading the rows queued behind it in its key', async () => {
    // A key's backlog draining: each webhook processed releases the rows held back behind it, usually none.
    await migrated.database.knex.raw(
      `INSERT INTO webhook_inbox (provider, storefront_id, provider_event_id, body, status, next_attempt_at,
         received_at, ordering_key, sequence)
       SELECT 'subotiz', 'lined', 'lined_' || g, '\\x00'::bytea, 'PENDING', now(), now(), 'sub_2', g
       FROM generate_series(1, ?) g`,
      [HISTORY],
    );
    await migrated.database.knex.raw('ANALYZE webhook_inbox');
    const inbox = new KnexWebhookInbox(migrated.database.knex);
    const head = await migrated.database.knex('webhook_inbox').where({ provider_event_id: 'lined_1' }).first();

    const { rowsRead } = await measured(migrated.database.knex, migrated.db.url, () =>
      inbox.markProcessed(String(head.id), new Date(), 'applied'),
    );

    for (const plan of ['custom', 'repeated'] as const) expect(rowsRead[plan]).toBeLessThan(100);
  });

  it('purges the webhooks past their retention without walking the ones kept', async () => {
    // Ten received and processed 40 days ago, before the claim test's rows (received now, kept).
    await migrated.database.knex.raw(
      `INSERT INTO webhook_inbox (id, provider, storefront_id, provider_event_id, body, status, received_at,
         processed_at)
       SELECT -g, 'subotiz', 'store', 'evt_old_' || g, '\\x00'::bytea, 'PROCESSED', now() - interval '40 days',
         now() - interval '40 days'
       FROM generate_series(1, 10) g`,
    );
    const inbox = new KnexWebhookInbox(migrated.database.knex);

    const cutoff = new Date(Date.now() - 30 * 86_400_000);
    const { result, rowsRead } = await measured(migrated.database.knex, migrated.db.url, () =>
      inbox.purgeProcessed(cutoff, 1_000),
    );

    expect(result).toBe(10);
    for (const plan of ['custom', 'repeated'] as const) expect(rowsRead[plan]).toBeLessThan(100);
  });

  describe('with a history of finished customers, subscriptions, invoices, scheduled actions and dead letters', () => {
    /** The newest customer's, which only the last rows of each history name. */
    const LAST = HISTORY;

    beforeAll(async () => {
      const sql = (text: string) => migrated.database.knex.raw(text, { n: HISTORY });
      await sql(`INSERT INTO storefronts (id, tenant_id, name, country, default_currency, created_at, updated_at)
                 VALUES ('store', 'tenant', 'Store', 'US', 'USD', now(), now())`);
      await sql(`INSERT INTO plans (id, storefront_id, name, currency, amount_minor, interval_unit, interval_count,
                   status, created_at) VALUES ('plan', 'store', 'Plan', 'USD', 1000, 'MONTH', 1, 'ACTIVE', now())`);
      await sql(`INSERT INTO customers (id, storefront_id, email, email_normalized, provider_refs, created_at, updated_at)
                 SELECT 'cus_' || g, 'store', g || '@example.com', g || '@example.com',
                   jsonb_build_object('subotiz', 'ref_' || g), now(), now()
                 FROM generate_series(1, :n) g`);
      // Canceled, but for the newest five, which are paused.
      await sql(`INSERT INTO subscriptions (id, storefront_id, customer_id, plan_id, provider, status, created_at,
                   updated_at)
                 SELECT 'sub_' || g, 'store', 'cus_' || g, 'plan', 'subotiz',
                   CASE WHEN g > :n - 5 THEN 'PAUSED' ELSE 'CANCELED' END, now(), now()
                 FROM generate_series(1, :n) g`);
      await sql(`INSERT INTO invoices (id, subscription_id, customer_id, currency, amount_minor, type, status,
                   created_at, updated_at)
                 SELECT 'inv_' || g, 'sub_' || g, 'cus_' || g, 'USD', 1000, 'RENEWAL', 'PAID', now(), now()
                 FROM generate_series(1, :n) g`);
      await sql(`INSERT INTO scheduled_actions (id, kind, subject_id, status, due_at, created_at, updated_at)
                 SELECT 'act_' || g, 'cancel-at-period-end', 'sub_' || g,
                   CASE WHEN g > :n - 3 THEN 'failed' ELSE 'done' END, now(), now(), now()
                 FROM generate_series(1, :n) g`);
      // Retried, but for the newest five.
      await sql(`INSERT INTO dead_letters (id, kind, provider, storefront_id, provider_event_id, error, attempts,
                   received_at, last_attempt_at, retried_at)
                 SELECT 'dl_' || lpad(g::text, 6, '0'), 'webhook', 'subotiz', 'store', 'evt_' || g, 'failed', 1, now(),
                   now(), CASE WHEN g <= :n - 5 THEN now() END
                 FROM generate_series(1, :n) g`);
      // The event log's history (the relay's test wrote it) is a day old; another tenant's five events are of now.
      await sql("UPDATE outbox SET occurred_at = now() - interval '1 day'");
      await sql(`INSERT INTO outbox (event_id, type, stream, key, storefront_id, tenant_id, provider, aggregate_id,
                   sequence, occurred_at, payload)
                 SELECT 'evt_b_' || g, 'billing.customer.created', 'customers', 'cus_b_' || g, 'store_b', 'tenant_b',
                   'subotiz', 'cus_b_' || g, 1, now(), '\\x00'::bytea
                 FROM generate_series(1, 5) g`);
      await sql('ANALYZE');
    });

    const reads: [string, () => Promise<unknown>, (result: unknown) => void][] = [
      [
        "a subscription's last scheduled cancellation (UpdateSubscription)",
        () =>
          new KnexScheduledActions(migrated.database.knex, systemClock).latest('cancel-at-period-end', `sub_${LAST}`),
        (action) => expect(action).toMatchObject({ subjectId: `sub_${LAST}`, status: 'failed' }),
      ],
      [
        'the failed scheduled actions (a gauge)',
        () => new KnexScheduledActionQueue(migrated.database.knex).countFailed(),
        (count) => expect(count).toBe(3),
      ],
      [
        'the dead letters not yet retried (ListDeadLetters)',
        () => new KnexWebhookInbox(migrated.database.knex).listDeadLetters({}, { size: 50 }),
        (letters) => expect(letters).toHaveLength(5),
      ],
      [
        "a subscription's invoices (ListInvoices)",
        () => new KnexInvoiceRepository(migrated.database.knex).list({ subscriptionId: `sub_${LAST}` }, { size: 50 }),
        (invoices) => expect(invoices).toMatchObject([{ id: `inv_${LAST}` }]),
      ],
      [
        "a customer's invoices (ListInvoices)",
        () => new KnexInvoiceRepository(migrated.database.knex).list({ customerId: `cus_${LAST}` }, { size: 50 }),
        (invoices) => expect(invoices).toMatchObject([{ id: `inv_${LAST}` }]),
      ],
      [
        "a storefront's subscriptions in one status (ListSubscriptions)",
        () =>
          new KnexSubscriptionRepository(migrated.database.knex).list(
            { storefrontId: 'store', statuses: ['PAUSED'] },
            { size: 50 },
          ),
        (subscriptions) => expect(subscriptions).toHaveLength(5),
      ],
      [
        "a tenant's events (ListEvents from a scoped caller)",
        () => new KnexEventLog(migrated.database.knex).list({ tenantId: 'tenant_b' }, { size: 50 }),
        (events) => expect(events).toHaveLength(5),
      ],
      [
        'the events since an hour ago, after a day of history (ListEvents)',
        () => new KnexEventLog(migrated.database.knex).list({ since: new Date(Date.now() - 3_600_000) }, { size: 50 }),
        (events) => expect(events).toHaveLength(5),
      ],
      [
        "the customer holding a provider's reference (webhooks that adopt or entitle)",
        () => new KnexCustomerRepository(migrated.database.knex).findByProviderRef('store', 'subotiz', `ref_${LAST}`),
        (customer) => expect(customer).toMatchObject({ id: `cus_${LAST}` }),
      ],
    ];

    it.each(reads)('reads %s without walking the history', async (_name, read, check) => {
      const { result, rowsRead } = await measured(migrated.database.knex, migrated.db.url, read);
      check(result);
      for (const plan of ['custom', 'repeated'] as const) expect(rowsRead[plan]).toBeLessThan(100);
    });
  });
});

const range = (from: number, count: number) => Array.from({ length: count }, (_, i) => from + i);

/**
 * Runs `work` (one statement), then that statement again, prepared, under EXPLAIN ANALYZE: once with a plan for its
 * values, and once after five runs, when PostgreSQL may have switched to a generic plan. Answers how many rows each
 * plan's scans read (see rowsOf).
 */
async function measured<T>(
  knex: Knex,
  url: string,
  work: () => Promise<T>,
): Promise<{ result: T; rowsRead: Record<'custom' | 'repeated', number> }> {
  const statements: { sql: string; bindings: unknown[] }[] = [];
  const record = (query: { sql: string; bindings?: unknown[] }) =>
    statements.push({ sql: query.sql, bindings: query.bindings ?? [] });
  knex.on('query', record);
  let result: T;
  try {
    result = await work();
  } finally {
    knex.removeListener('query', record);
  }
  expect(statements).toHaveLength(1);
  const { sql, bindings } = statements[0]!;
  const rowsRead = await withClient(url, async (client) => {
    // A prepared statement, as the service sends it: EXPLAIN of the statement itself would plan it for the values
    // bound to it every time, whatever plan_cache_mode says. EXECUTE takes its values as literals.
    await client.query(`PREPARE measured AS ${sql}`);
    const literal = (value: unknown) =>
      client.escapeLiteral(
        Array.isArray(value) ? `{${value.join(',')}}` : value instanceof Date ? value.toISOString() : String(value),
      );
    const execute = `EXECUTE measured(${bindings.map(literal).join(', ')})`;
    const explain = async (mode: string, runsBefore: number) => {
      await client.query(`SET plan_cache_mode = ${mode}`);
      // In a transaction rolled back after: the claim's FOR UPDATE runs for real under EXPLAIN ANALYZE.
      await client.query('BEGIN');
      try {
        for (let i = 0; i < runsBefore; i++) await client.query(execute);
        const { rows } = await client.query(`EXPLAIN (ANALYZE, FORMAT JSON) ${execute}`);
        return rowsOf((rows[0] as { 'QUERY PLAN': [{ Plan: PlanNode }] })['QUERY PLAN'][0].Plan);
      } finally {
        await client.query('ROLLBACK');
      }
    };
    // PostgreSQL weighs a generic plan against the custom ones from a prepared statement's sixth run on.
    return { custom: await explain('force_custom_plan', 0), repeated: await explain('auto', 5) };
  });
  return { result: result!, rowsRead };
}

interface PlanNode {
  'Node Type': string;
  'Actual Rows': number;
  'Actual Loops': number;
  'Rows Removed by Filter'?: number;
  'Rows Removed by Join Filter'?: number;
  'Rows Removed by Index Recheck'?: number;
  Plans?: PlanNode[];
}

/** What the plan's scans of tables and indexes read, kept or filtered out, over all their loops (EXPLAIN's counts
 * are per loop). */
function rowsOf(node: PlanNode): number {
  const scanned = TABLE_SCANS.has(node['Node Type'])
    ? (node['Actual Rows'] + (node['Rows Removed by Filter'] ?? 0) + (node['Rows Removed by Index Recheck'] ?? 0)) *
      node['Actual Loops']
    : 0;
  return scanned + (node.Plans ?? []).reduce((sum, child) => sum + rowsOf(child), 0);
}

const TABLE_SCANS = new Set(['Seq Scan', 'Index Scan', 'Index Only Scan', 'Bitmap Heap Scan', 'Tid Scan']);
