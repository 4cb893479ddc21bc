import { BillingEvent } from '../../src/gen/billing/v1/event';
import { systemClock } from '../../src/ports/clock.port';
import { Database, openDatabase } from '../../src/store/database';
import { migrateToLatest } from '../../src/store/migrate';
import { KnexUnitOfWork } from '../../src/store/unit-of-work';
import { customerEventDraft } from '../support/fixtures';
import { createTestDatabase, TestDatabase } from '../support/test-database';

const ACTOR = { actor: 'test', correlationId: 'journal' };

const customerEvent = (key: string, name: string) => customerEventDraft(key, name, 'billing.customer.updated');

interface Row {
  key: string;
  sequence: string;
  payload: Buffer;
}

/**
 * A transaction's events, audit rows and keyed response are written in one statement at its end (the change
 * journal): each event still gets its key's next sequence, gap-free, in the order it was appended, and its payload
 * decodes to that sequence; writers of one key still commit in sequence order. On PostgreSQL and on PGlite (the
 * embedded default), since the numbering is SQL of ours.
 */
describe.each([
  ['PostgreSQL', true],
  ['PGlite', false],
])('the change journal on %s', (_name, postgres) => {
  let db: TestDatabase | undefined;
  let database: Database;
  let uow: KnexUnitOfWork;

  beforeAll(async () => {
    db = postgres ? await createTestDatabase() : undefined;
    database = openDatabase({ databaseUrl: db?.url ?? '', dataDir: ':memory:' });
    await migrateToLatest(database.knex);
    uow = new KnexUnitOfWork(database.knex, systemClock);
  });

  afterAll(async () => {
    await database?.close();
    await db?.drop();
  });

  const rowsOf = async (key: string): Promise<Row[]> =>
    database.knex('outbox').where({ key }).orderBy('id').select('key', 'sequence', 'payload');
  const decoded = (rows: Row[]) =>
    rows.map((r) => {
      const event = BillingEvent.decode(r.payload);
      return { column: Number(r.sequence), payload: Number(event.sequence), name: event.customer?.name };
    });

  it('numbers several events of several keys in one transaction, in append order, payload matching the column', async () => {
    await uow.transaction(async (repos) => {
      await repos.outbox.append(customerEvent('k-a', 'a1'), ACTOR);
      await repos.outbox.append(customerEvent('k-b', 'b1'), ACTOR);
      await repos.outbox.append(customerEvent('k-a', 'a2'), ACTOR);
      await repos.audit.record({ ...ACTOR, action: 'Test', resourceType: 'customer', resourceId: 'k-a' });
      await repos.outbox.append(customerEvent('k-a', 'a3'), ACTOR);
    });
    await uow.transaction(async (repos) => {
      await repos.outbox.append(customerEvent('k-b', 'b2'), ACTOR);
      await repos.outbox.append(customerEvent('k-a', 'a4'), ACTOR);
    });
    expect(decoded(await rowsOf('k-a'))).toEqual([
      { column: 1, payload: 1, name: 'a1' },
      { column: 2, payload: 2, name: 'a2' },
      { column: 3, payload: 3, name: 'a3' },
      { column: 4, payload: 4, name: 'a4' },
    ]);
    expect(decoded(await rowsOf('k-b'))).toEqual([
      { column: 1, payload: 1, name: 'b1' },
      { column: 2, payload: 2, name: 'b2' },
    ]);
    const audit = await database.knex('audit_log').where({ resource_id: 'k-a' }).select('action', 'actor');
    expect(audit).toEqual([{ action: 'Test', actor: 'test' }]);
  });

  it('encodes any sequence as protobuf does (varints of 1 to 9 bytes)', async () => {
    for (const n of [1n, 127n, 128n, 300n, 16_383n, 16_384n, 2n ** 31n, 2n ** 53n + 1n, 2n ** 63n - 1n]) {
      const { rows } = await database.knex.raw('SELECT billing_event_sequence_field(?::bigint) AS field', [
        n.toString(),
      ]);
      const expected = BillingEvent.encode(BillingEvent.fromPartial({ sequence: n })).finish();
      expect(Buffer.from(rows[0].field)).toEqual(Buffer.from(expected));
    }
  });

  it('writes nothing when the transaction fails after appending', async () => {
    await expect(
      uow.transaction(async (repos) => {
        await repos.outbox.append(customerEvent('k-c', 'lost'), ACTOR);
        throw new Error('the change failed');
      }),
    ).rejects.toThrow('the change failed');
    expect(await rowsOf('k-c')).toEqual([]);
    await uow.transaction((repos) => repos.outbox.append(customerEvent('k-c', 'kept'), ACTOR));
    expect(decoded(await rowsOf('k-c'))).toEqual([{ column: 1, payload: 1, name: 'kept' }]);
  });

  it('concurrent writers of one key: gap-free, and outbox order is sequence order', async () => {
    await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        uow.transaction(async (repos) => {
          await repos.outbox.append(customerEvent('k-hot', `w${i}`), ACTOR);
          await repos.outbox.append(customerEvent(`k-own-${i}`, `w${i}`), ACTOR);
          await repos.outbox.append(customerEvent('k-hot', `w${i}-again`), ACTOR);
        }),
      ),
    );
    const hot = decoded(await rowsOf('k-hot'));
    expect(hot.map((e) => e.column)).toEqual(Array.from({ length: 40 }, (_, i) => i + 1));
    expect(hot.every((e) => e.payload === e.column)).toBe(true);
    // A transaction's two events of the key are adjacent and in append order.
    for (let i = 0; i < 40; i += 2) expect(hot[i + 1]!.name).toBe(`${hot[i]!.name}-again`);
  });
});
