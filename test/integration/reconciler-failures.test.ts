import knexFactory, { Knex } from 'knex';
import pino from 'pino';
import { Reconciler } from '../../src/app/background/reconciler';
import type { Sweep } from '../../src/app/background/sweep';
import type { Clock } from '../../src/ports/clock.port';
import { migrateToLatest } from '../../src/store/migrate';
import { KnexReconcileFailures } from '../../src/store/reconcile-failures';
import { createTestDatabase, TestDatabase } from '../support/test-database';

/** A sweep over one row whose provider check fails until told otherwise; it records what the reconciler asks. */
class FlakySweep implements Sweep {
  readonly kind = 'flaky';
  failing = true;
  parked = false;
  postponed = 0;
  constructor(private readonly id: string) {}
  async due(): Promise<string[]> {
    return this.parked ? [] : [this.id];
  }
  async settle(): Promise<string> {
    if (this.failing) throw new Error('provider timed out');
    return 'checked';
  }
  async postpone(): Promise<void> {
    this.postponed++;
  }
  async park(): Promise<void> {
    this.parked = true;
  }
}

describe('reconciler: a row that keeps failing', () => {
  let db: TestDatabase;
  let knex: Knex;
  const clock: Clock = { now: () => new Date('2030-01-01T00:00:00Z') };

  beforeAll(async () => {
    db = await createTestDatabase();
    knex = knexFactory({ client: 'pg', connection: db.url });
    await migrateToLatest(knex);
  });

  afterAll(async () => {
    await knex?.destroy();
    await db?.drop();
  });

  const failureRow = (id: string) => knex('reconcile_failures').where({ kind: 'flaky', subject_id: id }).first();
  const reconcilerOver = (sweep: Sweep, seen: string[]) =>
    new Reconciler(
      [sweep],
      new KnexReconcileFailures(knex),
      clock,
      { batchSize: 10, maxFailures: 3 },
      pino({ level: 'silent' }),
      (kind, outcome) => seen.push(`${kind}:${outcome}`),
    );

  it('is asked about again until the limit, then given up on, logged and counted', async () => {
    const sweep = new FlakySweep('sub_flaky');
    const seen: string[] = [];
    const reconciler = reconcilerOver(sweep, seen);

    await reconciler.sweep();
    await reconciler.sweep();
    expect(sweep.postponed).toBe(2);
    expect((await failureRow('sub_flaky')).failures).toBe(2);

    await reconciler.sweep();
    expect(sweep.parked).toBe(true);
    const row = await failureRow('sub_flaky');
    expect(row.failures).toBe(3);
    expect(row.last_error).toBe('provider timed out');
    expect(row.given_up_at).not.toBeNull();
    expect(seen.filter((s) => s === 'flaky:given_up')).toHaveLength(1);
    expect(await reconciler.sweep()).toBe(0);
  });

  it('forgets earlier failures once a check succeeds', async () => {
    const sweep = new FlakySweep('sub_recovers');
    const reconciler = reconcilerOver(sweep, []);
    await reconciler.sweep();
    await reconciler.sweep();
    sweep.failing = false;
    await reconciler.sweep();
    expect(await failureRow('sub_recovers')).toBeUndefined();
    sweep.failing = true;
    await reconciler.sweep();
    await reconciler.sweep();
    expect(sweep.parked).toBe(false);
  });
});
