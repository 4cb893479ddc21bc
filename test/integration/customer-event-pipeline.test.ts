import { BillingEvent } from '../../src/gen/billing/v1/event';
import { createStorefront } from '../support/fixtures';
import { brokersFromEnv, KafkaCollector } from '../support/kafka-collector';
import { eventually } from '../support/eventually';
import { createTestDatabase, TestDatabase } from '../support/test-database';
import { inMemoryTracing } from '../support/tracing';
import { bearer, call, startTestService, TEST_KEYS, TestService } from '../support/test-service';

const exporter = inMemoryTracing();

const TRACE_ID = '4bf92f3577b34da6a3ce929d0e0e4736';
const CALLER_TRACEPARENT = `00-${TRACE_ID}-00f067aa0ba902b7-01`;

describe('CreateCustomer → outbox → Kafka (CloudEvents binary mode)', () => {
  let db: TestDatabase;
  let service: TestService;
  let collector: KafkaCollector;

  beforeAll(async () => {
    db = await createTestDatabase();
    service = await startTestService({ DATABASE_URL: db.url, KAFKA_BROKERS: brokersFromEnv().join(',') });
    collector = new KafkaCollector(brokersFromEnv(), [
      `${service.topicPrefix}.customers.v1`,
      `${service.topicPrefix}.storefronts.v1`,
    ]);
    await collector.start();
  });

  afterAll(async () => {
    await collector?.stop();
    await service?.close();
    await db?.drop();
  });

  it('publishes billing.customer.created with every CloudEvents header, a BillingEvent payload and the RPC trace', async () => {
    await createStorefront(service.clients.storefronts, 'eu-web');
    const { customer } = await call(
      service.clients.customers,
      service.clients.customers.createCustomer,
      {
        storefrontId: 'eu-web',
        externalRef: 'user-42',
        email: 'ada@example.com',
        name: 'Ada',
        phone: '+4915112345678',
        country: 'DE',
        address: undefined,
      },
      {
        ...bearer(TEST_KEYS.tenantAService),
        traceparent: CALLER_TRACEPARENT,
        'x-actor': 'user-42',
        'x-correlation-id': 'req-123',
      },
    );

    const [message] = (
      await collector.waitFor((all) => all.some((m) => m.headers.ce_type === 'billing.customer.created'))
    ).filter((m) => m.headers.ce_type === 'billing.customer.created');

    expect(message!.topic).toBe(`${service.topicPrefix}.customers.v1`);
    expect(message!.key).toBe(customer!.id);
    const h = message!.headers;
    expect(h.ce_specversion).toBe('1.0');
    expect(h.ce_id).toMatch(/^evt_[0-9a-z]{26}$/);
    expect(h.ce_source).toBe('/storefronts/eu-web');
    expect(h.ce_subject).toBe(customer!.id);
    expect(h.ce_sequence).toBe('0000000000000000001');
    expect(h.ce_tenant).toBe('tenant-a');
    expect(h.ce_provider).toBe('');
    expect(new Date(h.ce_time!).toISOString()).toBe(h.ce_time);
    expect(h['content-type']).toBe('application/protobuf');
    // The Kafka message continues the caller's trace.
    expect(h.traceparent).toMatch(new RegExp(`^00-${TRACE_ID}-[0-9a-f]{16}-01$`));

    const event = BillingEvent.decode(message!.value);
    expect(event).toMatchObject({
      id: h.ce_id,
      type: 'billing.customer.created',
      tenantId: 'tenant-a',
      storefrontId: 'eu-web',
      aggregateId: customer!.id,
      sequence: 1n,
      // The key's name, not the x-actor the caller sent.
      actor: TEST_KEYS.tenantAService.name,
      correlationId: 'req-123',
    });
    expect(event.customer).toMatchObject({ id: customer!.id, email: 'ada@example.com', externalRef: 'user-42' });

    // One trace: gRPC server span → DB transaction → Kafka produce span, all under the caller's trace id.
    // The produce and batch spans end once the relay has marked the event published, maybe after the consumer saw it.
    const spans = await eventually(
      async () => exporter.getFinishedSpans().filter((s) => s.spanContext().traceId === TRACE_ID),
      (found) => found.some((s) => s.name === `${service.topicPrefix}.customers.v1 publish`),
    );
    const names = spans.map((s) => s.name);
    expect(names).toEqual(
      expect.arrayContaining([
        'billing.v1.CustomerService/CreateCustomer',
        'db.transaction',
        `${service.topicPrefix}.customers.v1 publish`,
      ]),
    );
    // The relay's batch span links to the produce span of this request's event.
    const linked = await eventually(
      async () =>
        exporter
          .getFinishedSpans()
          .filter((s) => s.name === 'outbox.relay publish batch')
          .some((b) => b.links.some((l) => l.context.traceId === TRACE_ID)),
      (found) => found,
    );
    expect(linked).toBe(true);
  });

  it('serves the same event from EventService.ListEvents', async () => {
    const { events } = await call(service.clients.events, service.clients.events.listEvents, {
      storefrontId: 'eu-web',
      aggregateId: '',
      types: ['billing.customer.created'],
      since: undefined,
      until: undefined,
      pageSize: 10,
      pageToken: '',
    });
    expect(events).toHaveLength(1);
    const published = collector.messages.find((m) => m.headers.ce_type === 'billing.customer.created')!;
    expect(events[0]!.id).toBe(published.headers.ce_id);
    // The same event, field for field (the wire bytes may order fields differently: the stored payload gets its
    // sequence appended when the outbox row is numbered).
    expect(BillingEvent.decode(published.value)).toEqual(events[0]);
  });
});

describe('EVENT_ENCODING=json', () => {
  it('publishes the BillingEvent as canonical JSON with content-type application/json', async () => {
    const db = await createTestDatabase();
    const service = await startTestService({
      DATABASE_URL: db.url,
      KAFKA_BROKERS: brokersFromEnv().join(','),
      EVENT_ENCODING: 'json',
    });
    const collector = new KafkaCollector(brokersFromEnv(), [`${service.topicPrefix}.storefronts.v1`]);
    try {
      await collector.start();
      await createStorefront(service.clients.storefronts, 'json-store');
      const [message] = await collector.waitFor((all) => all.length >= 1);
      expect(message!.headers['content-type']).toBe('application/json');
      const body = JSON.parse(message!.value.toString('utf8'));
      expect(body).toMatchObject({ type: 'billing.storefront.created', storefrontId: 'json-store', sequence: '1' });
      expect(body.storefront.binding.provider).toBe('subotiz');
    } finally {
      await collector.stop();
      await service.close();
      await db.drop();
    }
  });
});
