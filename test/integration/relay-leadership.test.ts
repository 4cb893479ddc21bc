import { randomBytes } from 'node:crypto';
import { EVENT_STREAMS, topicName } from '../../src/domain/event-catalogue';
import { Database, openDatabase } from '../../src/store/database';
import { migrateToLatest } from '../../src/store/migrate';
import { OutboxRelayStore } from '../../src/store/outbox-relay-store';
import { RELAY_SESSION_NAME, relayLeadership } from '../../src/store/relay-leadership';
import { eventually } from '../support/eventually';
import { createStorefront, customerRequest } from '../support/fixtures';
import { brokersFromEnv, KafkaCollector, repeatedIds } from '../support/kafka-collector';
import { createTestDatabase, TestDatabase, withClient } from '../support/test-database';
import { call, startTestService, TestService } from '../support/test-service';

/**
 * Ends, from outside, the database session that holds the relay's lock (as PostgreSQL does when the leader's process
 * dies or its connection breaks), and waits until it is gone. How many sessions it ended.
 */
async function terminateLeaderSession(url: string): Promise<number> {
  const ended = await withClient(url, (c) =>
    c.query(
      `SELECT pg_terminate_backend(a.pid, 10000) FROM pg_stat_activity a JOIN pg_locks l ON l.pid = a.pid
        WHERE a.datname = current_database() AND a.application_name = $1 AND l.locktype = 'advisory' AND l.granted`,
      [RELAY_SESSION_NAME],
    ),
  );
  return ended.rowCount ?? 0;
}

/** The backend pids of relay sessions holding the relay's lock. */
async function leaderSessions(url: string): Promise<number[]> {
  const rows = await withClient(url, (c) =>
    c.query<{ pid: number }>(
      `SELECT a.pid FROM pg_stat_activity a JOIN pg_locks l ON l.pid = a.pid
        WHERE a.datname = current_database() AND a.application_name = $1 AND l.locktype = 'advisory' AND l.granted`,
      [RELAY_SESSION_NAME],
    ),
  );
  return rows.rows.map((r) => r.pid);
}

/** `lead()` once the store has noticed a lost session: the first call may fail on it, the next opens a new one. */
const leadAfterLoss = (store: OutboxRelayStore) => store.lead().catch(() => store.lead());

describe('relay leadership on PostgreSQL (an advisory lock held by the leader’s session)', () => {
  let db: TestDatabase;
  const databases: Database[] = [];
  const stores: OutboxRelayStore[] = [];

  beforeAll(async () => {
    db = await createTestDatabase();
    for (let i = 0; i < 2; i++) {
      const database = openDatabase({ databaseUrl: db.url, dataDir: ':memory:' });
      databases.push(database);
      stores.push(new OutboxRelayStore(database.knex, relayLeadership(database)));
    }
    await migrateToLatest(databases[0]!.knex);
  });

  afterAll(async () => {
    for (const store of stores) await store.stepDown();
    for (const database of databases) await database.close();
    await db?.drop();
  });

  it('has one leader; when its session ends the other leads on its next try, and a stepped-down lead passes on', async () => {
    const [a, b] = stores as [OutboxRelayStore, OutboxRelayStore];
    expect(await a.lead()).toBe(true);
    expect(await b.lead()).toBe(false);
    expect(await a.lead()).toBe(true);
    expect(await b.lead()).toBe(false);

    expect(await terminateLeaderSession(db.url)).toBe(1);
    // Nothing to wait out: the lock went with the session.
    expect(await b.lead()).toBe(true);
    expect(await leadAfterLoss(a)).toBe(false);
    expect(await a.lead()).toBe(false);

    await b.stepDown();
    expect(await a.lead()).toBe(true);
    expect(await b.lead()).toBe(false);
  });
});

describe('two services’ relays on one database and one Kafka', () => {
  let db: TestDatabase;
  let collector: KafkaCollector;
  const services: TestService[] = [];
  const topicPrefix = `leadership-${randomBytes(4).toString('hex')}`;

  beforeAll(async () => {
    db = await createTestDatabase();
    collector = new KafkaCollector(
      brokersFromEnv(),
      EVENT_STREAMS.map((s) => topicName(topicPrefix, s)),
    );
    await collector.start();
    // One after the other: the first one creates the schema.
    for (let i = 0; i < 2; i++) {
      services.push(
        await startTestService({
          DATABASE_URL: db.url,
          KAFKA_BROKERS: brokersFromEnv().join(','),
          KAFKA_TOPIC_PREFIX: topicPrefix,
        }),
      );
    }
    await createStorefront(services[0]!.clients.storefronts, 'leadership-store');
  });

  afterAll(async () => {
    for (const service of services) await service.close();
    await collector?.stop();
    await db?.drop();
  });

  const createCustomers = (prefix: string, n: number) =>
    Promise.all(
      Array.from({ length: n }, (_, i) => {
        const { customers } = services[i % 2]!.clients;
        return call(customers, customers.createCustomer, customerRequest('leadership-store', `${prefix}-${i}`));
      }),
    );

  /** Waits until every event in the outbox is on Kafka; their ids. */
  const allEventsOnKafka = async () => {
    const ids = await withClient(db.url, (c) => c.query<{ event_id: string }>('SELECT event_id FROM outbox'));
    const wanted = ids.rows.map((r) => r.event_id);
    await collector.waitFor((messages) => {
      const received = new Set(messages.map((m) => m.headers.ce_id));
      return wanted.every((id) => received.has(id));
    });
    return wanted;
  };

  it('publishes through one relay; when the leader’s session is ended, the lead passes and every event reaches Kafka once', async () => {
    await createCustomers('before', 20);
    const before = await allEventsOnKafka();
    // A relay counts an event once it has marked it published, a moment after Kafka has it.
    const publishedBefore = await eventually(
      () => Promise.all(services.map(publishedBy)),
      (counts) => counts[0]! + counts[1]! >= before.length,
    );
    // One relay published everything; the other waited.
    expect([...publishedBefore].sort((x, y) => x - y)).toEqual([0, before.length]);
    const [formerLeader] = await leaderSessions(db.url);

    expect(await terminateLeaderSession(db.url)).toBe(1);
    // A relay leads again on a new session (the standby, or the former leader on a new connection).
    await eventually(
      () => leaderSessions(db.url),
      (pids) => pids.length === 1 && pids[0] !== formerLeader,
    );
    await createCustomers('after', 20);
    const all = await allEventsOnKafka();

    // Never two leaders at once: no event went out twice, and the relays' counts add up to the events.
    expect(repeatedIds(collector.messages)).toEqual([]);
    const publishedAfter = await eventually(
      () => Promise.all(services.map(publishedBy)),
      (counts) => counts[0]! + counts[1]! >= all.length,
    );
    expect(publishedAfter.reduce((sum, n) => sum + n, 0)).toBe(all.length);
  });
});

/** Events this service's relay has published (its /metrics counter). */
async function publishedBy(service: TestService): Promise<number> {
  const text = await (await fetch(`http://127.0.0.1:${service.httpPort}/metrics`)).text();
  return Number(/^billing_outbox_published_total (\S+)$/m.exec(text)?.[1] ?? 0);
}
