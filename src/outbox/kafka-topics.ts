import type { Admin, ITopicConfig } from 'kafkajs';

const ATTEMPTS = 50;
const PAUSE_MS = 200;

/**
 * Creates the topics that do not exist yet and returns once the broker serves metadata for every one of them.
 *
 * kafkajs' `createTopics({ waitForLeaders: true })` retries its leader lookup only on LEADER_NOT_AVAILABLE. A broker
 * whose metadata cache lags its controller (most often just after it started, or while another client creates the
 * same topics) answers UNKNOWN_TOPIC_OR_PARTITION for a topic it has just created, and kafkajs gives up with that
 * error (it failed a test suite's setup in CI). Another client creating some of the same topics at once fails the
 * call with TOPIC_ALREADY_EXISTS for those. Both mean "look again": we list again and create what is still missing,
 * for up to about 10 s.
 */
export async function createMissingTopics(admin: Admin, topics: ITopicConfig[]): Promise<void> {
  const names = topics.map((t) => t.topic);
  for (let attempt = 1; ; attempt++) {
    try {
      const existing = new Set(await admin.listTopics());
      const missing = topics.filter((t) => !existing.has(t.topic));
      if (missing.length > 0) await admin.createTopics({ topics: missing, waitForLeaders: true });
      // Throws UNKNOWN_TOPIC_OR_PARTITION (retriable) until the broker knows them all, leaders included.
      await admin.fetchTopicMetadata({ topics: names });
      return;
    } catch (err) {
      if (attempt >= ATTEMPTS || !worthAnotherLook(err)) throw err;
      await new Promise((resolve) => setTimeout(resolve, PAUSE_MS));
    }
  }
}

function worthAnotherLook(err: unknown): boolean {
  const e = err as { retriable?: boolean; type?: string; errors?: unknown[] };
  if (Array.isArray(e.errors)) return e.errors.every(worthAnotherLook);
  return e.retriable === true || e.type === 'TOPIC_ALREADY_EXISTS';
}
