import { Kafka, logLevel } from 'kafkajs';
import { randomBytes } from 'node:crypto';
import { createEventConsumer, EventConsumer, EventConsumerOptions } from '../../packages/client/src/consumer';
import type { DecodedEvent } from '../../packages/client/src/decode';
import { BillingEvent } from '../../src/gen/billing/v1/event';
import { createMissingTopics } from '../../src/outbox/kafka-topics';
import { eventually } from '../support/eventually';
import { brokersFromEnv } from '../support/kafka-collector';

const kafka = new Kafka({ brokers: brokersFromEnv(), logLevel: logLevel.NOTHING });
const unique = () => randomBytes(4).toString('hex');

/** An event as the service publishes it: binary-mode CloudEvents headers around a protobuf BillingEvent. */
function billingMessage(key: string, sequence: number) {
  const id = `evt_${key}_${sequence}`;
  const event = BillingEvent.fromPartial({ id, type: 'billing.customer.updated', aggregateId: key, sequence });
  return {
    key,
    value: Buffer.from(BillingEvent.encode(event).finish()),
    headers: {
      ce_specversion: '1.0',
      ce_id: id,
      ce_source: '/storefronts/eu-web',
      ce_type: 'billing.customer.updated',
      ce_subject: key,
      ce_time: new Date().toISOString(),
      ce_sequence: String(sequence),
      ce_provider: '',
      ce_tenant: 'acme',
      'content-type': 'application/protobuf',
    },
  };
}

/** A new one-partition topic holding `messages` in this order. */
async function topicWith(messages: Array<ReturnType<typeof billingMessage>>): Promise<string> {
  const topic = `client-commits-${unique()}`;
  const admin = kafka.admin();
  await admin.connect();
  await createMissingTopics(admin, [{ topic, numPartitions: 1 }]);
  await admin.disconnect();
  const producer = kafka.producer();
  await producer.connect();
  await producer.send({ topic, messages });
  await producer.disconnect();
  return topic;
}

async function committedOffset(groupId: string, topic: string): Promise<string | undefined> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    const [offsets] = await admin.fetchOffsets({ groupId, topics: [topic] });
    return offsets?.partitions[0]?.offset;
  } finally {
    await admin.disconnect();
  }
}

function consumerOf(topic: string, options: Partial<EventConsumerOptions> = {}): EventConsumer {
  return createEventConsumer({
    kafka,
    groupId: `client-commits-${unique()}`,
    topics: [topic],
    fromBeginning: true,
    ...options,
  });
}

describe('the client package consumer commits what it handled, without holding a partition for a held key', () => {
  const consumers: EventConsumer[] = [];
  afterEach(async () => {
    await Promise.all(consumers.splice(0).map((consumer) => consumer.stop()));
  });

  it('handles 200 keys first seen past sequence 1 on one partition side by side, not one window after another', async () => {
    const windowMs = 2_000;
    const late = Array.from({ length: 200 }, (_, i) => billingMessage(`cus_late_${i}`, 5));
    // Last on the partition, and with nothing to wait for: it is handled as soon as it is read.
    const topic = await topicWith([...late, billingMessage('cus_fresh', 1)]);
    const handled: string[] = [];
    const consumer = consumerOf(topic, { reorderWindowMs: windowMs });
    consumers.push(consumer);
    await consumer.run((event) => void handled.push(event.key));

    // One window after another would take 200 windows (400 s); side by side, about one.
    await eventually(
      async () => handled.length,
      (count) => count === 201,
      10 * windowMs,
    );
    expect(handled[0]).toBe('cus_fresh');
    expect(new Set(handled).size).toBe(201);
  });

  it('on stop commits up to the first event not handled: the next consumer of the group gets the held and the failing ones', async () => {
    const topic = await topicWith([
      billingMessage('cus_a', 1),
      billingMessage('cus_held', 3),
      billingMessage('cus_failing', 1),
      billingMessage('cus_b', 1),
    ]);
    const groupId = `client-commits-${unique()}`;
    const handledFirst: string[] = [];
    let failures = 0;
    const first = consumerOf(topic, {
      groupId,
      // Long enough that cus_held is still waiting for its predecessors when the consumer stops.
      reorderWindowMs: 120_000,
      onHandlerError: () => failures++,
    });
    consumers.push(first);
    await first.run((event: DecodedEvent) => {
      if (event.key === 'cus_failing') throw new Error('the database is down');
      handledFirst.push(event.key);
    });
    // cus_b, after the held and the failing event on the partition, is handled while they wait.
    await eventually(
      async () => ({ handled: [...handledFirst], failures }),
      (seen) => seen.handled.includes('cus_b') && seen.failures >= 2,
    );
    await first.stop();
    expect(handledFirst).toEqual(['cus_a', 'cus_b']);
    expect(await committedOffset(groupId, topic)).toBe('1');

    const handledSecond: string[] = [];
    const second = consumerOf(topic, { groupId, reorderWindowMs: 0 });
    consumers.push(second);
    await second.run((event) => void handledSecond.push(event.key));
    await eventually(
      async () => [...handledSecond],
      (keys) => keys.length >= 3,
    );
    // cus_b comes again: it is past the first event not handled, and a crash at this point would have been the same.
    expect(handledSecond).toEqual(['cus_held', 'cus_failing', 'cus_b']);
    await eventually(
      () => committedOffset(groupId, topic),
      (offset) => offset === '4',
    );
  });

  it('refuses a second run(), and a stop() before the group is joined ends run() instead of leaving it pending', async () => {
    const topic = await topicWith([billingMessage('cus_a', 1)]);
    const consumer = consumerOf(topic);
    consumers.push(consumer);
    const running = consumer.run(() => {});
    await expect(consumer.run(() => {})).rejects.toThrow('run() was already called on this billing event consumer');
    await consumer.stop();
    await expect(running).rejects.toThrow('the billing event consumer was stopped before it joined its group');
  });
});
