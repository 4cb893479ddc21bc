import { Database, isTransactionConflict, openDatabase } from '../../src/store/database';
import { createTestDatabase, TestDatabase } from '../support/test-database';

/**
 * On PostgreSQL, data statements run as named prepared statements (src/store/prepared-statements.ts): a connection
 * parses a repeated statement once, and a schema change under a prepared `SELECT *` (a migration by a newer replica
 * mid rolling deploy) costs at most a retry, never a stuck statement.
 */
describe('prepared statements on PostgreSQL', () => {
  let db: TestDatabase;
  let database: Database;
  // A second session, as another replica applying a migration would be.
  let other: Database;

  beforeAll(async () => {
    db = await createTestDatabase();
    // One pooled connection, so every statement below meets what the ones before it prepared.
    database = openDatabase({ databaseUrl: db.url, dataDir: ':memory:', poolMax: 1 });
    other = openDatabase({ databaseUrl: db.url, dataDir: ':memory:', poolMax: 1 });
    await database.knex.raw('CREATE TABLE widgets (id int PRIMARY KEY, name text NOT NULL)');
    await database.knex('widgets').insert([
      { id: 1, name: 'one' },
      { id: 2, name: 'two' },
    ]);
  });

  afterAll(async () => {
    await other?.close();
    await database?.close();
    await db?.drop();
  });

  const prepared = async (fragment: string) =>
    (
      await database.knex.raw<{ rows: Array<{ statement: string; executions: number }> }>(
        `SELECT statement, (generic_plans + custom_plans)::int AS executions FROM pg_prepared_statements`,
      )
    ).rows.filter((row) => row.statement.includes(fragment));

  it('parses a repeated statement once on a connection and reuses it', async () => {
    for (let i = 0; i < 12; i++)
      expect(await database.knex('widgets').where({ id: 2 }).first()).toMatchObject({ name: 'two' });
    const statements = await prepared('from "widgets" where "id"');
    expect(statements).toHaveLength(1);
    expect(statements[0]!.executions).toBe(12);
  });

  it('does not prepare DDL', async () => {
    await database.knex.raw('CREATE INDEX widgets_name ON widgets (name)');
    expect(await prepared('CREATE INDEX')).toEqual([]);
  });

  it('runs a prepared SELECT * again, with the new column, after another session adds one', async () => {
    expect(await database.knex('widgets').select('*').orderBy('id')).toEqual([
      { id: 1, name: 'one' },
      { id: 2, name: 'two' },
    ]);
    await other.knex.raw(`ALTER TABLE widgets ADD COLUMN colour text NOT NULL DEFAULT 'red'`);
    expect(await database.knex('widgets').select('*').orderBy('id')).toEqual([
      { id: 1, name: 'one', colour: 'red' },
      { id: 2, name: 'two', colour: 'red' },
    ]);
  });

  it('fails a transaction that meets the change as a conflict to retry, and the retry succeeds', async () => {
    const readAll = () => database.knex.transaction((tx) => tx('widgets').select('*').orderBy('id'));
    await readAll();
    await other.knex.raw(`ALTER TABLE widgets ADD COLUMN size int NOT NULL DEFAULT 3`);
    const failure = await readAll().catch((error: unknown) => error);
    expect(isTransactionConflict(failure)).toBe(true);
    expect(await readAll()).toEqual([
      { id: 1, name: 'one', colour: 'red', size: 3 },
      { id: 2, name: 'two', colour: 'red', size: 3 },
    ]);
  });
});
