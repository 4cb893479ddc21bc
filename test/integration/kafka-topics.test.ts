import { Kafka, logLevel } from 'kafkajs';
import { randomBytes } from 'node:crypto';
import { createMissingTopics } from '../../src/outbox/kafka-topics';
import { brokersFromEnv } from '../support/kafka-collector';

/** Replicas of the service start together and each makes sure the event topics exist before its first send. */
describe('creating the event topics', () => {
  const kafka = new Kafka({ clientId: 'kafka-topics-test', brokers: brokersFromEnv(), logLevel: logLevel.NOTHING });

  it('succeeds for every client creating overlapping new topics at once, and each topic takes a message right after', async () => {
    const prefix = `race-${randomBytes(4).toString('hex')}`;
    const names = ['a', 'b', 'c', 'd'].map((s) => `${prefix}.${s}.v1`);
    const admins = Array.from({ length: 4 }, () => kafka.admin());
    await Promise.all(admins.map((a) => a.connect()));
    try {
      // Each client asks for a different overlapping subset, so some of its topics are created by another one.
      await Promise.all(
        admins.map((admin, i) =>
          createMissingTopics(
            admin,
            [names[i]!, names[(i + 1) % names.length]!].map((topic) => ({ topic })),
          ),
        ),
      );
      const metadata = await admins[0]!.fetchTopicMetadata({ topics: names });
      expect(metadata.topics.map((t) => t.name).sort()).toEqual(names);
    } finally {
      await Promise.all(admins.map((a) => a.disconnect()));
    }
    const producer = kafka.producer({ allowAutoTopicCreation: false });
    await producer.connect();
    try {
      for (const topic of names) await producer.send({ topic, messages: [{ value: 'x' }] });
    } finally {
      await producer.disconnect();
    }
  });

  it('leaves existing topics as they are', async () => {
    const topic = `race-${randomBytes(4).toString('hex')}.kept.v1`;
    const admin = kafka.admin();
    await admin.connect();
    try {
      await createMissingTopics(admin, [{ topic, numPartitions: 2 }]);
      await createMissingTopics(admin, [{ topic, numPartitions: 5 }]);
      const [found] = (await admin.fetchTopicMetadata({ topics: [topic] })).topics;
      expect(found!.partitions).toHaveLength(2);
    } finally {
      await admin.disconnect();
    }
  });
});
