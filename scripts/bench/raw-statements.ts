/**
 * The database baselines: the statements of our use cases (read from `DEBUG=knex:query` of the service and
 * src/store), sent by raw `pg` with no code of ours around them. CreateCustomer's are the 10 it sent when issue 13
 * set its target; it now sends one, so that row compares with the old work, not like for like. They write into `bench_raw_*` copies of our
 * tables (`LIKE … INCLUDING ALL`: same columns, defaults, indexes, checks; foreign keys are not copied, so the
 * baseline skips their lookups) and read the real storefront, customer and plan rows.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import type { Pool, PoolClient } from 'pg';
import type { EmulatorTarget } from './load-job';

/** Our tables the baselines write copies of. */
const COPIED = [
  'idempotency_keys',
  'customers',
  'event_sequences',
  'outbox',
  'audit_log',
  'subscriptions',
  'checkout_sessions',
  'webhook_inbox',
];

/** Creates the empty `bench_raw_*` copies (after the service has migrated the database). */
export async function createRawTables(pool: Pool): Promise<void> {
  for (const table of COPIED) await pool.query(`CREATE TABLE bench_raw_${table} (LIKE ${table} INCLUDING ALL)`);
  await pool.query('CREATE TABLE bench_raw_webhooks (id bigserial PRIMARY KEY, body bytea NOT NULL)');
}

/** An event's protobuf payload is a few hundred bytes; the baseline writes as many. */
const PAYLOAD = randomBytes(320);
const TRACEPARENT = `00-${randomBytes(16).toString('hex')}-${randomBytes(8).toString('hex')}-01`;

const STOREFRONT_WITH_BINDING = `SELECT s.*, b.provider, b.provider_config, b.secret_refs, b.valid_from, b.valid_until,
  b.actor, b.reason FROM storefronts s JOIN storefront_bindings b ON b.storefront_id = s.id AND b.valid_until IS NULL
  WHERE s.id = $1 LIMIT 1`;

/** The idempotency claim: its own statement before the use case's transaction (src/store/idempotency-store.ts). */
async function claim(db: Pool, key: string, method: string): Promise<string> {
  const owner = randomUUID();
  await db.query(
    `INSERT INTO bench_raw_idempotency_keys (created_at, expires_at, key, locked_until, method, owner, request_hash,
       scope, state) VALUES (now(), now() + interval '24 hours', $1, now() + make_interval(secs => 10), $2, $3, $4,
       'bench', 'IN_FLIGHT') ON CONFLICT (scope, key) DO NOTHING RETURNING key`,
    [key, method, owner, randomBytes(32).toString('hex')],
  );
  return owner;
}

/** Event sequence, outbox row and audit row, as record-change writes them (src/store/outbox-writer.ts, audit-writer.ts). */
async function recordChange(tx: PoolClient, storefrontId: string, aggregateId: string, type: string, action: string) {
  const sequence = await tx.query(
    `INSERT INTO bench_raw_event_sequences (key, last_sequence) VALUES ($1, 1) ON CONFLICT (key) DO UPDATE
     SET last_sequence = bench_raw_event_sequences.last_sequence + 1 RETURNING last_sequence`,
    [aggregateId],
  );
  await tx.query(
    `INSERT INTO bench_raw_outbox (aggregate_id, event_id, key, occurred_at, payload, provider, sequence,
       storefront_id, stream, tenant_id, traceparent, tracestate, type)
     VALUES ($1, $2, $1, now(), $3, 'subotiz', $4, $5, 'bench', 'bench', $6, NULL, $7)`,
    [
      aggregateId,
      `evt_${randomBytes(13).toString('hex')}`,
      PAYLOAD,
      sequence.rows[0].last_sequence,
      storefrontId,
      TRACEPARENT,
      type,
    ],
  );
  await tx.query(
    `INSERT INTO bench_raw_audit_log (action, actor, correlation_id, details, occurred_at, resource_id, resource_type,
       storefront_id) VALUES ($1, 'bench', $2, '{}', now(), $3, 'bench', $4)`,
    [action, randomBytes(16).toString('hex'), aggregateId, storefrontId],
  );
}

