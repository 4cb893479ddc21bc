import pino from 'pino';
import type { Clock } from '../../src/ports/clock.port';
import type { InboxEntry, Repositories } from '../../src/ports/store.port';
import { Database, openDatabase } from '../../src/store/database';
import { migrateToLatest } from '../../src/store/migrate';
import { KnexUnitOfWork } from '../../src/store/unit-of-work';
import { KnexWebhookInbox } from '../../src/store/webhook-inbox';
import { InboxProcessor, InboxWorker } from '../../src/webhooks/inbox-worker';
import { eventually } from '../support/eventually';
import { createTestDatabase, TestDatabase } from '../support/test-database';

const RETRY_MS = 60_000;

/**
 * Stands in for the webhook pipeline's `process`: records what it applied, in order, and fails the rows it is told
 * to (a given number of times, or always). Everything else is real: PostgreSQL, the inbox store and the worker.
 */
class RecordingProcessor implements InboxProcessor {
  readonly applied: string[] = [];
  readonly failures = new Map<string, number>();

  async process(_repos: Repositories, entry: InboxEntry): Promise<string> {
    const left = this.failures.get(entry.providerEventId) ?? 0;
    if (left > 0) {
      this.failures.set(entry.providerEventId, left - 1);
      throw new Error(`processing ${entry.providerEventId} failed`);
    }
    this.applied.push(entry.providerEventId);
    return 'applied';
  }

  /** The applied ids of the given ones, in the order they were applied. */
  appliedOf(ids: readonly string[]): string[] {
    return this.applied.filter((id) => ids.includes(id));
  }
}

interface Arrival {
  id: string;
  key?: string;
  sequence?: string;
  storefront?: string;
}

function worldOn(open: () => Promise<{ database: Database; drop?: () => Promise<void> }>) {
  const clock = { at: new Date('2030-01-01T00:00:00Z') };
  const world = {
    clock: { now: () => clock.at } as Clock,
    database: undefined as unknown as Database,
    drop: undefined as undefined | (() => Promise<void>),
    processor: new RecordingProcessor(),
    worker: undefined as unknown as InboxWorker,
    /** Stores webhooks in this order of receipt, as ingress does after verification. */
    async arrive(...arrivals: Arrival[]) {
      const inbox = new KnexWebhookInbox(world.database.knex);
      for (const a of arrivals) {
        await inbox.insert({
          provider: 'ordered',
          storefrontId: a.storefront ?? 'store-1',
          providerEventId: a.id,
          eventType: 'thing.changed',
          orderingKey: a.key,
          sequence: a.sequence,
          sourceIp: '203.0.113.7',
          headers: {},
          body: Buffer.from('{}'),
          receivedAt: clock.at,
        });
      }
    },
    /**
     * Runs the worker until nothing is due, as a lane sent by the poll would (without waiting for the poll): it peeks
     * first, which also makes retries that came due claimable, then claims until it finds nothing.
     */
    async drain() {
      for (let i = 0; i < 200 && (await world.worker.processNext({ peekFirst: i === 0 })); i++);
    },
    /** Moves the clock past the retry delay, so rows waiting to retry are due. */
    later() {
      clock.at = new Date(clock.at.getTime() + RETRY_MS + 1);
    },
    async rows(ids: readonly string[]) {
      const rows = await world.database
        .knex('webhook_inbox')
        .whereIn('provider_event_id', ids)
        .select('provider_event_id', 'status', 'attempts', 'sequence', 'source_ip', 'held_back', 'waiting');
      return Object.fromEntries(rows.map((r) => [r.provider_event_id, r]));
    },
  };
  // One database per describe (PGlite starts slowly); each test starts from an empty inbox and a fresh worker.
  beforeAll(async () => {
    const opened = await open();
    world.database = opened.database;
    world.drop = opened.drop;
    await migrateToLatest(world.database.knex);
  });
  beforeEach(async () => {
    await world.database.knex('dead_letters').delete();
    await world.database.knex('webhook_inbox').delete();
    world.processor = new RecordingProcessor();
    const uow = new KnexUnitOfWork(world.database.knex, world.clock);
    world.worker = new InboxWorker(
      uow,
      world.processor,
      world.clock,
      { retryBaseMs: RETRY_MS, maxDelayMs: RETRY_MS, maxAttempts: 3, pollIntervalMs: 1_000 },
      pino({ level: 'silent' }),
    );
  });
  afterAll(async () => {
    await world.database?.close();
    await world.drop?.();
  });
  return world;
}

