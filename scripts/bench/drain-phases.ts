/**
 * Dev harness (not part of `npm run bench`): fills a scratch outbox with N events, drains it with the real relay
 * (OutboxRelay + OutboxRelayStore + KafkaPublisherThread) and times each phase of a batch; then a raw kafkajs idempotent
 * producer sends as many messages of the same size in batches of 500, in the same process.
 *   npx tsx scripts/bench/drain-phases.ts [events=20000]   (DRAIN_PROFILE=relay.cpuprofile: profile the relay)
 */
import { Kafka, logLevel, Producer } from 'kafkajs';
import { randomBytes } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { execSync } from 'node:child_process';
import fs from 'node:fs';
import inspector from 'node:inspector';
import { cpuSecondsOf } from './proc-cpu';

/** CPU seconds so far of the processes whose command line matches (postgres, the Kafka broker). */
function cpuOf(pattern: string): number {
  const pids = execSync(`pgrep -f '${pattern}' || true`).toString().split('\n').filter(Boolean);
  let seconds = 0;
  for (const pid of pids) {
    try {
      seconds += cpuSecondsOf(`/proc/${pid}/stat`);
    } catch {
      // The process ended between pgrep and the read.
    }
  }
  return seconds;
}
/** CPU seconds so far of this process's main thread (the relay's, without the Kafka thread and V8's helpers). */
const mainThreadCpu = () => cpuSecondsOf(`/proc/self/task/${process.pid}/stat`);
const cpuNow = () => ({
  node: process.cpuUsage().user / 1e6 + process.cpuUsage().system / 1e6,
  main: mainThreadCpu(),
  pg: cpuOf('postgres'),
  kafka: cpuOf('kafka.Kafka'),
});
const cpuSince = (a: ReturnType<typeof cpuNow>) => {
  const b = cpuNow();
  const [node, main] = [b.node - a.node, b.main - a.main];
  return `node ${node.toFixed(2)} (main thread ${main.toFixed(2)}, others ${(node - main).toFixed(2)}) pg ${(b.pg - a.pg).toFixed(2)} kafka ${(b.kafka - a.kafka).toFixed(2)}`;
};

import pino from 'pino';
import { Counter, Registry } from 'prom-client';
import { KafkaPublisher } from '../../src/outbox/kafka-publisher';
import { KafkaPublisherThread } from '../../src/outbox/kafka-publisher-thread';
import { createMissingTopics } from '../../src/outbox/kafka-topics';
import { OutboxRelay } from '../../src/outbox/outbox-relay';
import { openDatabase } from '../../src/store/database';
import { migrateToLatest } from '../../src/store/migrate';
import { OutboxRelayStore } from '../../src/store/outbox-relay-store';
import { relayLeadership } from '../../src/store/relay-leadership';
import { startTelemetry } from '../../src/telemetry/tracing';
import { relayHeaders } from './kafka';
import { createTestDatabase } from '../../test/support/test-database';

const EVENTS = Number(process.argv[2] ?? 20000);
const PAYLOAD = 160;
const brokers = (process.env.KAFKA_BROKERS ?? '127.0.0.1:9092').split(',');

const phases = new Map<string, { n: number; ms: number }>();
function timed<T extends object>(target: T, names: string[], label: string): void {
  for (const name of names) {
    const original = (target as Record<string, unknown>)[name] as (...args: unknown[]) => Promise<unknown>;
    (target as Record<string, unknown>)[name] = async (...args: unknown[]) => {
      const t0 = performance.now();
      try {
        return await original.apply(target, args);
      } finally {
        const p = phases.get(`${label}.${name}`) ?? { n: 0, ms: 0 };
        p.n += 1;
        p.ms += performance.now() - t0;
        phases.set(`${label}.${name}`, p);
      }
    };
  }
}

/** DRAIN_PROFILE=<file>: a V8 CPU profile of the relay's drain alone (not start-up, not the raw baseline). */
async function profileIf(file: string | undefined): Promise<(() => Promise<void>) | undefined> {
  if (!file) return undefined;
  const session = new inspector.Session();
  session.connect();
  const post = (method: string) =>
    new Promise<unknown>((resolve, reject) =>
      session.post(method, (error, result) => (error ? reject(error) : resolve(result))),
    );
  await post('Profiler.enable');
  await post('Profiler.start');
  return async () => {
    const { profile } = (await post('Profiler.stop')) as { profile: unknown };
    fs.writeFileSync(file, JSON.stringify(profile));
    session.disconnect();
  };
}

