import { Kafka, logLevel, Partitioners, Producer } from 'kafkajs';
import { EventPublisher, MessagesRefusedError, OutgoingMessage } from '../ports/event-publisher.port';
import type { LimitedLevel } from '../telemetry/rate-limited-log';
import { refusedForGood } from './kafka-refusals';
import { createMissingTopics } from './kafka-topics';
import { useFastRecordEncoding } from './kafka-record-encoding';

/** Where kafkajs' own lines go (its thread posts them to the main one, which rate-limits them). */
export type KafkaLog = (level: LimitedLevel, message: string, fields: Record<string, unknown>) => void;

export interface KafkaPublisherOptions {
  brokers: string[];
  clientId: string;
  log: KafkaLog;
}

const KAFKA_LOG_LEVELS: Record<number, 'error' | 'warn' | 'info' | 'debug'> = {
  [logLevel.ERROR]: 'error',
  [logLevel.WARN]: 'warn',
  [logLevel.INFO]: 'info',
  [logLevel.DEBUG]: 'debug',
};

/**
 * kafkajs idempotent producer. After a failed send the producer is dropped and rebuilt on the next attempt, so a
 * broker restart never leaves us with a stale connection or producer epoch. The service runs it on a thread of its
 * own (`KafkaPublisherThread`).
 */
export class KafkaPublisher implements EventPublisher {
  private readonly kafka: Kafka;
  private producer?: Producer;

  constructor(options: KafkaPublisherOptions) {
    const { log } = options;
    // kafkajs' record encoder was most of this producer's CPU per event: ours writes the same bytes in one buffer.
    if (!useFastRecordEncoding())
      log('info', "kafkajs encodes the relay's records itself (slower): not kafkajs 2.2.4, or it has sent already", {});
    this.kafka = new Kafka({
      clientId: options.clientId,
      brokers: options.brokers,
      connectionTimeout: 3000,
      requestTimeout: 10000,
      // kafkajs retries a failed connect or send itself before the relay sees the error: waits of 100 ms doubling to
      // at most 500 ms, like the relay's own backoff, so a broker that is back is found within about half a second
      // either way (with 2 s waits it could take seconds). Six tries span about 2 s, still enough to ride out a
      // leader election.
      retry: { retries: 5, initialRetryTime: 100, maxRetryTime: 500 },
      logLevel: logLevel.WARN,
      logCreator:
        () =>
        ({ level, log: entry }) => {
          const { message, ...rest } = entry;
          // kafkajs reports every failed connection attempt as an error; the relay logs the outcome once.
          log(level === logLevel.ERROR ? 'warn' : (KAFKA_LOG_LEVELS[level] ?? 'info'), message, rest);
        },
    });
  }

  async ensureTopics(topics: string[]): Promise<void> {
    const admin = this.kafka.admin();
    await admin.connect();
    try {
      await createMissingTopics(
        admin,
        topics.map((topic) => ({ topic })),
      );
    } finally {
      await admin.disconnect();
    }
  }

  /** Connects an admin client and lists topics: throws when no broker answers (within kafkajs' retries). */
  async probe(): Promise<void> {
    const admin = this.kafka.admin({ retry: { retries: 1, initialRetryTime: 200, maxRetryTime: 1000 } });
    try {
      await admin.connect();
      await admin.listTopics();
    } finally {
      await admin.disconnect().catch(() => undefined);
    }
  }

  async connect(): Promise<void> {
    await this.connectedProducer();
  }

  async publish(messages: OutgoingMessage[]): Promise<void> {
    const producer = await this.connectedProducer();
    const byTopic = new Map<string, OutgoingMessage[]>();
    for (const m of messages) {
      const list = byTopic.get(m.topic);
      if (list) list.push(m);
      else byTopic.set(m.topic, [m]);
    }
    try {
      await producer.sendBatch({
        acks: -1,
        topicMessages: [...byTopic].map(([topic, list]) => ({
          topic,
          messages: list.map((m) => ({ key: m.key, value: m.value, headers: m.headers })),
        })),
      });
    } catch (error) {
      // Also after a refusal: kafkajs rolled back the sequence numbers of every partition in the request, even those
      // the broker accepted, so this producer's next send could be taken for a duplicate or out of order.
      await this.dropProducer();
      const reason = refusedForGood(error);
      throw reason ? new MessagesRefusedError(reason, { cause: error }) : error;
    }
  }

  async close(): Promise<void> {
    await this.dropProducer();
  }

  private async connectedProducer(): Promise<Producer> {
    if (this.producer) return this.producer;
    const producer = this.kafka.producer({
      idempotent: true,
      maxInFlightRequests: 1,
      allowAutoTopicCreation: true,
      createPartitioner: Partitioners.DefaultPartitioner,
    });
    await producer.connect();
    this.producer = producer;
    return producer;
  }

  private async dropProducer(): Promise<void> {
    const producer = this.producer;
    this.producer = undefined;
    await producer?.disconnect().catch(() => undefined);
  }
}