const postgres = async () => {
  const db: TestDatabase = await createTestDatabase();
  return { database: openDatabase({ databaseUrl: db.url, dataDir: ':memory:' }), drop: () => db.drop() };
};
const pglite = async () => ({ database: openDatabase({ dataDir: ':memory:' }) });

describe.each([
  ['PostgreSQL', postgres],
  ['embedded PGlite', pglite],
])('webhook inbox ordered per key (%s)', (_, open) => {
  const world = worldOn(open);

  it('holds back only the failing row’s key; its later rows wait, then follow it in sequence order', async () => {
    world.processor.failures.set('k9', 2);
    await world.arrive(
      { id: 'k10', key: 'cus_1', sequence: '10' },
      { id: 'k9', key: 'cus_1', sequence: '9' },
      { id: 'l2', key: 'cus_2', sequence: '2' },
      { id: 'u1' },
      { id: 'k11', key: 'cus_1', sequence: '11' },
      { id: 'l1', key: 'cus_2', sequence: '1' },
      { id: 'u2' },
      // The same key on another storefront is another key.
      { id: 'o1', key: 'cus_1', sequence: '1', storefront: 'store-2' },
    );
    const cus1 = ['k9', 'k10', 'k11'];

    await world.drain();
    expect(world.processor.appliedOf(['l1', 'l2'])).toEqual(['l1', 'l2']);
    expect(world.processor.applied).toEqual(expect.arrayContaining(['u1', 'u2', 'o1']));
    expect(world.processor.appliedOf(cus1)).toEqual([]);
    // The rows behind the failing one are held back: claims no longer read them until the key moves on.
    expect(await world.rows(cus1)).toMatchObject({
      k9: { status: 'PENDING', attempts: 1, held_back: false },
      k10: { status: 'PENDING', attempts: 0, held_back: true },
      k11: { status: 'PENDING', attempts: 0, held_back: true },
    });
    expect(await new KnexWebhookInbox(world.database.knex).countHeldBack()).toBe(2);

    world.later();
    await world.drain();
    expect(world.processor.appliedOf(cus1)).toEqual([]);
    expect(await world.rows(['k9', 'k10'])).toMatchObject({ k9: { attempts: 2 }, k10: { attempts: 0 } });

    world.later();
    await world.drain();
    expect(world.processor.appliedOf(cus1)).toEqual(['k9', 'k10', 'k11']);
    expect(await world.rows(cus1)).toMatchObject({
      k9: { status: 'PROCESSED' },
      k10: { status: 'PROCESSED' },
      k11: { status: 'PROCESSED', source_ip: '203.0.113.7' },
    });
  });

  it('releases the key once the failing row is dead-lettered; replaying the dead letter applies it afterwards', async () => {
    // Numeric order beyond 2^53 and beyond int64: compared as text, '100…' would come before '900…'.
    const m1 = { id: 'm1', key: 'cus_9', sequence: '9007199254740993' };
    const m2 = { id: 'm2', key: 'cus_9', sequence: '9007199254740994' };
    const m3 = { id: 'm3', key: 'cus_9', sequence: '100000000000000000000' };
    world.processor.failures.set('m1', 3);
    await world.arrive(m3, m2, m1);

    for (let attempt = 1; attempt <= 3; attempt++) {
      await world.drain();
      if (attempt < 3) expect(world.processor.appliedOf(['m2', 'm3'])).toEqual([]);
      world.later();
    }
    expect(world.processor.applied).toEqual(['m2', 'm3']);
    expect(await world.rows(['m1', 'm2', 'm3'])).toMatchObject({
      m1: { status: 'DEAD', attempts: 3 },
      m2: { status: 'PROCESSED', sequence: '9007199254740994' },
      m3: { status: 'PROCESSED', sequence: '100000000000000000000' },
    });

    const uow = new KnexUnitOfWork(world.database.knex, world.clock);
    const [letter] = await uow.reads.inbox.listDeadLetters({}, { size: 10 });
    expect(letter?.providerEventId).toBe('m1');
    await uow.transaction((repos) => repos.inbox.requeueDeadLetter(letter!.id, world.clock.now()));
    await world.drain();
    expect(world.processor.applied).toEqual(['m2', 'm3', 'm1']);
  });

  it('applies a row that arrives after its key failed but goes before it, then the failed one and the rest', async () => {
    world.processor.failures.set('n5', 1);
    await world.arrive({ id: 'n5', key: 'cus_5', sequence: '5' }, { id: 'n6', key: 'cus_5', sequence: '6' });
    await world.drain();
    expect(await world.rows(['n6'])).toMatchObject({ n6: { held_back: true } });

    // An earlier row of the key, delivered late: it goes first, and the rows held back behind n5 are walked again.
    await world.arrive({ id: 'n4', key: 'cus_5', sequence: '4' });
    await world.drain();
    expect(world.processor.applied).toEqual(['n4']);
    world.later();
    await world.drain();
    expect(world.processor.applied).toEqual(['n4', 'n5', 'n6']);
  });

  it('keeps rows without a key independent of each other and of failures', async () => {
    world.processor.failures.set('a', 1);
    await world.arrive({ id: 'a' }, { id: 'b' }, { id: 'c', key: 'k', sequence: '1' });
    await world.drain();
    expect(world.processor.applied).toEqual(['b', 'c']);
  });
});

