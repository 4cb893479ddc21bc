/** A message ready for the broker: CloudEvents binary mode, headers as strings. */
export interface OutgoingMessage {
  topic: string;
  key: string;
  value: Buffer;
  headers: Record<string, string>;
}

/** Where the outbox relay sends events. Kafka in production; anything that keeps order per key. */
export interface EventPublisher {
  /** Creates the topics if missing. */
  ensureTopics(topics: string[]): Promise<void>;
  /** Sends in order (per key); resolves when the broker has acknowledged every message. */
  publish(messages: OutgoingMessage[]): Promise<void>;
  close(): Promise<void>;
}