async function complete(tx: PoolClient, key: string, owner: string): Promise<void> {
  await tx.query(
    `UPDATE bench_raw_idempotency_keys SET state = 'DONE', response = $1
     WHERE scope = 'bench' AND key = $2 AND owner = $3 AND state = 'IN_FLIGHT'`,
    [PAYLOAD, key, owner],
  );
}

async function inTransaction(db: Pool, work: (tx: PoolClient) => Promise<void>): Promise<void> {
  const tx = await db.connect();
  try {
    await tx.query('BEGIN');
    await work(tx);
    await tx.query('COMMIT');
  } catch (error) {
    await tx.query('ROLLBACK').catch(() => undefined);
    throw error;
  } finally {
    tx.release();
  }
}

/**
 * CreateCustomer with an idempotency key: the claim, then BEGIN, storefront + binding select, customer select by
 * email, customer insert, sequence upsert, outbox insert, audit insert, idempotency response update, COMMIT.
 */
export async function rawCreateCustomer(db: Pool, storefrontId: string, run: string, i: number): Promise<void> {
  const key = `raw-customer-${run}-${i}`;
  const owner = await claim(db, key, 'CreateCustomer');
  const email = `raw-${run}-${i}@example.com`;
  await inTransaction(db, async (tx) => {
    await tx.query(STOREFRONT_WITH_BINDING, [storefrontId]);
    await tx.query('SELECT * FROM bench_raw_customers WHERE storefront_id = $1 AND email_normalized = $2 LIMIT 1', [
      storefrontId,
      email,
    ]);
    const id = `cus_${randomBytes(13).toString('hex')}`;
    await tx.query(
      `INSERT INTO bench_raw_customers (address, country, created_at, email, email_normalized, external_ref, id, name,
         phone, provider_refs, storefront_id, updated_at, version)
       VALUES (NULL, 'DE', now(), $1, $1, $2, $3, 'Ada', '', '{}', $4, now(), 1)
       ON CONFLICT (storefront_id, email_normalized) DO NOTHING RETURNING id`,
      [email, `user-${i}`, id, storefrontId],
    );
    await recordChange(tx, storefrontId, id, 'billing.customer.created', 'CreateCustomer');
    await complete(tx, key, owner);
  });
}

/**
 * CreateCheckoutSession with an idempotency key: the claim, storefront + binding, customer and plan selects, the
 * recorded provider effect, one POST /api/v1/session to the emulator, then BEGIN, subscription insert, sequence
 * upsert, outbox insert, audit insert, checkout session insert, idempotency response update, COMMIT.
 */
