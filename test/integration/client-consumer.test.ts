import { Kafka, logLevel } from 'kafkajs';
import { randomBytes } from 'node:crypto';
import { createEventConsumer, EventConsumer, EventConsumerOptions } from '../../packages/client/src/consumer';
import type { DecodedEvent } from '../../packages/client/src/decode';
import { BillingEvent } from '../../src/gen/billing/v1/event';
import { eventually } from '../support/eventually';
import { createStorefront } from '../support/fixtures';
import { brokersFromEnv, KafkaCollector } from '../support/kafka-collector';
import { FAST_WEBHOOKS, subotizWorld, SubotizWorld } from '../support/subotiz-world';
import { createTestDatabase, TestDatabase } from '../support/test-database';
import { call, startTestService, TestService } from '../support/test-service';

/** ListEvents/ReplayEvents filters that narrow nothing; tests add the aggregate. */
const EVERY_EVENT = { storefrontId: '', types: [], since: undefined, until: undefined };
const STREAMS = ['subscriptions', 'payments', 'customers', 'storefronts'];

/** A consumer from the package, in its own group, reading the service's topics from the beginning. */
async function startConsumer(
  topicPrefix: string,
  handle: (event: DecodedEvent) => Promise<void> | void = () => {},
  options: Partial<EventConsumerOptions> = {},
): Promise<{ consumer: EventConsumer; handled: DecodedEvent[] }> {
  const handled: DecodedEvent[] = [];
  const consumer = createEventConsumer({
    kafka: new Kafka({ brokers: brokersFromEnv(), logLevel: logLevel.NOTHING }),
    groupId: `client-consumer-${randomBytes(4).toString('hex')}`,
    topicPrefix,
    fromBeginning: true,
    ...options,
  });
  // Only events whose handler succeeded count as handled.
  await consumer.run(async (event) => {
    await handle(event);
    handled.push(event);
  });
  return { consumer, handled };
}

/** ListEvents of one aggregate, all pages' worth for a test. */
async function listedEvents(service: TestService, aggregateId: string): Promise<BillingEvent[]> {
  const events = service.clients.events;
  return (
    await call(events, events.listEvents, {
      ...EVERY_EVENT,
      aggregateId,
      pageSize: 500,
      pageToken: '',
    })
  ).events;
}

const summary = (e: { id: string; type: string; sequence: bigint }) => `${e.sequence} ${e.type} ${e.id}`;

