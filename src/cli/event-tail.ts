import { Kafka, logLevel } from 'kafkajs';
import { randomBytes } from 'node:crypto';
import { createEventConsumer, type DecodedEvent } from '../../packages/client/src';
import { EVENT_STREAMS, topicName } from '../domain/event-catalogue';

/** What `billing events tail` reads, which events it prints, and when it stops. */
export interface TailOptions {
  brokers: string[];
  topicPrefix: string;
  fromBeginning: boolean;
  storefrontId?: string;
  aggregateId?: string;
  /** Exact types, or prefixes ending in a dot (`billing.subscription.`); every type when empty. */
  types: string[];
  /** Stop after this many printed events. */
  count?: number;
  /** Stop after this long with nothing printed, counted from when the consumer has joined. */
  idleSeconds?: number;
}

/**
 * How long connecting and joining may take before the tail gives up. kafkajs retries a broker it cannot reach for
 * ever by default; a CLI must say so and exit instead.
 */
const START_TIMEOUT_MS = 15_000;

/**
 * Prints each matching event as it arrives (per key in ce_sequence order, each ce_id once) until --count, --idle-seconds,
 * SIGINT or SIGTERM; rejects when Kafka cannot be reached, naming the brokers.
 */
export async function tailEvents(options: TailOptions, print: (event: DecodedEvent) => void): Promise<void> {
  const kafka = new Kafka({
    clientId: 'billing-cli',
    brokers: options.brokers,
    // The terminal is for events; kafkajs's own reports would bury them. Failures reach the user as one error line.
    logLevel: logLevel.NOTHING,
    connectionTimeout: 3_000,
    retry: { retries: 3, initialRetryTime: 300, maxRetryTime: 2_000 },
  });
  const topics = await existingTopics(kafka, options);
  const consumer = createEventConsumer({
    kafka,
    // A tail only watches: a fresh group per run, so it never takes partitions from, or commits for, anyone else.
    groupId: `billing-cli-${randomBytes(6).toString('hex')}`,
    topics,
    fromBeginning: options.fromBeginning,
  });
  const stop = stopSignal();
  let printed = 0;
  const idle = idleTimer(options.idleSeconds, stop.finish);
  try {
    const started = consumer.run((event) => {
      if (stop.finished || !matches(options, event)) return;
      print(event);
      printed++;
      idle.restart();
      if (printed === options.count) stop.finish();
    });
    await startOrStop(started, stop.done);
    idle.restart();
    await stop.done;
  } catch (error) {
    throw new Error(`cannot read events from Kafka at ${options.brokers.join(',')}: ${(error as Error).message}`);
  } finally {
    idle.cancel();
    stop.release();
    // Leaving is all that is left; a failed goodbye to the broker must not replace the outcome.
    await consumer.stop().catch(() => undefined);
  }
}

/**
 * The prefix's billing topics that exist. A tail subscribes to those only: subscribing to a missing topic makes a
 * broker with auto-creation on create it, so a mistyped --topic-prefix would leave four empty topics behind. With
 * none, it stops and names the prefixes it did find.
 */
async function existingTopics(kafka: Kafka, options: TailOptions): Promise<string[]> {
  const admin = kafka.admin();
  let all: string[];
  try {
    await admin.connect();
    all = await admin.listTopics();
  } catch (error) {
    throw new Error(`cannot read events from Kafka at ${options.brokers.join(',')}: ${(error as Error).message}`);
  } finally {
    await admin.disconnect().catch(() => undefined);
  }
  const wanted = EVENT_STREAMS.map((stream) => topicName(options.topicPrefix, stream));
  const found = wanted.filter((topic) => all.includes(topic));
  if (found.length > 0) return found;
  const billingTopic = new RegExp(`^(.+)\\.(?:${EVENT_STREAMS.join('|')})\\.v1$`);
  const prefixes = [...new Set(all.flatMap((topic) => billingTopic.exec(topic)?.[1] ?? []))].sort();
  throw new Error(
    `no billing topics under --topic-prefix '${options.topicPrefix}' at ${options.brokers.join(',')}` +
      (prefixes.length > 0 ? ` (prefixes found: ${prefixes.slice(0, 10).join(', ')})` : ' (none found)'),
  );
}

function matches(options: TailOptions, e: DecodedEvent): boolean {
  if (options.storefrontId !== undefined && e.storefrontId !== options.storefrontId) return false;
  if (options.aggregateId !== undefined && e.subject !== options.aggregateId && e.key !== options.aggregateId) {
    return false;
  }
  if (options.types.length === 0) return true;
  return options.types.some((t) => e.type === t || (t.endsWith('.') && e.type.startsWith(t)));
}

/** Resolves `done` on SIGINT, SIGTERM or `finish()`; `release` gives the signals back to their defaults. */
function stopSignal() {
  let resolve!: () => void;
  const done = new Promise<void>((r) => (resolve = r));
  const state = {
    finished: false,
    done,
    finish: () => {
      state.finished = true;
      resolve();
    },
    release: () => {
      process.off('SIGINT', state.finish);
      process.off('SIGTERM', state.finish);
    },
  };
  process.on('SIGINT', state.finish);
  process.on('SIGTERM', state.finish);
  return state;
}

/** Calls `onIdle` once `seconds` pass without a `restart`; does nothing without `seconds`. */
function idleTimer(seconds: number | undefined, onIdle: () => void) {
  let timer: NodeJS.Timeout | undefined;
  const cancel = () => clearTimeout(timer);
  return {
    cancel,
    restart: () => {
      cancel();
      if (seconds !== undefined) timer = setTimeout(onIdle, seconds * 1_000);
    },
  };
}

/**
 * The consumer's start, or a stop (Ctrl-C while still connecting), or a rejection once START_TIMEOUT_MS pass (its
 * group join can wait on a broker for ever). The timer is cleared whichever comes first: left pending after a stop, it
 * would keep the process alive for the rest of the 15 s.
 */
async function startOrStop(started: Promise<void>, stopped: Promise<void>): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const timedOut = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(
      () => reject(new Error(`not connected and joined within ${START_TIMEOUT_MS / 1_000} s`)),
      START_TIMEOUT_MS,
    );
  });
  try {
    await Promise.race([started, stopped, timedOut]);
  } finally {
    clearTimeout(timer);
  }
}
