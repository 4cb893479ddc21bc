import type { OutgoingMessage } from '../ports/event-publisher.port';
import type { LimitedLevel } from '../telemetry/rate-limited-log';

/** What the main thread asks the Kafka publisher's thread; every request gets one `Answer` with its id. */
export type Request =
  | { id: number; op: 'ensureTopics'; topics: string[] }
  | { id: number; op: 'connect' | 'probe' | 'close' }
  | { id: number; op: 'publish'; batch: PackedBatch };

/** A failure as it crosses threads: errors lose their class there, so a refusal travels as its reason. */
export interface Failure {
  name: string;
  message: string;
  stack?: string;
  /** Set when the broker refused the messages for good (`MessagesRefusedError`). */
  refused?: string;
}

export type Answer = { id: number; failure?: Failure };

/** One of kafkajs' log lines; `fields` as JSON, since they may hold what cannot be cloned. */
export interface LogLine {
  log: { level: LimitedLevel; message: string; fields: string };
}

/**
 * A batch as one message between threads: every value in one buffer that is moved, not copied (structured cloning
 * a Buffer would copy the whole pooled or socket buffer it views), and the rest in parallel arrays.
 */
export interface PackedBatch {
  topics: string[];
  keys: string[];
  headers: Record<string, string>[];
  /** Where each value ends in `values`. */
  ends: number[];
  values: ArrayBuffer;
}

export function packBatch(messages: readonly OutgoingMessage[]): PackedBatch {
  let total = 0;
  for (const m of messages) total += m.value.length;
  const values = new Uint8Array(total);
  const ends: number[] = [];
  let at = 0;
  for (const m of messages) {
    values.set(m.value, at);
    at += m.value.length;
    ends.push(at);
  }
  return {
    topics: messages.map((m) => m.topic),
    keys: messages.map((m) => m.key),
    headers: messages.map((m) => m.headers),
    ends,
    values: values.buffer,
  };
}

/** The messages again, each value a view on the moved buffer (no copy). */
export function unpackBatch(batch: PackedBatch): OutgoingMessage[] {
  let start = 0;
  return batch.ends.map((end, i) => {
    const message = {
      topic: batch.topics[i]!,
      key: batch.keys[i]!,
      value: Buffer.from(batch.values, start, end - start),
      headers: batch.headers[i]!,
    };
    start = end;
    return message;
  });
}
