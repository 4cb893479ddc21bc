import { createStorefront } from '../support/fixtures';
import { brokersFromEnv, KafkaCollector } from '../support/kafka-collector';
import { createTestDatabase, TestDatabase } from '../support/test-database';
import { startTestService, TestService } from '../support/test-service';

/** W3C trace context: version 00, 32-hex trace id, 16-hex parent id (neither all zeros), 2-hex flags. */
const TRACEPARENT = /^00-(?!0{32})([0-9a-f]{32})-(?!0{16})[0-9a-f]{16}-([0-9a-f]{2})$/;

// No tracing is set up in this process (as in production with no OTEL_* set): the caller sends no trace either.
describe('an event written without a caller trace', () => {
  let db: TestDatabase;
  let service: TestService;
  let collector: KafkaCollector;

  beforeAll(async () => {
    db = await createTestDatabase();
    service = await startTestService({ DATABASE_URL: db.url, KAFKA_BROKERS: brokersFromEnv().join(',') });
    collector = new KafkaCollector(brokersFromEnv(), [`${service.topicPrefix}.storefronts.v1`]);
    await collector.start();
  });

  afterAll(async () => {
    await collector?.stop();
    await service?.close();
    await db?.drop();
  });

  it('still carries a valid traceparent on Kafka: a fresh, unsampled trace per request', async () => {
    await createStorefront(service.clients.storefronts, 'trace-a');
    await createStorefront(service.clients.storefronts, 'trace-b');
    const messages = await collector.waitFor((all) => all.length >= 2);
    const traces = messages.map((m) => TRACEPARENT.exec(m.headers.traceparent ?? ''));
    expect(traces.every(Boolean)).toBe(true);
    // Unsampled: nothing of the trace was recorded here, but a consumer can continue it.
    expect(traces.map((t) => t![2])).toEqual(['00', '00']);
    expect(traces[0]![1]).not.toBe(traces[1]![1]);
  });
});
