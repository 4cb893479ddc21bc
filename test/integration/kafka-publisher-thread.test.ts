import pino from 'pino';
import { randomBytes } from 'node:crypto';
import { Writable } from 'node:stream';
import { KafkaPublisherThread } from '../../src/outbox/kafka-publisher-thread';
import type { OutgoingMessage } from '../../src/ports/event-publisher.port';
import { brokersFromEnv, KafkaCollector } from '../support/kafka-collector';

const topic = `thread-${randomBytes(4).toString('hex')}.customers.v1`;

function batch(from: number, to: number): OutgoingMessage[] {
  return Array.from({ length: to - from }, (_, i) => ({
    topic,
    key: 'cus_1',
    value: Buffer.from(`payload ${from + i}`),
    headers: { ce_id: `evt_${from + i}`, ce_type: 'billing.customer.created' },
  }));
}

/** A logger whose lines the test can read. */
function capturingLogger(): { logger: pino.Logger; lines: Record<string, unknown>[] } {
  const lines: Record<string, unknown>[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _encoding, done) {
      lines.push(JSON.parse(chunk.toString()) as Record<string, unknown>);
      done();
    },
  });
  return { logger: pino({ level: 'debug' }, sink), lines };
}

describe('the Kafka publisher on a thread of its own', () => {
  it('delivers batches in order, values and headers intact, and starts a new thread after close', async () => {
    const brokers = brokersFromEnv();
    const collector = new KafkaCollector(brokers, [topic]);
    await collector.start();
    const publisher = new KafkaPublisherThread({ brokers, clientId: 'thread-test', logger: capturingLogger().logger });
    try {
      await publisher.publish(batch(0, 300));
      await publisher.close();
      // The thread is gone; the next call starts another, with a new producer.
      await publisher.publish(batch(300, 600));
      const received = await collector.waitFor((messages) => messages.length >= 600);
      expect(received).toHaveLength(600);
      expect(received.map((m) => m.headers.ce_id)).toEqual(batch(0, 600).map((m) => m.headers.ce_id));
      expect(received.map((m) => m.value.toString())).toEqual(batch(0, 600).map((m) => m.value.toString()));
      expect(received.every((m) => m.key === 'cus_1' && m.headers.ce_type === 'billing.customer.created')).toBe(true);
    } finally {
      await publisher.close();
      await collector.stop();
    }
  });

  it('fails each call when no broker answers, and its kafkajs lines reach the service log', async () => {
    const { logger, lines } = capturingLogger();
    // Nothing listens on port 1: every connection is refused at once.
    const publisher = new KafkaPublisherThread({ brokers: ['127.0.0.1:1'], clientId: 'thread-test', logger });
    try {
      await expect(publisher.publish(batch(0, 1))).rejects.toThrow(/ECONNREFUSED|connect/i);
      await expect(publisher.probe()).rejects.toThrow(/ECONNREFUSED|connect/i);
      expect(lines.some((line) => line.component === 'kafkajs' && line.level === 40)).toBe(true);
    } finally {
      await publisher.close();
    }
  });
});
