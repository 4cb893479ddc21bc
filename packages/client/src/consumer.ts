import { Consumer, Kafka } from 'kafkajs';
import { DecodedEvent, decodeBillingMessage, MalformedEventError, RawEventMessage } from './decode';
import { KeyOrderedHandler } from './key-ordered-handler';
import { OffsetWatermarks } from './offset-watermarks';
import { quoted } from './quoted';
import { EventSequencer } from './sequencer';

export interface EventConsumerOptions {
  kafka: Kafka | { brokers: string[]; clientId?: string };
  groupId: string;
  /** Default 'billing'. */
  topicPrefix?: string;
  /** Default the four topics under the prefix. */
  topics?: string[];
  /** Default false: a new group starts at the end of the topics. */
  fromBeginning?: boolean;
  /** How long an event waits for a key's missing predecessor; default 2_000; 0 = Kafka's per-partition order only. */
  reorderWindowMs?: number;
  /** How many ce_ids (and keys) are remembered to drop duplicates; default 100_000. */
  dedupeCapacity?: number;
  /** A message that is not a readable billing event; default: one line on stderr. Consumption goes on. */
  onMalformed?: (error: MalformedEventError, message: RawEventMessage) => void;
  /** The longest pause between two attempts at an event whose handler fails; default 30_000. */
  handlerRetryMaxBackoffMs?: number;
  /** The handler failed on `event` (`attempt` from 1); it is tried again. Default: one line on stderr. */
  onHandlerError?: (error: unknown, event: DecodedEvent, attempt: number) => void;
  /** Above this many messages read but not yet handled (or dropped), reading pauses; default 10_000. */
  maxPendingEvents?: number;
}

export interface EventConsumer {
  /**
   * Starts consuming; resolves once the consumer has joined its group, rejects if it is called a second time or
   * the consumer is stopped first. `handler` is called per key in ce_sequence order across topics, once per ce_id
   * (within the dedupe memory), different keys side by side. Offsets are committed every 500 ms, on a rebalance
   * and on stop, per partition up to the first message not yet handled (or dropped as a duplicate or malformed), so
   * a crash loses nothing. When `handler` throws, the same event is handed to it again after a pause (exponential
   * from 100 ms up to `handlerRetryMaxBackoffMs`, with jitter) until it succeeds or the consumer stops: only its own
   * key's later events wait behind it; reading goes on until `maxPendingEvents` messages are pending.
   */
  run(handler: (event: DecodedEvent) => Promise<void> | void): Promise<void>;
  /**
   * Leaves the group. A handler call in progress finishes first (and is not retried); then the offsets of what was
   * handled are committed, and nothing beyond: events waiting for their handler (behind a failing one, in a backoff
   * pause or for a predecessor) come again to the group's next consumer.
   */
  stop(): Promise<void>;
}

const STREAMS = ['subscriptions', 'payments', 'customers', 'storefronts'];
const COMMIT_INTERVAL_MS = 500;
const STOPPED_BEFORE_JOIN = 'the billing event consumer was stopped before it joined its group';
/** While reading is paused for backpressure kafkajs sends no heartbeat of its own; without ours, it would be evicted. */
const HEARTBEAT_WHILE_PAUSED_MS = 1_000;

