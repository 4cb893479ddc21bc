import type { Knex } from 'knex';
import pino from 'pino';
import { DatabaseMonitor } from '../../src/store/database-monitor';

/** A database whose next answers the test scripts: 'ok', 'error', or 'hang' (never answers). */
function scriptedDatabase(answers: Array<'ok' | 'error' | 'hang'>) {
  return {
    raw: () => {
      const next = answers.shift() ?? 'ok';
      if (next === 'ok') return Promise.resolve({ rows: [] });
      if (next === 'error') return Promise.reject(new Error('connect ECONNREFUSED 127.0.0.1:5432'));
      return new Promise(() => undefined);
    },
  } as unknown as Knex;
}

function monitor(answers: Array<'ok' | 'error' | 'hang'>) {
  const changes: boolean[] = [];
  const m = new DatabaseMonitor(
    scriptedDatabase(answers),
    { intervalMs: 1000, failuresBeforeUnreachable: 2 },
    pino({ level: 'silent' }),
    (reachable) => changes.push(reachable),
  );
  return { m, changes };
}

describe('database monitor', () => {
  it('calls the database unreachable after two failed pings in a row, and reachable at the next answer', async () => {
    const { m, changes } = monitor(['error', 'ok', 'error', 'error', 'error', 'ok']);
    for (let i = 0; i < 6; i++) await m.ping();
    expect(changes).toEqual([false, true]);
    expect(m.isReachable()).toBe(true);
  });

  it('counts a ping still unanswered at the next tick as a failure (a hung database)', async () => {
    const { m, changes } = monitor(['hang']);
    void m.ping();
    await m.ping();
    expect(m.isReachable()).toBe(true);
    await m.ping();
    expect(changes).toEqual([false]);
    expect(m.isReachable()).toBe(false);
  });
});
