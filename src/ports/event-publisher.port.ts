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
  /** Connects now rather than at the first publish (no-op when connected). */
  connect(): Promise<void>;
  /** Sends in order (per key); resolves when the broker has acknowledged every message. */
  publish(messages: OutgoingMessage[]): Promise<void>;
  close(): Promise<void>;
}

/**
 * `publish` rejects with this when the broker refused the messages for good (too large, invalid): sending them again
 * as they are fails again. Any other rejection is transient (broker away, leader moving): retry later.
 */
export class MessagesRefusedError extends Error {
  constructor(
    /** The broker's reason, e.g. MESSAGE_TOO_LARGE. */
    readonly reason: string,
    options?: { cause?: unknown },
  ) {
    super(`the broker refused the messages for good: ${reason}`, options);
    this.name = 'MessagesRefusedError';
  }
}