export async function rawCreateCheckout(
  db: Pool,
  target: { storefrontId: string; planId: string; customerId: string; emulator: EmulatorTarget },
  i: number,
): Promise<void> {
  const key = `raw-checkout-${randomBytes(6).toString('hex')}-${i}`;
  const owner = await claim(db, key, 'CreateCheckoutSession');
  await db.query(STOREFRONT_WITH_BINDING, [target.storefrontId]);
  await db.query('SELECT * FROM customers WHERE id = $1 LIMIT 1', [target.customerId]);
  await db.query('SELECT * FROM plans WHERE id = $1 LIMIT 1', [target.planId]);
  const subscriptionId = `sub_${randomBytes(13).toString('hex')}`;
  await db.query(
    `UPDATE bench_raw_idempotency_keys SET effect = $1
     WHERE scope = 'bench' AND key = $2 AND owner = $3 AND state = 'IN_FLIGHT'`,
    [JSON.stringify({ kind: 'checkout', subscription_id: subscriptionId }), key, owner],
  );
  const sessionRef = await createEmulatorSession(target.emulator, subscriptionId, target.customerId, randomUUID());
  await inTransaction(db, async (tx) => {
    await tx.query(
      `INSERT INTO bench_raw_subscriptions (cancel_at_period_end, canceled_at, checkout_expires_at,
         checkout_session_ref, checkout_url, created_at, current_period_end, current_period_start, customer_id,
         ended_at, id, payment_method_ref, plan_id, provider, provider_observed_at, provider_observed_in_report,
         provider_ref, quantity, reconcile_at, status, storefront_id, trial_end, updated_at, version)
       VALUES (false, NULL, now() + interval '1 day', $1, 'https://pay.example/s', now(), NULL, NULL, $2, NULL, $3,
         '', $4, 'subotiz', NULL, false, NULL, 1, NULL, 'INCOMPLETE', $5, NULL, now(), 1)
       ON CONFLICT (id) DO NOTHING RETURNING id`,
      [sessionRef, target.customerId, subscriptionId, target.planId, target.storefrontId],
    );
    await recordChange(
      tx,
      target.storefrontId,
      subscriptionId,
      'billing.subscription.created',
      'CreateCheckoutSession',
    );
    await tx.query(
      `INSERT INTO bench_raw_checkout_sessions (check_at, created_at, expires_at, failure_code, failure_message, id,
         next_action, payment_id, provider, provider_ref, status, storefront_id, subscription_id, updated_at)
       VALUES (NULL, now(), now() + interval '1 day', NULL, NULL, $1, '{"redirect_url":"https://pay.example/s"}',
         NULL, 'subotiz', $2, 'OPEN', $3, $4, now())
       ON CONFLICT (provider, provider_ref) DO NOTHING RETURNING id`,
      [`cs_${randomBytes(13).toString('hex')}`, sessionRef, target.storefrontId, subscriptionId],
    );
    await complete(tx, key, owner);
  });
}

/** The one provider call of a checkout, as adapters/subotiz sends it (bearer auth, JSON body, Request-Id). */
async function createEmulatorSession(
  emulator: EmulatorTarget,
  orderId: string,
  payerId: string,
  requestId: string,
): Promise<string> {
  const response = await fetch(`${emulator.url}/api/v1/session`, {
    method: 'POST',
    headers: {
      'Content-Type': 'application/json',
      Accept: 'application/json',
      'Request-Id': requestId,
      Authorization: `Bearer ${emulator.apiKey}`,
    },
    body: JSON.stringify({
      access_no: emulator.accessNo,
      sub_merchant_id: emulator.subMerchantId,
      order_id: orderId,
      payer_id: payerId,
      integration_method: 'hosted',
      return_url: 'https://shop.example/thanks',
      cancel_url: 'https://shop.example/cart',
      mode: 'checkout',
      line_items: [{ price_id: emulator.priceId, quantity: '1' }],
    }),
  });
  const text = await response.text();
  if (!response.ok) throw new Error(`emulator POST /api/v1/session → ${response.status}: ${text}`);
  const session = (JSON.parse(text) as { data: { session_id?: string; id?: string } }).data;
  return session.session_id ?? session.id!;
}

/**
 * One webhook processed to the outbox, as the inbox worker's transaction does it at its simplest: BEGIN, claim the
 * oldest due row (FOR UPDATE SKIP LOCKED), one event (sequence upsert, outbox insert, audit insert), mark the row
 * processed, COMMIT. False when none was left.
 */
export async function rawProcessWebhook(db: Pool): Promise<boolean> {
  let claimed = false;
  await inTransaction(db, async (tx) => {
    const row = await tx.query(
      `SELECT * FROM bench_raw_webhook_inbox WHERE status = 'PENDING' AND next_attempt_at <= now()
       ORDER BY id LIMIT 1 FOR UPDATE SKIP LOCKED`,
    );
    if (row.rowCount === 0) return;
    claimed = true;
    const id = String(row.rows[0].id);
    await recordChange(tx, 'bench', `sub_${id}`, 'billing.subscription.activated', 'webhook');
    await tx.query(
      `UPDATE bench_raw_webhook_inbox SET status = 'PROCESSED', processed_at = now(), last_error = NULL,
       outcome = 'raw' WHERE id = $1`,
      [id],
    );
  });
  return claimed;
}
