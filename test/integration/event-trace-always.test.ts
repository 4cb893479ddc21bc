import { startTelemetry } from '../../src/telemetry/tracing';
import { createStorefront, storefrontRequest } from '../support/fixtures';
import { brokersFromEnv, KafkaCollector } from '../support/kafka-collector';
import { createTestDatabase, TestDatabase } from '../support/test-database';
import { call, startTestService, TestService } from '../support/test-service';

/** W3C trace context: version 00, 32-hex trace id, 16-hex parent id (neither all zeros), 2-hex flags. */
const TRACEPARENT = /^00-(?!0{32})([0-9a-f]{32})-(?!0{16})[0-9a-f]{16}-([0-9a-f]{2})$/;

// Telemetry as main.ts starts it with no OTEL_* set: W3C propagation on, no tracer provider, nothing recorded.
describe('events written with no tracing set up', () => {
  let db: TestDatabase;
  let service: TestService;
  let collector: KafkaCollector;

  beforeAll(async () => {
    startTelemetry({});
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

  it('still carry a valid traceparent on Kafka without a caller trace: a fresh, unsampled trace per request', async () => {
    await createStorefront(service.clients.storefronts, 'trace-a');
    await createStorefront(service.clients.storefronts, 'trace-b');
    const messages = await collector.waitFor((all) => all.length >= 2);
    const traces = messages.map((m) => TRACEPARENT.exec(m.headers.traceparent ?? ''));
    expect(traces.every(Boolean)).toBe(true);
    // Unsampled: nothing of the trace was recorded here, but a consumer can continue it.
    expect(traces.map((t) => t![2])).toEqual(['00', '00']);
    expect(traces[0]![1]).not.toBe(traces[1]![1]);
  });

  it("carry a caller's trace on, exactly as it was stored with the event", async () => {
    const caller = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01';
    const { storefronts } = service.clients;
    await call(storefronts, storefronts.createStorefront, storefrontRequest('trace-c'), { traceparent: caller });
    const [message] = (await collector.waitFor((all) => all.some((m) => m.key === 'trace-c'))).filter(
      (m) => m.key === 'trace-c',
    );
    const stored = await service.database.knex('outbox').where({ key: 'trace-c' }).first('traceparent');
    expect(message!.headers.traceparent).toBe(stored.traceparent);
    expect(message!.headers.traceparent).toMatch(/^00-4bf92f3577b34da6a3ce929d0e0e4736-[0-9a-f]{16}-01$/);
  });
});
