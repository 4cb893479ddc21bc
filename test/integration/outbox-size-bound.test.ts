import { systemClock } from '../../src/ports/clock.port';
import { openDatabase, Database } from '../../src/store/database';
import { migrateToLatest } from '../../src/store/migrate';
import { MAX_EVENT_PAYLOAD_BYTES } from '../../src/store/outbox-writer';
import { KnexUnitOfWork } from '../../src/store/unit-of-work';
import { customerEventDraft } from '../support/fixtures';
import { createTestDatabase, TestDatabase } from '../support/test-database';

const customerEvent = (name: string) => customerEventDraft('cus_big', name);

/** Inputs are bounded at the edge; should a bound be missing, the outbox still never holds an event Kafka refuses. */
describe('the outbox refuses an event larger than it may publish', () => {
  let db: TestDatabase;
  let database: Database;
  let uow: KnexUnitOfWork;

  beforeAll(async () => {
    db = await createTestDatabase();
    database = openDatabase({ databaseUrl: db.url, dataDir: ':memory:' });
    await migrateToLatest(database.knex);
    uow = new KnexUnitOfWork(database.knex, systemClock);
  });

  afterAll(async () => {
    await database?.close();
    await db?.drop();
  });

  it('fails the transaction with INVALID_ARGUMENT and writes nothing; an event under the bound is written', async () => {
    const actor = { actor: 'test', correlationId: 'c-1' };
    await expect(
      uow.transaction((repos) => repos.outbox.append(customerEvent('x'.repeat(MAX_EVENT_PAYLOAD_BYTES)), actor)),
    ).rejects.toMatchObject({ code: 'INVALID_ARGUMENT', violations: [{ field: 'request' }] });
    expect(await database.knex('outbox').count('* as n').first()).toEqual({ n: '0' });

    await uow.transaction((repos) => repos.outbox.append(customerEvent('x'.repeat(1000)), actor));
    expect(await database.knex('outbox').count('* as n').first()).toEqual({ n: '1' });
  });
});
