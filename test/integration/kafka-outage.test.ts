import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createStorefront } from '../support/fixtures';
import { kafkaLocal } from '../support/infrastructure';
import { KafkaCollector } from '../support/kafka-collector';
import { createTestDatabase, TestDatabase, withClient } from '../support/test-database';
import { call, startTestService, TestService } from '../support/test-service';

// This test stops its broker, so it runs its own on another port instead of the shared one.
const PORT = '19092';
const BROKERS = [`127.0.0.1:${PORT}`];
const stateDir = fs.mkdtempSync(path.join(os.tmpdir(), 'kafka-outage-'));
const broker = (command: 'start' | 'stop') => kafkaLocal(command, { KAFKA_PORT: PORT, KAFKA_LOCAL_DIR: stateDir });

describe('Kafka goes away for a while', () => {
  let db: TestDatabase;
  let service: TestService;
  let collector: KafkaCollector;

  beforeAll(async () => {
    broker('start');
    db = await createTestDatabase();
    service = await startTestService({ DATABASE_URL: db.url, KAFKA_BROKERS: BROKERS.join(',') });
    collector = new KafkaCollector(BROKERS, [`${service.topicPrefix}.customers.v1`]);
    await collector.start();
  });

  afterAll(async () => {
    await collector?.stop().catch(() => undefined);
    await service?.close();
    await db?.drop();
    broker('stop');
    fs.rmSync(stateDir, { recursive: true, force: true });
  });

  it('keeps events in the outbox while the broker is down and delivers each, in order per key, after restart', async () => {
    const customers = service.clients.customers;
    await createStorefront(service.clients.storefronts, 'outage-store');
    const before = await call(customers, customers.createCustomer, customer(0));
    await collector.waitFor((all) => all.some((m) => m.key === before.customer!.id));

    broker('stop');
    const created: string[] = [before.customer!.id];
    for (let i = 1; i <= 5; i++) {
      const { customer: c } = await call(customers, customers.createCustomer, customer(i));
      created.push(c!.id);
      // Two updates per customer: three events per key whose order consumers rely on.
      await call(customers, customers.updateCustomer, { customerId: c!.id, name: `Renamed ${i}`, address: undefined });
      await call(customers, customers.updateCustomer, {
        customerId: c!.id,
        name: `Renamed again ${i}`,
        address: undefined,
      });
    }
    const waiting = await withClient(db.url, (c) => c.query('SELECT count(*)::int AS n FROM outbox_pending'));
    expect(waiting.rows[0].n).toBeGreaterThanOrEqual(15);

    broker('start');
    const expectedEvents = 1 + 5 * 3;
    const messages = await collector.waitFor(
      (all) => new Set(all.map((m) => m.headers.ce_id)).size >= expectedEvents,
      90_000,
    );

    const firstSeen = new Map<string, (typeof messages)[number]>();
    for (const m of messages) if (!firstSeen.has(m.headers.ce_id!)) firstSeen.set(m.headers.ce_id!, m);
    expect(firstSeen.size).toBe(expectedEvents);
    const stored = await withClient(db.url, (c) => c.query('SELECT event_id FROM outbox ORDER BY id'));
    const customerEventIds = new Set(stored.rows.map((r) => r.event_id));
    for (const id of firstSeen.keys()) expect(customerEventIds.has(id)).toBe(true);

    for (const id of created.slice(1)) {
      const perKey = [...firstSeen.values()].filter((m) => m.key === id);
      expect(perKey.map((m) => m.headers.ce_type)).toEqual([
        'billing.customer.created',
        'billing.customer.updated',
        'billing.customer.updated',
      ]);
      expect(perKey.map((m) => Number(m.headers.ce_sequence))).toEqual([1, 2, 3]);
    }
    const after = await withClient(db.url, (c) => c.query('SELECT count(*)::int AS n FROM outbox_pending'));
    expect(after.rows[0].n).toBe(0);
  });
});

function customer(i: number) {
  return {
    storefrontId: 'outage-store',
    externalRef: `user-${i}`,
    email: `user${i}@example.com`,
    name: `User ${i}`,
    phone: '',
    country: 'DE',
    address: undefined,
  };
}
