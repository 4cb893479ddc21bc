import type { Admin, ITopicConfig } from 'kafkajs';

const DEADLINE_MS = 15_000;
const PAUSE_MS = 200;

/**
 * Creates the topics that do not exist yet and returns once the broker serves metadata for every one of them.
 *
 * kafkajs' `createTopics({ waitForLeaders: true })` retries its leader lookup only on LEADER_NOT_AVAILABLE. A broker
 * whose metadata cache lags its controller (most often just after it started, or while another client creates the
 * same topics) answers UNKNOWN_TOPIC_OR_PARTITION for a topic it has just created, and kafkajs gives up with that
 * error (it failed a test suite's setup in CI). Another client creating some of the same topics at once fails the
 * call with TOPIC_ALREADY_EXISTS for those, and a slow broker times the leader wait out. Each of these means "look
 * again": we list again and create what is still missing, until 15 s have passed (the last attempt is let finish).
 */
export async function createMissingTopics(admin: Admin, topics: ITopicConfig[]): Promise<void> {
  const names = topics.map((t) => t.topic);
  const deadline = Date.now() + DEADLINE_MS;
  for (;;) {
    try {
      const existing = new Set(await admin.listTopics());
      const missing = topics.filter((t) => !existing.has(t.topic));
      if (missing.length > 0) await admin.createTopics({ topics: missing, waitForLeaders: true });
      // Throws UNKNOWN_TOPIC_OR_PARTITION (retriable) until the broker knows them all, leaders included.
      await admin.fetchTopicMetadata({ topics: names });
      return;
    } catch (err) {
      if (Date.now() >= deadline || !worthAnotherLook(err)) throw err;
      await new Promise((resolve) => setTimeout(resolve, PAUSE_MS));
    }
  }
}

/**
 * Only what a broker that answers says: a retriable protocol error (the topic not known yet, its leader not elected
 * yet), topics another client created first, or kafkajs' timeout waiting for the leaders. A broker that does not answer
 * is not looked at again here: the relay backs off and tries again itself, and a stopping service does not wait on it.
 */
export function worthAnotherLook(err: unknown): boolean {
  const e = err as { retriable?: boolean; type?: string; name?: string; errors?: unknown[] };
  if (Array.isArray(e.errors)) return e.errors.every(worthAnotherLook);
  if (e.name === 'KafkaJSTimeout' || e.type === 'TOPIC_ALREADY_EXISTS') return true;
  // Protocol errors (the broker's answers) carry the Kafka error's name as `type`; a failed connection has none.
  return e.retriable === true && typeof e.type === 'string';
}
