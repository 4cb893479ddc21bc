import knexFactory, { Knex } from 'knex';
import pino from 'pino';
import { ActionHandler, Scheduler, SchedulerOptions } from '../../src/app/background/scheduler';
import type { Clock } from '../../src/ports/clock.port';
import type { ScheduledAction } from '../../src/ports/store.port';
import { migrateToLatest } from '../../src/store/migrate';
import { KnexScheduledActionQueue } from '../../src/store/scheduled-action-queue';
import { KnexUnitOfWork } from '../../src/store/unit-of-work';
import { createTestDatabase, TestDatabase } from '../support/test-database';

const MINUTE = 60_000;
const OPTIONS: SchedulerOptions = {
  pollIntervalMs: 20,
  leaseMs: 5 * MINUTE,
  maxAttempts: 3,
  retryBaseMs: MINUTE,
  maxBackoffMs: 60 * MINUTE,
  batchSize: 10,
};

/** The scheduler on real PostgreSQL; time is a test clock moved by hand, so nothing here waits on wall time. */
describe('durable scheduler', () => {
  let db: TestDatabase;
  let knex: Knex;
  let uow: KnexUnitOfWork;
  let nowMs = Date.parse('2030-01-01T00:00:00Z');
  const clock: Clock = { now: () => new Date(nowMs) };
  const runners: Scheduler[] = [];
  let kindCounter = 0;

  beforeAll(async () => {
    db = await createTestDatabase();
    knex = knexFactory({ client: 'pg', connection: db.url, pool: { min: 0, max: 10 } });
    await migrateToLatest(knex);
    uow = new KnexUnitOfWork(knex, clock);
  });

  afterEach(async () => {
    await Promise.all(runners.splice(0).map((r) => r.stop()));
  });

  afterAll(async () => {
    await knex?.destroy();
    await db?.drop();
  });

  /** A kind of its own per test, so one test's actions never reach another's handler. */
  const freshKind = () => `test.kind_${++kindCounter}`;
  const runner = (kind: string, handler: ActionHandler, options: Partial<SchedulerOptions> = {}) => {
    const scheduler = new Scheduler(new KnexScheduledActionQueue(knex), clock, { ...OPTIONS, ...options }, silent);
    scheduler.register(kind, handler);
    runners.push(scheduler);
    return scheduler;
  };
  const schedule = (kind: string, subjectId: string, dueAt: Date, payload: Record<string, unknown> = {}) =>
    uow.transaction((repos) => repos.scheduledActions.schedule({ kind, subjectId, dueAt, payload }));
  const rowOf = async (kind: string, subjectId: string) =>
    knex('scheduled_actions').where({ kind, subject_id: subjectId }).orderBy('created_at', 'desc').first();
  const at = (offsetMs: number) => new Date(nowMs + offsetMs);

  it('runs each due action once across two runners on one database', async () => {
    const kind = freshKind();
    const runs: string[] = [];
    const handler: ActionHandler = async (action) => {
      runs.push(action.subjectId);
      await new Promise((resolve) => setImmediate(resolve));
      return 'done';
    };
    const subjects = Array.from({ length: 30 }, (_, i) => `sub_${i}`);
    for (const subject of subjects) await schedule(kind, subject, at(-1));
    const a = runner(kind, handler, { batchSize: 4 });
    const b = runner(kind, handler, { batchSize: 4 });

    for (;;) {
      const [ranA, ranB] = await Promise.all([a.runDue(), b.runDue()]);
      if (ranA + ranB === 0) break;
    }
    expect([...runs].sort()).toEqual([...subjects].sort());
    const statuses = await knex('scheduled_actions').where({ kind }).select('status');
    expect(statuses.every((r: { status: string }) => r.status === 'done')).toBe(true);
  });

  it('does not run an action before it is due', async () => {
    const kind = freshKind();
    const runs: string[] = [];
    const scheduler = runner(kind, async (action) => {
      runs.push(action.subjectId);
      return 'done';
    });
    await schedule(kind, 'sub_later', at(10 * MINUTE));

    expect(await scheduler.runDue()).toBe(0);
    nowMs += 10 * MINUTE;
    expect(await scheduler.runDue()).toBe(1);
    expect(runs).toEqual(['sub_later']);
  });

  it('survives a restart: a new runner on the same database runs what the stopped one left', async () => {
    const kind = freshKind();
    const first = runner(kind, async () => 'done');
    first.start();
    await first.stop();
    await schedule(kind, 'sub_restart', at(MINUTE), { reason: 'period end' });

    nowMs += MINUTE;
    const seen: ScheduledAction[] = [];
    const second = runner(kind, async (action) => {
      seen.push(action);
      return 'done';
    });
    second.start();
    await until(async () => (await rowOf(kind, 'sub_restart')).status === 'done');
    expect(seen).toHaveLength(1);
    expect(seen[0]!.payload).toEqual({ reason: 'period end' });
  });

  it('retries a failing handler with backoff, then marks it failed', async () => {
    const kind = freshKind();
    let calls = 0;
    const scheduler = runner(kind, async () => {
      calls++;
      throw new Error('provider said no');
    });
    await schedule(kind, 'sub_failing', at(0));

    expect(await scheduler.runDue()).toBe(1);
    let row = await rowOf(kind, 'sub_failing');
    expect(row.status).toBe('pending');
    expect(row.attempts).toBe(1);
    expect(row.last_error).toBe('provider said no');
    expect(new Date(row.due_at).getTime()).toBe(nowMs + MINUTE);

    expect(await scheduler.runDue()).toBe(0); // backing off
    nowMs += MINUTE;
    expect(await scheduler.runDue()).toBe(1);
    row = await rowOf(kind, 'sub_failing');
    expect(new Date(row.due_at).getTime()).toBe(nowMs + 2 * MINUTE); // doubled

    nowMs += 2 * MINUTE;
    expect(await scheduler.runDue()).toBe(1);
    row = await rowOf(kind, 'sub_failing');
    expect(row.status).toBe('failed');
    expect(calls).toBe(3);
    nowMs += 60 * MINUTE;
    expect(await scheduler.runDue()).toBe(0);
  });

  it('honours a retry time the handler asks for', async () => {
    const kind = freshKind();
    const scheduler = runner(kind, async () => ({ retryAt: at(7 * MINUTE), reason: 'still processing' }));
    await schedule(kind, 'sub_poll', at(0));
    await scheduler.runDue();
    const row = await rowOf(kind, 'sub_poll');
    expect(new Date(row.due_at).getTime()).toBe(nowMs + 7 * MINUTE);
    expect(row.last_error).toBe('still processing');
  });

  it('scheduling again moves the one pending action', async () => {
    const kind = freshKind();
    const first = await schedule(kind, 'sub_moved', at(MINUTE), { v: 1 });
    const moved = await schedule(kind, 'sub_moved', at(30 * MINUTE), { v: 2 });

    expect(moved.id).toBe(first.id);
    const rows = await knex('scheduled_actions').where({ kind, subject_id: 'sub_moved' });
    expect(rows).toHaveLength(1);
    expect(new Date(rows[0].due_at).getTime()).toBe(nowMs + 30 * MINUTE);
    expect(rows[0].payload).toEqual({ v: 2 });

    const runs: unknown[] = [];
    const scheduler = runner(kind, async (action) => {
      runs.push(action.payload);
      return 'done';
    });
    nowMs += MINUTE;
    expect(await scheduler.runDue()).toBe(0);
    nowMs += 29 * MINUTE;
    expect(await scheduler.runDue()).toBe(1);
    expect(runs).toEqual([{ v: 2 }]);
  });

  it("cancelling in a transaction that rolls back leaves the action scheduled (atomic with the caller's change)", async () => {
    const kind = freshKind();
    await schedule(kind, 'sub_kept', at(MINUTE));

    await expect(
      uow.transaction(async (repos) => {
        expect(await repos.scheduledActions.cancel(kind, 'sub_kept')).toBe(true);
        throw new Error('the state change failed');
      }),
    ).rejects.toThrow('the state change failed');
    expect(await uow.reads.scheduledActions.pending(kind, 'sub_kept')).toBeDefined();

    await uow.transaction((repos) => repos.scheduledActions.cancel(kind, 'sub_kept'));
    expect(await uow.reads.scheduledActions.pending(kind, 'sub_kept')).toBeUndefined();
  });

  it("takes over a crashed runner's action once its lease expires; the late run cannot complete it", async () => {
    const kind = freshKind();
    let releaseStuck!: () => void;
    const stuck = new Promise<void>((resolve) => (releaseStuck = resolve));
    const crashed = runner(kind, async () => {
      await stuck;
      return 'done';
    });
    const runs: string[] = [];
    const survivor = runner(kind, async (action) => {
      runs.push(action.id);
      return { retryAt: at(60 * MINUTE), reason: 'again later' };
    });
    await schedule(kind, 'sub_leased', at(0));

    const hung = crashed.runDue();
    await until(async () => (await rowOf(kind, 'sub_leased')).lease_owner !== null);
    expect(await survivor.runDue()).toBe(0); // leased
    nowMs += OPTIONS.leaseMs;
    expect(await survivor.runDue()).toBe(1);
    releaseStuck();
    await hung;

    const row = await rowOf(kind, 'sub_leased');
    expect(runs).toHaveLength(1);
    expect(row.status).toBe('pending'); // the survivor's retry stands; the crashed runner's 'done' was fenced off
    expect(row.attempts).toBe(2);
  });

  it('stop waits for the running handler and gives its attempt back', async () => {
    const kind = freshKind();
    let started!: () => void;
    const running = new Promise<void>((resolve) => (started = resolve));
    let finished = false;
    const scheduler = runner(kind, async (_action, signal) => {
      started();
      await new Promise((resolve) => signal.addEventListener('abort', resolve, { once: true }));
      finished = true;
      throw new Error('aborted');
    });
    await schedule(kind, 'sub_shutdown', at(0));
    scheduler.start();
    await running;
    await scheduler.stop();

    expect(finished).toBe(true);
    const row = await rowOf(kind, 'sub_shutdown');
    expect(row.status).toBe('pending');
    expect(row.attempts).toBe(0);
    expect(row.lease_owner).toBeNull();
  });
});

const silent = pino({ level: 'silent' });

/** Polls a database condition (no time limit of its own: jest's test timeout bounds it). */
async function until(condition: () => Promise<boolean>): Promise<void> {
  while (!(await condition())) await new Promise((resolve) => setTimeout(resolve, 10));
}
