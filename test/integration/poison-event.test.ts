import { ConfigResourceTypes, Kafka, logLevel } from 'kafkajs';
import type { CreateCustomerRequest } from '../../src/gen/billing/v1/customer';
import { DeadLetterKind } from '../../src/gen/billing/v1/event';
import { createMissingTopics } from '../../src/outbox/kafka-topics';
import { eventually } from '../support/eventually';
import { createStorefront } from '../support/fixtures';
import { brokersFromEnv, KafkaCollector, ReceivedMessage } from '../support/kafka-collector';
import { createTestDatabase, TestDatabase } from '../support/test-database';
import { call, gauge, startTestService, TestService } from '../support/test-service';
import { randomBytes } from 'node:crypto';

/**
 * The customers topic accepts records of at most this many bytes (a record batch, in Kafka's terms): an ordinary
 * customer's event fits, one with long-but-valid fields does not, and neither do several small ones sent together.
 */
const TOPIC_LIMIT_BYTES = 1100;
const KAFKA_DEFAULT_LIMIT_BYTES = 1048588;

const topicPrefix = `poison-${randomBytes(4).toString('hex')}`;
const customersTopic = `${topicPrefix}.customers.v1`;
const kafka = new Kafka({ clientId: 'poison-test', brokers: brokersFromEnv(), logLevel: logLevel.NOTHING });

async function setTopicLimit(bytes: number, create = false): Promise<void> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    const configEntries = [{ name: 'max.message.bytes', value: String(bytes) }];
    if (create) await createMissingTopics(admin, [{ topic: customersTopic, configEntries }]);
    else
      await admin.alterConfigs({
        validateOnly: false,
        resources: [{ type: ConfigResourceTypes.TOPIC, name: customersTopic, configEntries }],
      });
  } finally {
    await admin.disconnect();
  }
}

function customer(n: string, long = false): CreateCustomerRequest {
  return {
    storefrontId: 'poison-store',
    externalRef: long ? `user-${n}-`.padEnd(200, 'x') : `user-${n}`,
    email: `${n}@example.com`,
    name: long ? `Customer ${n} `.padEnd(200, 'n') : `Customer ${n}`,
    phone: '',
    country: 'DE',
    address: long
      ? {
          line1: 'Long street '.padEnd(200, 's'),
          line2: '',
          city: 'Berlin',
          region: '',
          postalCode: '10115',
          country: 'DE',
        }
      : undefined,
  };
}

const idsOf = (messages: ReceivedMessage[], key: string) => messages.filter((m) => m.key === key);

describe('an event Kafka refuses for good', () => {
  let db: TestDatabase;
  let service: TestService;
  let collector: KafkaCollector;

  beforeAll(async () => {
    await setTopicLimit(TOPIC_LIMIT_BYTES, true);
    db = await createTestDatabase();
    service = await startTestService({
      DATABASE_URL: db.url,
      KAFKA_BROKERS: brokersFromEnv().join(','),
      KAFKA_TOPIC_PREFIX: topicPrefix,
    });
    collector = new KafkaCollector(brokersFromEnv(), [customersTopic]);
    await collector.start();
    await createStorefront(service.clients.storefronts, 'poison-store');
  });

  afterAll(async () => {
    await collector?.stop();
    await service?.close();
    await db?.drop();
  });

  it('is parked and listed while other keys keep flowing, its key waits, nothing loops, and a retry publishes it and its key in order', async () => {
    const customers = service.clients.customers;
    const create = async (n: string, long = false) =>
      (await call(customers, customers.createCustomer, customer(n, long))).customer!.id;

    const first = await create('first');
    await collector.waitFor((all) => idsOf(all, first).length > 0);

    // Sent together so they are likely to share a batch with the poison event.
    const [poison, second, third] = await Promise.all([create('poison', true), create('second'), create('third')]);
    await call(customers, customers.updateCustomer, {
      customerId: poison!,
      name: 'Renamed while parked',
      address: undefined,
    });
    await eventually(
      () => gauge(service, 'billing_outbox_parked'),
      (n) => n === 1,
    );
    // A customer created after the parking is published too: the relay did not get stuck on the poison.
    const later = await create('later');
    const seen = await collector.waitFor((all) => [second!, third!, later].every((id) => idsOf(all, id).length > 0));

    expect(idsOf(seen, poison!)).toEqual([]);
    const { deadLetters } = await call(service.clients.events, service.clients.events.listDeadLetters, {
      storefrontId: 'poison-store',
      provider: '',
      pageSize: 50,
      pageToken: '',
    });
    expect(deadLetters).toHaveLength(1);
    const letter = deadLetters[0]!;
    expect(letter).toMatchObject({
      kind: DeadLetterKind.DEAD_LETTER_KIND_EVENT,
      eventKey: poison,
      eventType: 'billing.customer.created',
      storefrontId: 'poison-store',
    });
    expect(letter.eventId).toMatch(/^evt_/);
    expect(letter.error).toContain('MESSAGE_TOO_LARGE');

    // No loop. Kafka writes the other partitions of a request it refuses, so an event that shared the refused batch
    // may be written once per halving step (at most log2(batch) + 1 times: 3 for the 4 sent together), never more;
    // an acknowledged half is marked at once and not sent again.
    const copies = new Map<string, number>();
    for (const m of collector.messages) copies.set(m.headers.ce_id!, (copies.get(m.headers.ce_id!) ?? 0) + 1);
    const copied = collector.messages
      .filter((m) => copies.get(m.headers.ce_id!)! > 3)
      .map((m) => `${m.headers.ce_type} ${m.key} partition ${m.partition}`);
    expect(copied).toEqual([]);
    expect(collector.messages.length).toBeLessThanOrEqual(9);

    await setTopicLimit(KAFKA_DEFAULT_LIMIT_BYTES);
    const retried = await call(service.clients.events, service.clients.events.retryDeadLetter, {
      deadLetterId: letter.id,
    });
    expect(retried.deadLetter!.eventId).toBe(letter.eventId);

    const all = await collector.waitFor((messages) => idsOf(messages, poison!).length >= 2);
    const poisonMessages = idsOf(all, poison!);
    expect(poisonMessages.map((m) => m.headers.ce_type)).toEqual([
      'billing.customer.created',
      'billing.customer.updated',
    ]);
    expect(poisonMessages[0]!.headers.ce_id).toBe(letter.eventId);
    expect(await gauge(service, 'billing_outbox_parked')).toBe(0);
    const after = await call(service.clients.events, service.clients.events.listDeadLetters, {
      storefrontId: 'poison-store',
      provider: '',
      pageSize: 50,
      pageToken: '',
    });
    expect(after.deadLetters).toEqual([]);
  });
});