describe('the client package consumer over a real service and Kafka', () => {
  let db: TestDatabase;
  let service: TestService;
  let world: SubotizWorld;
  let raw: KafkaCollector;
  let consumer: EventConsumer;
  let handled: DecodedEvent[];

  beforeAll(async () => {
    db = await createTestDatabase();
    service = await startTestService({
      DATABASE_URL: db.url,
      KAFKA_BROKERS: brokersFromEnv().join(','),
      ...FAST_WEBHOOKS,
    });
    // The raw collector creates the four topics, so the consumer subscribes to topics that exist.
    raw = new KafkaCollector(
      brokersFromEnv(),
      STREAMS.map((stream) => `${service.topicPrefix}.${stream}.v1`),
    );
    await raw.start();
    ({ consumer, handled } = await startConsumer(service.topicPrefix));
    world = await subotizWorld(service);
  });

  afterAll(async () => {
    await consumer?.stop();
    await raw?.stop();
    await world?.close();
    await service?.close();
    await db?.drop();
  });

  /** A new active subscription's key and events, once the consumer of beforeAll has handled them all off Kafka. */
  async function newActiveSubscription(): Promise<{ key: string; events: DecodedEvent[] }> {
    const { id } = await world.activeSubscription();
    const { mine } = await eventually(
      async () => {
        const mine = handled.filter((e) => e.key === id);
        const aggregates = [...new Set([id, ...mine.map((e) => e.subject)])];
        const listed = (await Promise.all(aggregates.map((a) => listedEvents(service, a)))).flat();
        return { mine, listed };
      },
      // The invoice is paid last; before, ListEvents of the aggregates seen so far can match a partial list.
      ({ mine, listed }) => mine.some((e) => e.type === 'billing.invoice.paid') && mine.length === listed.length,
      60_000,
    );
    return { key: id, events: mine };
  }

  it("hands over a subscription's events across topics in ce_sequence order, once each, even after a replay", async () => {
    const { id } = await world.activeSubscription();
    const active = await world.subscription(id);
    const { now } = await world.control<{ now: string }>('/clock');
    const seconds = Math.ceil((active.currentPeriodEnd!.getTime() - new Date(now).getTime()) / 1000) + 60;
    await world.control('/clock/advance', { seconds });

    const ofSubscription = () => handled.filter((e) => e.key === id);
    // Everything the service recorded for the key (the subscription's own events, its invoices' and payments')
    // has been handed over: compare with ListEvents of each aggregate on the key.
    const { mine, listed } = await eventually(
      async () => {
        const mine = ofSubscription();
        const aggregates = [...new Set([id, ...mine.map((e) => e.subject)])];
        const listed = (await Promise.all(aggregates.map((a) => listedEvents(service, a)))).flat();
        return { mine, listed };
      },
      ({ mine, listed }) =>
        mine.some((e) => e.type === 'billing.subscription.renewed') &&
        mine.filter((e) => e.type === 'billing.payment.succeeded').length === 2 &&
        mine.length === listed.length,
      60_000,
    );
    expect(mine.map((e) => e.sequence)).toEqual(mine.map((_, i) => BigInt(i + 1)));
    expect(new Set(mine.map((e) => e.topic))).toEqual(
      new Set([`${service.topicPrefix}.subscriptions.v1`, `${service.topicPrefix}.payments.v1`]),
    );
    const bySequence = [...listed].sort((a, b) => Number(a.sequence - b.sequence));
    expect(mine.map((e) => summary(e.event))).toEqual(bySequence.map(summary));
    expect(mine.map(summary)).toEqual(bySequence.map(summary));
    expect(mine.map((e) => e.event)).toEqual(bySequence);

    // Replay puts the subscription's own events on Kafka again, under their original ce_id.
    const own = mine.filter((e) => e.subject === id);
    const events = service.clients.events;
    const { replayedCount } = await call(events, events.replayEvents, { ...EVERY_EVENT, aggregateId: id });
    expect(replayedCount).toBe(BigInt(own.length));
    await raw.waitFor((messages) => own.every((e) => messages.filter((m) => m.headers.ce_id === e.id).length >= 2));
    // A new event of the key, published after the replayed ones on the same partition, shows the consumer has read
    // past them.
    const subs = service.clients.subscriptions;
    await call(subs, subs.cancelSubscription, { subscriptionId: id, atPeriodEnd: true, reason: 'moving on' });
    await eventually(
      async () => ofSubscription(),
      (all) => all.some((e) => e.type === 'billing.subscription.cancellation_scheduled'),
    );
    const after = ofSubscription();
    expect(after.map((e) => e.sequence)).toEqual(after.map((_, i) => BigInt(i + 1)));
    expect(new Set(after.map((e) => e.id)).size).toBe(after.length);
    expect(after.slice(0, mine.length).map((e) => e.id)).toEqual(mine.map((e) => e.id));
  });

  it("retries a failing handler in place: the key's later events wait for it, other keys go on", async () => {
    // The other key: a customer of its own, whose only event is on the customers topic, so no partition it is on
    // holds an event of the failing key.
    const customers = service.clients.customers;
    const { customer: other } = await call(customers, customers.createCustomer, {
      storefrontId: world.storefrontId,
      externalRef: 'user-in-a-hurry',
      email: 'lin@example.com',
      name: 'Lin',
      phone: '',
      country: 'FR',
      address: undefined,
    });
    const otherKey = other!.id;
    // Once the consumer started in beforeAll has handled both keys' events, all of them are on Kafka, and a consumer
    // in a new group gets them in its first fetch (kafkajs fetches no more while a message waits for its handler).
    const { key, events: expected } = await newActiveSubscription();
    const otherKeyEvents = await listedEvents(service, otherKey);
    await eventually(
      async () => handled.filter((e) => e.key === otherKey),
      (mine) => mine.length === otherKeyEvents.length,
    );
    const failing = expected.find((e) => e.type === 'billing.payment.succeeded')!;
    expect(failing.sequence).toBeLessThan(expected[expected.length - 1]!.sequence);

    const errors: Array<{ id: string; attempt: number; message: string }> = [];
    let attempts = 0;
    let otherKeyHandled = 0;
    let otherKeyHandledWhileFailing = 0;
    const retrying = await startConsumer(
      service.topicPrefix,
      async (event) => {
        if (event.key === otherKey) otherKeyHandled++;
        if (event.id !== failing.id || ++attempts > 2) return;
        // The second attempt fails only once the other key's events are handled: were they held back behind the
        // failing key, this would time out.
        if (attempts === 2) {
          await eventually(
            async () => otherKeyHandled,
            (count) => count === otherKeyEvents.length,
          );
          otherKeyHandledWhileFailing = otherKeyHandled;
        }
        throw new Error(`could not store it (attempt ${attempts})`);
      },
      {
        onHandlerError: (error, event, attempt) =>
          errors.push({ id: event.id, attempt, message: (error as Error).message }),
      },
    );
    try {
      const mine = await eventually(
        async () => retrying.handled.filter((e) => e.key === key),
        (all) => all.length >= expected.length,
        60_000,
      );
      expect(errors).toEqual([
        { id: failing.id, attempt: 1, message: 'could not store it (attempt 1)' },
        { id: failing.id, attempt: 2, message: 'could not store it (attempt 2)' },
      ]);
      expect(attempts).toBe(3);
      // In ce_sequence order, without gaps, each once: the events after the failing one waited for it.
      expect(mine.map((e) => e.sequence)).toEqual(mine.map((_, i) => BigInt(i + 1)));
      expect(mine.map((e) => e.id)).toEqual(expected.map((e) => e.id));
      expect(otherKeyHandledWhileFailing).toBe(otherKeyEvents.length);
      expect(retrying.handled.filter((e) => e.key === otherKey).map((e) => e.event)).toEqual(otherKeyEvents);
    } finally {
      await retrying.consumer.stop();
    }
  });

  it('on stop() gives back the events waiting behind a failing handler: the next consumer of the group gets them', async () => {
    const { key, events: expected } = await newActiveSubscription();
    const failing = expected.find((e) => e.type === 'billing.payment.succeeded')!;
    const groupId = `client-consumer-${randomBytes(4).toString('hex')}`;
    let failures = 0;
    const first = await startConsumer(
      service.topicPrefix,
      (event) => {
        if (event.id === failing.id) throw new Error('the database is down');
      },
      { groupId, onHandlerError: () => failures++ },
    );
    await eventually(
      async () => failures,
      (count) => count >= 2,
    );
    await first.consumer.stop();
    const handledFirst = first.handled.filter((e) => e.key === key);
    expect(handledFirst.map((e) => e.id)).toEqual(
      expected.filter((e) => e.sequence < failing.sequence).map((e) => e.id),
    );

    const second = await startConsumer(service.topicPrefix, () => {}, { groupId });
    try {
      const handledSecond = await eventually(
        async () => second.handled.filter((e) => e.key === key),
        (mine) => mine.some((e) => e.id === expected[expected.length - 1]!.id),
        30_000,
      );
      // Nothing from the failing event on was committed, so it and its successors come again, in order.
      const fromFailing = expected.filter((e) => e.sequence >= failing.sequence).map((e) => e.id);
      expect(handledSecond.filter((e) => e.sequence >= failing.sequence).map((e) => e.id)).toEqual(fromFailing);
    } finally {
      await second.consumer.stop();
    }
  });
});

