import { Consumer, Kafka, logLevel } from 'kafkajs';
import { randomBytes } from 'node:crypto';
import { createMissingTopics } from '../../src/outbox/kafka-topics';

export interface ReceivedMessage {
  topic: string;
  partition: number;
  key: string;
  value: Buffer;
  headers: Record<string, string>;
  /** The record's create time, ms since the epoch: the relay sets none, so kafkajs stamps it when sending. */
  timestamp: number;
}

/**
 * Reads topics from the beginning into memory, like a consumer service would (own consumer group per collector).
 * Creates the topics first so subscribing never races the relay's topic creation.
 */
export class KafkaCollector {
  readonly messages: ReceivedMessage[] = [];
  private consumer?: Consumer;

  constructor(
    private readonly brokers: string[],
    private readonly topics: string[],
  ) {}

  async start(): Promise<void> {
    const kafka = new Kafka({ clientId: 'test-collector', brokers: this.brokers, logLevel: logLevel.NOTHING });
    const admin = kafka.admin();
    await admin.connect();
    try {
      await createMissingTopics(
        admin,
        this.topics.map((topic) => ({ topic })),
      );
    } finally {
      await admin.disconnect();
    }

    this.consumer = kafka.consumer({ groupId: `test-${randomBytes(6).toString('hex')}`, retry: { retries: 20 } });
    await this.consumer.connect();
    await subscribeOnceTopicsAreKnown(this.consumer, this.topics);
    let joined!: () => void;
    const ready = new Promise<void>((resolve) => (joined = resolve));
    this.consumer.on(this.consumer.events.GROUP_JOIN, () => joined());
    await this.consumer.run({
      eachMessage: async ({ topic, partition, message }) => {
        const headers: Record<string, string> = {};
        for (const [k, v] of Object.entries(message.headers ?? {})) headers[k] = String(v);
        this.messages.push({
          topic,
          partition,
          key: String(message.key),
          value: message.value!,
          headers,
          timestamp: Number(message.timestamp),
        });
      },
    });
    await ready;
  }

  /** Waits until `predicate` holds over the messages received so far. */
  async waitFor(predicate: (messages: ReceivedMessage[]) => boolean, timeoutMs = 60_000): Promise<ReceivedMessage[]> {
    const deadline = Date.now() + timeoutMs;
    while (!predicate(this.messages)) {
      if (Date.now() > deadline) {
        throw new Error(
          `timed out waiting for Kafka messages; got ${this.messages.length}: ${this.messages.map((m) => m.headers.ce_type).join(', ')}`,
        );
      }
      await new Promise((r) => setTimeout(r, 100));
    }
    return this.messages;
  }

  async stop(): Promise<void> {
    await this.consumer?.disconnect();
  }
}

/**
 * A broker that has just created a topic can still answer UNKNOWN_TOPIC_OR_PARTITION to the metadata request that
 * `subscribe` makes (its metadata cache lags the controller, most often right after it started). kafkajs marks that
 * error retriable but does not retry it inside `subscribe`, so we do, briefly.
 */
async function subscribeOnceTopicsAreKnown(consumer: Consumer, topics: string[]): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    try {
      await consumer.subscribe({ topics, fromBeginning: true });
      return;
    } catch (err) {
      if (!(err as { retriable?: boolean }).retriable || attempt >= 50) throw err;
      await new Promise((r) => setTimeout(r, 200));
    }
  }
}

export function brokersFromEnv(): string[] {
  const brokers = process.env.KAFKA_BROKERS;
  if (!brokers) throw new Error('KAFKA_BROKERS is not set; jest global setup should have started Kafka');
  return brokers.split(',');
}

/** The CloudEvents types of the messages with Kafka key `key` (a subscription, customer, storefront), in sequence order. */
export function typesInSequence(messages: ReceivedMessage[], key: string): string[] {
  return messages
    .filter((m) => m.key === key)
    .sort((a, b) => Number(a.headers.ce_sequence) - Number(b.headers.ce_sequence))
    .map((m) => m.headers.ce_type!);
}

/** ce_ids that reached Kafka more than once (at-least-once resends, or two relays publishing). */
export function repeatedIds(messages: ReceivedMessage[]): string[] {
  const seen = new Set<string>();
  return messages.map((m) => m.headers.ce_id!).filter((id) => seen.has(id) || !seen.add(id));
}
