import { performance } from 'node:perf_hooks';
import type { Pool } from 'pg';
import { emulatorControl } from '../../test/support/emulator-control';
import type { LoadGenerator } from './load-generator';
import { until } from './ports';
import { WEBHOOK_LANES } from './world';
import type { Run } from './stats';

export interface ProcessingResult {
  webhooks: number;
  events: number;
  perSecond: number;
  baseline: Run;
}

/**
 * Webhook processing to the outbox, as a drain rate. Pre-load: `sessions` (open checkout sessions of the checkout
 * path, by provider reference) are paid on the emulator, which sends its webhooks (session completed, subscription,
 * payment …) to the service's real ingress, while the bench holds an EXCLUSIVE lock on the outbox so no webhook can
 * finish processing. Then the lock goes and the inbox worker drains: webhooks/s from the release to the last one
 * processed. Baseline: the same rows copied into `bench_raw_webhook_inbox`, drained by raw pg one transaction per
 * webhook (raw-statements.ts), as many at a time as the worker has lanes. With `providerDelayMs`, every call the service makes to the emulator
 * while it drains answers that much later, as a provider over the internet would: what the worker's lanes
 * (WEBHOOK_WORKERS) are for.
 */
export async function measureWebhookProcessing(
  db: Pool,
  emulatorUrl: string,
  sessions: string[],
  load: LoadGenerator,
  databaseUrl: string,
  providerDelayMs = 0,
): Promise<ProcessingResult> {
  const before = await db.query<{ inbox: string; outbox: string }>(
    `SELECT (SELECT coalesce(max(id), 0) FROM webhook_inbox)::text AS inbox,
            (SELECT coalesce(max(id), 0) FROM outbox)::text AS outbox`,
  );
  const { inbox: inboxBefore, outbox: outboxBefore } = before.rows[0]!;
  const lock = await db.connect();
  let timed: number;
  let started: number;
  try {
    await lock.query('BEGIN');
    await lock.query('LOCK TABLE outbox IN EXCLUSIVE MODE');
    for (const ref of sessions) await emulatorControl(emulatorUrl, `/sessions/${ref}/complete`, {});
    const arrived = async () =>
      (await db.query<{ n: number }>('SELECT count(*)::int AS n FROM webhook_inbox WHERE id > $1', [inboxBefore]))
        .rows[0]!.n;
    // The emulator delivers in order, one at a time: pre-loaded once the count stops growing.
    let last = -1;
    await until(
      async () => {
        const now = await arrived();
        const settled = now === last && now >= sessions.length;
        last = now;
        return settled;
      },
      'the emulator to deliver its webhooks',
      120_000,
      500,
    );
    timed = await pending(db, inboxBefore);
    // A real provider answers in tens of milliseconds, not the loopback emulator's one: every API call waits as long.
    if (providerDelayMs > 0) {
      await emulatorControl(emulatorUrl, '/faults', { count: 1_000_000, status: 200, delay_ms: providerDelayMs });
    }
    started = performance.now();
    await lock.query('COMMIT');
  } finally {
    lock.release();
  }
  try {
    await until(async () => (await pending(db, inboxBefore)) === 0, 'the inbox worker to drain', 300_000, 10).catch(
      async (error: Error) => {
        const stuck = await db.query(
          'SELECT event_type, attempts, last_error FROM webhook_inbox WHERE id > $1 AND status = $2 LIMIT 3',
          [inboxBefore, 'PENDING'],
        );
        throw new Error(`${error.message}: ${JSON.stringify(stuck.rows)}`);
      },
    );
  } finally {
    if (providerDelayMs > 0) await emulatorControl(emulatorUrl, '/faults/clear', {});
  }
  const seconds = (performance.now() - started) / 1000;
  const summary = await db.query<{ webhooks: number; failed: number; events: number }>(
    `SELECT (SELECT count(*)::int FROM webhook_inbox WHERE id > $1) AS webhooks,
            (SELECT count(*)::int FROM webhook_inbox WHERE id > $1 AND status <> 'PROCESSED') AS failed,
            (SELECT count(*)::int FROM outbox WHERE id > $2) AS events`,
    [inboxBefore, outboxBefore],
  );
  const { webhooks, failed, events } = summary.rows[0]!;
  if (failed > 0) throw new Error(`bench: ${failed} of the pre-loaded webhooks were not processed`);
  if (events === 0) throw new Error('bench: the pre-loaded webhooks wrote no events');

  await db.query('INSERT INTO bench_raw_webhook_inbox SELECT * FROM webhook_inbox WHERE id > $1', [inboxBefore]);
  await db.query("UPDATE bench_raw_webhook_inbox SET status = 'PENDING', processed_at = NULL, next_attempt_at = now()");
  const baseline = await load.run('raw pg webhook processing', {
    target: { kind: 'pg-inbox-drain', databaseUrl },
    concurrency: WEBHOOK_LANES,
    requests: webhooks,
    warmup: 0,
  });
  return { webhooks: timed, events, perSecond: timed / seconds, baseline };
}

async function pending(db: Pool, inboxBefore: string): Promise<number> {
  const rows = await db.query<{ n: number }>(
    "SELECT count(*)::int AS n FROM webhook_inbox WHERE id > $1 AND status = 'PENDING'",
    [inboxBefore],
  );
  return rows.rows[0]!.n;
}
