import { brokersFromEnv, KafkaCollector } from '../support/kafka-collector';
import { eventually } from '../support/eventually';
import { FAST_WEBHOOKS, subotizWorld, SubotizWorld } from '../support/subotiz-world';
import { createTestDatabase, TestDatabase } from '../support/test-database';
import { inMemoryTracing } from '../support/tracing';
import { startTestService, TestService } from '../support/test-service';

const exporter = inMemoryTracing();

/**
 * ARCHITECTURE: for webhooks, one trace crosses HTTP ingress → inbox → processing (and the provider call it makes)
 * → outbox → Kafka, even though processing happens after the ack, in another transaction.
 */
describe('Webhook trace continuity', () => {
  let db: TestDatabase;
  let service: TestService;
  let world: SubotizWorld;
  let collector: KafkaCollector;

  beforeAll(async () => {
    db = await createTestDatabase();
    service = await startTestService({
      DATABASE_URL: db.url,
      KAFKA_BROKERS: brokersFromEnv().join(','),
      ...FAST_WEBHOOKS,
    });
    world = await subotizWorld(service, { storefrontId: 'trace-store' });
    collector = new KafkaCollector(brokersFromEnv(), [`${service.topicPrefix}.subscriptions.v1`]);
    await collector.start();
  });

  afterAll(async () => {
    await collector?.stop();
    await world?.close();
    await service?.close();
    await db?.drop();
  });

  it('carries the ingress trace of the webhook that activated a subscription through to its Kafka event', async () => {
    const { id } = await world.activeSubscription();
    const messages = await collector.waitFor((all) =>
      all.some((m) => m.key === id && m.headers.ce_type === 'billing.subscription.activated'),
    );
    const activated = messages.find((m) => m.key === id && m.headers.ce_type === 'billing.subscription.activated')!;
    const traceId = /^00-([0-9a-f]{32})-[0-9a-f]{16}-0[01]$/.exec(activated.headers.traceparent ?? '')?.[1];
    expect(traceId).toBeDefined();

    // The produce span ends once the relay has marked the event published, which may be after the consumer saw it.
    const spans = await eventually(
      async () => exporter.getFinishedSpans().filter((s) => s.spanContext().traceId === traceId),
      (found) => found.some((s) => s.name === `${service.topicPrefix}.subscriptions.v1 publish`),
    );
    const names = spans.map((s) => s.name);
    // The trade's webhook found the subscription still INCOMPLETE and asked Subotiz: that call is in the trace too.
    expect(names).toEqual(
      expect.arrayContaining([
        'webhook.receive',
        'webhook.process',
        'subotiz GET /api/v1/subscription/{id}',
        `${service.topicPrefix}.subscriptions.v1 publish`,
      ]),
    );
    // Processing ran after the ack, in another transaction, yet as a child of the ingress span.
    const receive = spans.find((s) => s.name === 'webhook.receive')!;
    const process = spans.find((s) => s.name === 'webhook.process')!;
    expect(receive.parentSpanContext).toBeUndefined();
    expect(receive.attributes['billing.storefront_id']).toBe('trace-store');
    expect(process.parentSpanContext?.spanId).toBe(receive.spanContext().spanId);
  });
});