describe('webhook inbox claims across replicas (PostgreSQL)', () => {
  const world = worldOn(postgres);
  /** A worker of four lanes on this world's clock, polling every `pollIntervalMs`. */
  const fourLanes = (uow: KnexUnitOfWork, processor: InboxProcessor, pollIntervalMs: number) =>
    new InboxWorker(
      uow,
      processor,
      world.clock,
      { retryBaseMs: RETRY_MS, maxDelayMs: RETRY_MS, maxAttempts: 3, pollIntervalMs, lanes: 4 },
      pino({ level: 'silent' }),
    );

  it('never hands two workers the same key at once, and skips what another worker holds', async () => {
    await world.arrive(
      { id: 'n1', key: 'cus_n', sequence: '1' },
      { id: 'n2', key: 'cus_n', sequence: '2' },
      { id: 'p1', key: 'cus_p', sequence: '1' },
    );
    const now = world.clock.now();
    const replicaA = await world.database.knex.transaction();
    const replicaB = await world.database.knex.transaction();
    try {
      const first = await new KnexWebhookInbox(replicaA).claimDue(now);
      expect(first?.providerEventId).toBe('n1');
      // n1 is in flight on A: B must not take n2 (same key) nor n1 (locked), only the other key.
      const second = await new KnexWebhookInbox(replicaB).claimDue(now);
      expect(second?.providerEventId).toBe('p1');
      expect(await new KnexWebhookInbox(world.database.knex).claimDue(now)).toBeUndefined();
      await new KnexWebhookInbox(replicaA).markProcessed(first!.id, now, 'applied');
      await replicaA.commit();
      const third = await new KnexWebhookInbox(world.database.knex).claimDue(now);
      expect(third?.providerEventId).toBe('n2');
    } finally {
      if (!replicaA.isCompleted()) await replicaA.rollback();
      if (!replicaB.isCompleted()) await replicaB.rollback();
    }
  });

  it('records a failed attempt only on a row still pending: another lane may have processed it meanwhile', async () => {
    await world.arrive({ id: 'r1' });
    const inbox = new KnexWebhookInbox(world.database.knex);
    const now = world.clock.now();
    // Lane A's attempt failed and rolled back, releasing the row; lane B claimed it and processed it.
    const entry = (await inbox.claimDue(now))!;
    await inbox.markProcessed(entry.id, now, 'applied');
    // Lane A now records its failure: as a retry, or as the last attempt.
    await inbox.scheduleRetry(entry.id, 1, 'lane A failed', new Date(now.getTime() + RETRY_MS));
    expect(await inbox.deadLetter(entry, 3, 'lane A failed', now, 'dlq_lane_a')).toBe(false);
    expect(await world.rows(['r1'])).toMatchObject({ r1: { status: 'PROCESSED', attempts: 0 } });
    expect(await world.database.knex('dead_letters').where({ id: 'dlq_lane_a' })).toEqual([]);
  });

  it('tells an idle poll whether anything is due, and makes a retry claimable when its time comes', async () => {
    const inbox = new KnexWebhookInbox(world.database.knex);
    const now = () => world.clock.now();
    expect(await inbox.wakeDue(now())).toBe(false);
    await world.arrive({ id: 'd1' });
    expect(await inbox.wakeDue(now())).toBe(true);
    const entry = (await inbox.claimDue(now()))!;
    await inbox.scheduleRetry(entry.id, 1, 'failed once', new Date(now().getTime() + RETRY_MS), now());
    expect(await inbox.wakeDue(now())).toBe(false);
    expect(await inbox.claimDue(now())).toBeUndefined();
    world.later();
    // Waiting out of the claim's walk until the poll finds its time has come.
    expect(await inbox.claimDue(now())).toBeUndefined();
    expect(await inbox.wakeDue(now())).toBe(true);
    expect((await inbox.claimDue(now()))?.id).toBe(entry.id);
    await inbox.markProcessed(entry.id, now(), 'applied');
    expect(await inbox.wakeDue(now())).toBe(false);
  });

  it('takes a webhook that lost to a concurrent transaction again at once, counting the attempt', async () => {
    let collisions = 1;
    const applied: string[] = [];
    const colliding: InboxProcessor = {
      async process(_repos, entry) {
        if (collisions-- > 0) throw Object.assign(new Error('deadlock detected'), { code: '40P01' });
        applied.push(entry.providerEventId);
        return 'applied';
      },
    };
    await world.arrive({ id: 'c1', key: 'cus_c', sequence: '1' });
    const worker = new InboxWorker(
      new KnexUnitOfWork(world.database.knex, world.clock),
      colliding,
      world.clock,
      {
        retryBaseMs: RETRY_MS,
        maxDelayMs: RETRY_MS,
        maxAttempts: 3,
        pollIntervalMs: 1_000,
        isTransactionConflict: (error) => (error as { code?: string }).code === '40P01',
      },
      pino({ level: 'silent' }),
    );
    expect(await worker.processNext()).toBe(true);
    expect(await world.rows(['c1'])).toMatchObject({ c1: { status: 'PENDING', attempts: 1 } });
    // Due again now: the clock has not moved past any retry delay.
    expect(await worker.processNext()).toBe(true);
    expect(applied).toEqual(['c1']);
    expect(await world.rows(['c1'])).toMatchObject({ c1: { status: 'PROCESSED' } });
  });

  it('works through webhooks several at a time with lanes, each once, every key in sequence order', async () => {
    // Each entry takes a while, as a provider call would: lanes overlap only if they really run at once.
    let running = 0;
    let mostAtOnce = 0;
    const applied: { key: string; sequence: number }[] = [];
    const slow: InboxProcessor = {
      async process(_repos, entry) {
        running += 1;
        mostAtOnce = Math.max(mostAtOnce, running);
        await new Promise((resolve) => setTimeout(resolve, 20));
        applied.push({ key: entry.orderingKey!, sequence: Number(entry.sequence) });
        running -= 1;
        return 'applied';
      },
    };
    const keys = ['cus_a', 'cus_b', 'cus_c', 'cus_d', 'cus_e', 'cus_f'];
    const arrivals = keys.flatMap((key) =>
      [1, 2, 3, 4, 5].map((sequence) => ({ id: `${key}-${sequence}`, key, sequence: String(sequence) })),
    );
    // A poll far beyond the test's wait: only wakes get the lanes going, as arrivals do.
    const lanes = fourLanes(new KnexUnitOfWork(world.database.knex, world.clock), slow, 600_000);
    lanes.start();
    try {
      // Every lane finds the inbox empty and pauses; then the webhooks arrive, with one wake for all of them.
      await new Promise((resolve) => setTimeout(resolve, 200));
      await world.arrive(...arrivals);
      lanes.wake();
      await eventually(
        async () => applied.length,
        (count) => count === arrivals.length,
      );
    } finally {
      await lanes.stop();
    }
    expect(mostAtOnce).toBeGreaterThan(1);
    expect(mostAtOnce).toBeLessThanOrEqual(4);
    for (const key of keys) {
      expect(applied.filter((a) => a.key === key).map((a) => a.sequence)).toEqual([1, 2, 3, 4, 5]);
    }
    const statuses = await world.database.knex('webhook_inbox').select('status').distinct();
    expect(statuses).toEqual([{ status: 'PROCESSED' }]);
  });
  it('makes a retry claimable when it comes due while every lane is busy', async () => {
    await world.arrive({ id: 'r1' }, { id: 'slow' });
    const inbox = new KnexWebhookInbox(world.database.knex);
    const failed = (await inbox.claimDue(world.clock.now()))!;
    const retryAt = new Date(world.clock.now().getTime() + RETRY_MS);
    await inbox.scheduleRetry(failed.id, 1, 'failed once', retryAt, world.clock.now());
    let busy = false;
    let release = () => {};
    const released = new Promise<void>((resolve) => (release = resolve));
    const oneSlowLane: InboxProcessor = {
      async process(_repos, entry) {
        if (entry.providerEventId === 'slow') {
          busy = true;
          await released;
        }
        world.processor.applied.push(entry.providerEventId);
        return 'applied';
      },
    };
    const worker = new InboxWorker(
      new KnexUnitOfWork(world.database.knex, world.clock),
      oneSlowLane,
      world.clock,
      { retryBaseMs: RETRY_MS, maxDelayMs: RETRY_MS, maxAttempts: 3, pollIntervalMs: 50, lanes: 1 },
      pino({ level: 'silent' }),
    );
    worker.start();
    try {
      await eventually(
        async () => busy,
        (started) => started,
      );
      world.later();
      // No lane is free to look: the poll itself makes the retry claimable.
      await eventually(
        async () => (await world.rows(['r1'])).r1.waiting,
        (waiting) => waiting === false,
      );
      release();
      await eventually(
        async () => world.processor.appliedOf(['slow', 'r1']),
        (applied) => applied.length === 2,
      );
    } finally {
      release();
      await worker.stop();
    }
  });

  it('polls once per interval however many lanes, and the poll still finds what arrived without a wake', async () => {
    const uow = new KnexUnitOfWork(world.database.knex, world.clock);
    let peeks = 0;
    const wakeDue = uow.reads.inbox.wakeDue.bind(uow.reads.inbox);
    uow.reads.inbox.wakeDue = (now) => {
      peeks += 1;
      return wakeDue(now);
    };
    const lanes = fourLanes(uow, world.processor, 100);
    lanes.start();
    try {
      // Idle for a second: each lane looks once at start, then the worker's poll looks about ten times. Lanes that
      // polled on their own timers looked about forty times.
      await new Promise((resolve) => setTimeout(resolve, 1_000));
      expect(peeks).toBeGreaterThanOrEqual(4 + 5);
      expect(peeks).toBeLessThanOrEqual(4 + 15);
      // Stored as another replica's ingress would: nobody wakes this worker, its poll finds them.
      const ids = ['p1', 'p2', 'p3', 'p4', 'p5', 'p6'];
      await world.arrive(...ids.map((id) => ({ id })));
      await eventually(
        async () => world.processor.appliedOf(ids).length,
        (count) => count === ids.length,
      );
    } finally {
      await lanes.stop();
    }
    expect(await world.rows(['p1', 'p6'])).toMatchObject({ p1: { status: 'PROCESSED' }, p6: { status: 'PROCESSED' } });
  });
});