async function main(): Promise<void> {
  startTelemetry({});
  const scratch = await createTestDatabase();
  const database = openDatabase({ databaseUrl: scratch.url, dataDir: ':memory:' });
  const prefix = `phases-${randomBytes(3).toString('hex')}`;
  try {
    await migrateToLatest(database.knex);
    await database.knex.raw(
      `INSERT INTO outbox (event_id, type, stream, key, storefront_id, tenant_id, provider, aggregate_id, sequence,
         occurred_at, payload, traceparent)
       SELECT 'evt_' || g, 'billing.customer.created', 'customers', 'cus_' || g, 'bench-store', 'bench', 'subotiz',
         'cus_' || g, 1, now(), decode(repeat('ab', ?), 'hex'),
         '00-' || md5(g::text) || '-' || substr(md5('s' || g), 1, 16) || '-00'
       FROM generate_series(1, ?) g`,
      [PAYLOAD, EVENTS],
    );
    await database.knex.raw('ANALYZE outbox, outbox_pending');
    const logger = pino({ level: 'warn' });
    const registry = new Registry();
    const counter = (name: string) => new Counter({ name, help: name, registers: [registry] });
    const store = new OutboxRelayStore(database.knex, relayLeadership(database));
    // DRAIN_THREAD=0: kafkajs on the relay's own thread, to compare. The raw baseline then runs in a thread whose
    // kafkajs encodes records with the relay's encoder (useFastRecordEncoding): faster than stock kafkajs, so that
    // mode's ratio is not the bench's.
    const publisher =
      process.env.DRAIN_THREAD === '0'
        ? new KafkaPublisher({ brokers, clientId: 'phases', log: (level, message) => logger[level](message) })
        : new KafkaPublisherThread({ brokers, clientId: 'phases', logger });
    timed(store, ['lead', 'nextBatch', 'markPublished'], 'store');
    timed(publisher, ['publish'], 'kafka');
    const relay = new OutboxRelay(
      store,
      publisher,
      {
        topicPrefix: prefix,
        encoding: 'protobuf',
        batchSize: 500,
        pollIntervalMs: 1000,
        standbyRetryMs: 250,
        maxBackoffMs: 500,
      },
      logger,
      { published: counter('p'), failures: counter('f'), parked: counter('k') },
    );
    // Topics and the producer's connection first: the drain itself is what is compared.
    await publisher.ensureTopics(
      ['customers', 'subscriptions', 'payments', 'storefronts'].map((s) => `${prefix}.${s}.v1`),
    );
    await publisher.connect();
    const profiling = await profileIf(process.env.DRAIN_PROFILE);
    const c0 = cpuNow();
    const t0 = performance.now();
    relay.start();
    // The newest event is marked last (marks commit in outbox order): watching its row costs the database nothing.
    const { id: newest } = (await database.knex('outbox').max('id as id').first()) as { id: string };
    const drained = async () => (await database.knex('outbox_pending').where({ id: newest }).first()) === undefined;
    for (const deadline = Date.now() + 300_000; !(await drained());) {
      if (Date.now() > deadline) throw new Error('the relay did not drain the outbox in 300 s');
      await new Promise((r) => setTimeout(r, 10));
    }
    const relaySeconds = (performance.now() - t0) / 1000;
    console.log(`relay cpu: ${cpuSince(c0)}`);
    await profiling?.();
    await relay.stop();
    // The relay's headers for one of the drained events, as the bench's baseline sends them.
    const headers = relayHeaders(await database.knex('outbox').first(), prefix);
    const raw = await rawBaseline(`${prefix}.raw`, headers);
    console.log(`relay: ${EVENTS} events in ${relaySeconds.toFixed(2)} s = ${(EVENTS / relaySeconds).toFixed(0)}/s`);
    console.log(`raw:   ${EVENTS} events in ${raw.toFixed(2)} s = ${(EVENTS / raw).toFixed(0)}/s`);
    console.log(`ratio: ${(raw / relaySeconds).toFixed(2)}`);
    const total = relaySeconds * 1000;
    for (const [name, p] of phases)
      console.log(
        `  ${name.padEnd(22)} n=${String(p.n).padStart(5)} total ${p.ms.toFixed(0).padStart(6)} ms (${((100 * p.ms) / total).toFixed(0)}%)  avg ${(p.ms / p.n).toFixed(2)} ms`,
      );
  } finally {
    await database.close();
    const admin = new Kafka({ clientId: 'phases-cleanup', brokers, logLevel: logLevel.NOTHING }).admin();
    await admin.connect();
    const topics = (await admin.listTopics()).filter((t) => t.startsWith(`${prefix}.`));
    if (topics.length) await admin.deleteTopics({ topics });
    await admin.disconnect();
    await scratch.drop();
  }
}

/** As the bench's baseline: idempotent producer, maxInFlightRequests 1, batches of 500, connection excluded. */
async function rawBaseline(topic: string, headers: Record<string, string>): Promise<number> {
  const kafka = new Kafka({ clientId: 'phases-raw', brokers, logLevel: logLevel.NOTHING });
  const admin = kafka.admin();
  await admin.connect();
  await createMissingTopics(admin, [{ topic }]);
  await admin.disconnect();
  const producer: Producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
  await producer.connect();
  const value = randomBytes(PAYLOAD);
  const c0 = cpuNow();
  const t0 = performance.now();
  for (let sent = 0; sent < EVENTS; sent += 500) {
    const n = Math.min(500, EVENTS - sent);
    await producer.send({
      topic,
      messages: Array.from({ length: n }, (_, i) => ({
        key: `key-${(sent + i) % 97}`,
        value,
        headers,
      })),
    });
  }
  const seconds = (performance.now() - t0) / 1000;
  console.log(`raw cpu: ${cpuSince(c0)}`);
  await producer.disconnect();
  return seconds;
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
