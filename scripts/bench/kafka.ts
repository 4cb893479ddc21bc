import { Kafka, logLevel } from 'kafkajs';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { performance } from 'node:perf_hooks';
import type { Pool } from 'pg';
import { storedTraceHeaders, toCloudEventMessage } from '../../src/outbox/cloud-event';
import { toStoredEvent } from '../../src/store/event-log';
import { KAFKA_LOCAL, kafkaLocal, portOpen } from '../../test/support/infrastructure';
import type { LoadGenerator } from './load-generator';
import { until } from './ports';
import type { ServiceProcess } from './service-process';

export interface KafkaBroker {
  brokers: string[];
  /** Stops the broker when this bench started it; otherwise nothing. */
  release(): Promise<void> | void;
}

/**
 * KAFKA_BROKERS when set; else the broker on 127.0.0.1:KAFKA_PORT (9092) if one answers; else scripts/kafka-local
 * is started there (and stopped afterwards), as the tests' global setup does. The start runs in the background:
 * only the drain path needs Kafka, so a caller may measure other paths meanwhile.
 */
export async function kafkaBroker(): Promise<{ broker: KafkaBroker; ready: Promise<void> }> {
  const configured = process.env.KAFKA_BROKERS;
  const none = () => undefined;
  if (configured) return { broker: { brokers: configured.split(','), release: none }, ready: Promise.resolve() };
  const port = Number(process.env.KAFKA_PORT ?? 9092);
  const brokers = [`127.0.0.1:${port}`];
  if (await portOpen('127.0.0.1', port)) return { broker: { brokers, release: none }, ready: Promise.resolve() };
  console.log(`bench: no KAFKA_BROKERS and nothing on 127.0.0.1:${port}: starting scripts/kafka-local`);
  const started = promisify(execFile)(KAFKA_LOCAL, ['start'], { timeout: 600_000 }).then(none);
  // Handled here so a failed start waits for whoever awaits `ready`, instead of ending the process unheard.
  const settled = started.catch(none);
  // A stop while the start is still under way would only make it retry: stop once it has settled.
  const release = () => settled.then(() => kafkaLocal('stop'));
  return { broker: { brokers, release }, ready: started };
}

export interface DrainResult {
  events: number;
  perSecond: number;
  baselinePerSecond: number;
}

/** The relay's batch size (src/service.ts): the baseline producer sends batches as large. */
const RELAY_BATCH = 500;

/**
 * Outbox → Kafka: every event the earlier paths wrote (relay off) is waiting. `startRelay` starts the service with
 * Kafka (it is stopped here); the drain is timed from its SERVING, over the events still waiting then, to the last
 * one marked published. The baseline: a raw kafkajs idempotent producer sending as many messages of the same
 * average size, connection included.
 */
export async function measureDrain(
  db: Pool,
  broker: KafkaBroker,
  startRelay: () => Promise<ServiceProcess>,
  load: LoadGenerator,
  topicPrefix: string,
): Promise<{ result: DrainResult; startupMs: number }> {
  const waiting = await db.query<{ n: number; bytes: number }>(
    `SELECT count(*)::int AS n, coalesce(avg(length(o.payload)), 0)::int AS bytes
     FROM outbox_pending p JOIN outbox o USING (id)`,
  );
  const { n: events, bytes } = waiting.rows[0]!;
  if (events === 0) throw new Error('bench: the outbox is empty: the earlier paths wrote no events to drain');
  // The same physical work includes the headers: each message carries the CloudEvents attributes and traceparent.
  const first = await db.query('SELECT o.* FROM outbox_pending p JOIN outbox o USING (id) ORDER BY p.id LIMIT 1');
  const headers = relayHeaders(first.rows[0]!, topicPrefix);
  const unpublished = async () =>
    (await db.query<{ n: number }>('SELECT count(*)::int AS n FROM outbox_pending WHERE parked_at IS NULL')).rows[0]!.n;
  // The relay marks batches in outbox order, so the newest row is marked last. Watching it is one index lookup per
  // poll; counting the unpublished rows every 10 ms took a fifth of PostgreSQL's CPU during a drain from the
  // relay's own statements (measured with scripts/bench/drain-phases.ts).
  const { newest } = (await db.query<{ newest: string }>('SELECT max(id)::text AS newest FROM outbox')).rows[0]!;
  // Settled: published, or parked (which the check after the drain reports as an error).
  const newestSettled = async () =>
    (
      await db.query<{ done: boolean }>(
        'SELECT NOT EXISTS (SELECT 1 FROM outbox_pending WHERE id = $1 AND parked_at IS NULL) AS done',
        [newest],
      )
    ).rows[0]!.done;
  const service = await startRelay();
  let seconds: number;
  let timed: number;
  try {
    // The relay may start before the service reports SERVING: only what is left from then on is timed.
    const serving = performance.now();
    timed = await unpublished();
    await until(
      async () => {
        service.assertAlive();
        return await newestSettled();
      },
      'the relay to publish the outbox',
      300_000,
      10,
    );
    // Then every row: the timing ends when the outbox is empty, whatever order it emptied in.
    await until(async () => (await unpublished()) === 0, 'the relay to publish the rest of the outbox', 60_000, 10);
    seconds = (performance.now() - serving) / 1000;
  } finally {
    await service.stop();
  }
  const parked = await db.query<{ n: number }>(
    'SELECT count(*)::int AS n FROM outbox_pending WHERE parked_at IS NOT NULL',
  );
  if (parked.rows[0]!.n > 0)
    throw new Error(`bench: the relay parked ${parked.rows[0]!.n} events instead of publishing`);
  await load.renew();
  const baseline = await load.run('raw kafkajs producer', {
    target: {
      kind: 'kafka-produce',
      brokers: broker.brokers,
      topic: `${topicPrefix}.raw-baseline`,
      batchSize: RELAY_BATCH,
      payloadBytes: bytes,
      headers,
    },
    concurrency: RELAY_BATCH,
    requests: events,
    warmup: 0,
  });
  return {
    result: { events, perSecond: timed / seconds, baselinePerSecond: baseline.perSecond },
    startupMs: service.startupMs,
  };
}

/** Removes the topics this run created (its prefix): the broker may be shared. */
export async function deleteTopics(brokers: string[], prefix: string): Promise<void> {
  const kafka = new Kafka({ clientId: 'bench-cleanup', brokers, logLevel: logLevel.NOTHING });
  const admin = kafka.admin();
  await admin.connect();
  try {
    const topics = (await admin.listTopics()).filter((t) => t.startsWith(`${prefix}.`));
    if (topics.length > 0) await admin.deleteTopics({ topics });
  } finally {
    await admin.disconnect();
  }
}

/**
 * The headers the relay sends with an outbox row (`SELECT *`), built as the relay builds them: its mapping of the
 * row, and the trace context it sends when no span continues it.
 */
export function relayHeaders(row: Record<string, unknown>, topicPrefix: string): Record<string, string> {
  const event = toStoredEvent(row);
  const traceHeaders = storedTraceHeaders(event);
  return toCloudEventMessage(event, { topicPrefix, encoding: 'protobuf', traceHeaders }).headers;
}