/** A consumer of billing events: decoded, re-ordered per key across topics, deduplicated on ce_id. */
export function createEventConsumer(options: EventConsumerOptions): EventConsumer {
  const kafka = options.kafka instanceof Kafka ? options.kafka : new Kafka(options.kafka);
  const topics = options.topics ?? STREAMS.map((stream) => `${options.topicPrefix ?? 'billing'}.${stream}.v1`);
  const maxPendingEvents = options.maxPendingEvents ?? 10_000;
  const underLimit = new Set<() => void>();
  const watermarks = new OffsetWatermarks(() => {
    if (watermarks.unsettled < maxPendingEvents) wakeAll(underLimit);
  });
  let consumer: Consumer | undefined;
  let sequencer: EventSequencer<DecodedEvent> | undefined;
  let inOrder: KeyOrderedHandler | undefined;
  let committer: NodeJS.Timeout | undefined;
  let started = false;
  let stopped = false;
  let stopping: Promise<void> | undefined;
  let stoppedBeforeJoin: (() => void) | undefined;

  // Commits one at a time, so an older watermark never lands after a newer one.
  let committing = Promise.resolve();
  const commit = () =>
    (committing = committing.then(async () => {
      const due = watermarks.due();
      if (!due.length || !consumer) return;
      try {
        await consumer.commitOffsets(due);
        watermarks.committed(due);
      } catch {
        // Typically a rebalance under way; the watermark stays due and the next commit carries it.
      }
    }));

  return {
    async run(handler) {
      if (started) throw new Error('run() was already called on this billing event consumer');
      started = true;
      const notStopped = async () => {
        if (!stopped) return;
        await consumer?.disconnect();
        throw new Error(STOPPED_BEFORE_JOIN);
      };
      await notStopped();
      const handling = new KeyOrderedHandler(handler, {
        maxBackoffMs: options.handlerRetryMaxBackoffMs ?? 30_000,
        onError: options.onHandlerError ?? logHandlerError,
      });
      inOrder = handling;
      // Events offered to the sequencer, and how to settle their delivery once handled or dropped.
      const waiting = new Map<DecodedEvent, () => void>();
      // The first delivery of each ce_id not handled yet. Kafka can deliver a message again while the first one
      // waits (a partition revoked and assigned back): the copy is dropped, but settles only with the first.
      const firstDelivery = new Map<string, Promise<void>>();
      const sequenced = new EventSequencer<DecodedEvent>({
        reorderWindowMs: options.reorderWindowMs ?? 2_000,
        capacity: options.dedupeCapacity ?? 100_000,
        release: (events) => events.forEach((event) => handling.enqueue(event, take(waiting, event))),
        drop: (event) => {
          const settle = take(waiting, event);
          const first = firstDelivery.get(event.id);
          if (first) void first.then(settle);
          else settle();
        },
      });
      sequencer = sequenced;
      const onMalformed = options.onMalformed ?? logMalformed;
      const group = kafka.consumer({ groupId: options.groupId });
      consumer = group;
      const joined = new Promise<void>((resolve, reject) => {
        group.on(group.events.GROUP_JOIN, () => resolve());
        stoppedBeforeJoin = () => reject(new Error(STOPPED_BEFORE_JOIN));
      });
      // Observed here, so a stop during connect (when run() rejects before awaiting it) is no unhandled rejection.
      joined.catch(() => {});
      // Every join, the first included, says which partitions are ours from now on.
      group.on(group.events.GROUP_JOIN, ({ payload }) => watermarks.retain(payload.memberAssignment));
      // What is handled is committed before the partitions move, so their next owner does not handle it again.
      group.on(group.events.REBALANCING, () => void commit());
      await group.connect();
      await notStopped();
      await subscribeOnceTopicsAreKnown(group, topics, options.fromBeginning ?? false);
      await notStopped();
      committer = setInterval(() => void commit(), COMMIT_INTERVAL_MS);
      await group.run({
        autoCommit: false,
        eachMessage: async ({ topic, partition, message, heartbeat }) => {
          if (watermarks.unsettled >= maxPendingEvents) await underTheLimit(heartbeat);
          // A message handed over while stopping is not tracked, so no commit goes past it.
          if (stopped) return;
          const settle = watermarks.track(topic, partition, message.offset);
          if (!settle) return;
          const { offset, key, headers, value } = message;
          const raw: RawEventMessage = { topic, partition, offset, key, headers, value };
          const event = decodeOrReport(raw, onMalformed);
          if (!event) return settle();
          const handled = new Promise<void>((resolve) => waiting.set(event, resolve));
          void handled.then(settle);
          sequenced.offer(event);
          // Registered after the offer, so a copy dropped at once never waits for itself.
          if (!firstDelivery.has(event.id)) {
            firstDelivery.set(event.id, handled);
            void handled.then(() => firstDelivery.delete(event.id));
          }
        },
      });
      await joined;
    },
    stop() {
      stopping ??= (async () => {
        stopped = true;
        stoppedBeforeJoin?.();
        wakeAll(underLimit);
        clearInterval(committer);
        sequencer?.close();
        await inOrder?.stop();
        await commit();
        await consumer?.disconnect();
      })();
      return stopping;
    },
  };

  /** Waits, heartbeating, until fewer than `maxPendingEvents` messages are pending or the consumer stops. */
  async function underTheLimit(heartbeat: () => Promise<void>): Promise<void> {
    // A failed beat means a rebalance; kafkajs rejoins once this message is done.
    const beating = setInterval(() => void heartbeat().catch(() => {}), HEARTBEAT_WHILE_PAUSED_MS);
    try {
      while (watermarks.unsettled >= maxPendingEvents && !stopped) {
        await new Promise<void>((resolve) => underLimit.add(resolve));
      }
    } finally {
      clearInterval(beating);
    }
  }
}

function wakeAll(waiters: Set<() => void>): void {
  waiters.forEach((wake) => wake());
  waiters.clear();
}

function take(waiting: Map<DecodedEvent, () => void>, event: DecodedEvent): () => void {
  const settle = waiting.get(event)!;
  waiting.delete(event);
  return settle;
}

/**
 * The decoded event, or undefined when the message is not one: whatever decoding throws is a malformed message
 * (rethrowing would make kafkajs restart on it forever), and so is a throwing `onMalformed`, which is logged.
 */
function decodeOrReport(
  raw: RawEventMessage,
  onMalformed: (error: MalformedEventError, message: RawEventMessage) => void,
): DecodedEvent | undefined {
  try {
    return decodeBillingMessage(raw);
  } catch (error) {
    const malformed =
      error instanceof MalformedEventError
        ? error
        : new MalformedEventError(`the message could not be decoded: ${oneLine(error)}`, undefined, { cause: error });
    try {
      onMalformed(malformed, raw);
    } catch (reportError) {
      process.stderr.write(
        `billing event consumer: onMalformed threw on ${where(raw)}, the message is skipped: ${oneLine(reportError)}\n`,
      );
    }
    return undefined;
  }
}

function logHandlerError(error: unknown, event: DecodedEvent, attempt: number): void {
  process.stderr.write(
    `billing event consumer: handler failed on ${quoted(event.id)} (${quoted(event.type)}, key ${quoted(event.key)}), attempt ${attempt}, retrying: ${oneLine(error)}\n`,
  );
}

function logMalformed(error: MalformedEventError, message: RawEventMessage): void {
  process.stderr.write(`billing event consumer: skipped malformed message ${where(message)}: ${error.message}\n`);
}

function where(message: RawEventMessage): string {
  return `${message.topic}[${message.partition}]@${message.offset}`;
}

function oneLine(error: unknown): string {
  return quoted(error instanceof Error ? error.message : String(error));
}

/**
 * Right after a topic is created the broker can still answer UNKNOWN_TOPIC_OR_PARTITION to subscribe's metadata
 * request; kafkajs marks that retriable but does not retry it inside subscribe, so we do, briefly.
 */
async function subscribeOnceTopicsAreKnown(consumer: Consumer, topics: string[], fromBeginning: boolean) {
  for (let attempt = 1; ; attempt++) {
    try {
      return await consumer.subscribe({ topics, fromBeginning });
    } catch (error) {
      if (!(error as { retriable?: boolean }).retriable || attempt >= 50) throw error;
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
  }
}