describe('the client package consumer and a service with EVENT_ENCODING=json', () => {
  it('decodes the JSON events to the same BillingEvent ListEvents returns', async () => {
    const db = await createTestDatabase();
    const service = await startTestService({
      DATABASE_URL: db.url,
      KAFKA_BROKERS: brokersFromEnv().join(','),
      EVENT_ENCODING: 'json',
    });
    const raw = new KafkaCollector(
      brokersFromEnv(),
      STREAMS.map((stream) => `${service.topicPrefix}.${stream}.v1`),
    );
    let consumer: EventConsumer | undefined;
    try {
      await raw.start();
      const started = await startConsumer(service.topicPrefix);
      consumer = started.consumer;
      await createStorefront(service.clients.storefronts, 'json-store');
      const customers = service.clients.customers;
      const { customer } = await call(customers, customers.createCustomer, {
        storefrontId: 'json-store',
        externalRef: 'user-7',
        email: 'grace@example.com',
        name: 'Grace',
        phone: '',
        country: 'FR',
        address: undefined,
      });
      const [created] = await eventually(
        async () => started.handled.filter((e) => e.key === customer!.id),
        (mine) => mine.length >= 1,
      );
      expect(created!.contentType).toBe('application/json');
      expect(created!.type).toBe('billing.customer.created');
      expect(created!.storefrontId).toBe('json-store');
      expect(created!.event).toEqual((await listedEvents(service, customer!.id))[0]);
      expect(created!.event.customer?.email).toBe('grace@example.com');
    } finally {
      await consumer?.stop();
      await raw.stop();
      await service.close();
      await db.drop();
    }
  });
});
