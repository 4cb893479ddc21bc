import type { Knex } from 'knex';
import { Database, isTransactionConflict, openDatabase } from '../../src/store/database';
import { createTestDatabase, TestDatabase } from '../support/test-database';

/**
 * On PostgreSQL, data statements run as named prepared statements (src/store/prepared-statements.ts): a connection
 * parses a repeated statement once, and neither a schema change under a prepared `SELECT *` (a migration by a newer
 * replica mid rolling deploy) nor a value the driver cannot encode leaves a statement that keeps failing.
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
  });

  afterAll(async () => {
    await other?.close();
    await database?.close();
    await db?.drop();
  });

  const widgets = async (table: string) => {
    await other.knex.raw(`CREATE TABLE ${table} (id int PRIMARY KEY, name text NOT NULL)`);
    await other.knex(table).insert([
      { id: 1, name: 'one' },
      { id: 2, name: 'two' },
    ]);
  };

  /** The statements this connection has prepared whose text mentions `table`, with how often each ran. */
  const prepared = async (table: string) =>
    (
      await database.knex.raw<{ rows: Array<{ name: string; executions: number }> }>(
        `SELECT name, (generic_plans + custom_plans)::int AS executions FROM pg_prepared_statements
         WHERE statement LIKE ? ORDER BY prepare_time`,
        [`%"${table}"%`],
      )
    ).rows;

  it('parses a repeated statement once on a connection and reuses it', async () => {
    await widgets('reused');
    for (let i = 0; i < 12; i++)
      expect(await database.knex('reused').where({ id: 2 }).first()).toMatchObject({ name: 'two' });
    const statements = await prepared('reused');
    expect(statements).toHaveLength(1);
    expect(statements[0]!.executions).toBe(12);
  });

  it('does not prepare DDL, nor a list whose length a caller chooses', async () => {
    await database.knex.raw('CREATE TABLE "listed" (id int PRIMARY KEY)');
    await database.knex('listed').whereIn('id', [1, 2, 3]).select('id');
    expect(await prepared('listed')).toEqual([]);
  });

  it('answers a prepared SELECT * with the new column after another session adds one, from then on unnamed', async () => {
    await widgets('grown');
    const readAll = () => database.knex('grown').select('*').orderBy('id');
    expect(await readAll()).toEqual([
      { id: 1, name: 'one' },
      { id: 2, name: 'two' },
    ]);
    await other.knex.raw(`ALTER TABLE grown ADD COLUMN colour text NOT NULL DEFAULT 'red'`);
    for (let i = 0; i < 2; i++) {
      expect(await readAll()).toEqual([
        { id: 1, name: 'one', colour: 'red' },
        { id: 2, name: 'two', colour: 'red' },
      ]);
    }
    // Only the statement prepared before the change, run once: the text is not prepared again.
    expect(await prepared('grown')).toEqual([expect.objectContaining({ executions: 1 })]);
  });

  it('runs a statement again after another session changes the type of a column it compares', async () => {
    await widgets('retyped');
    const byName = () => database.knex('retyped').where({ name: '2' }).select('id');
    expect(await byName()).toEqual([]);
    expect(await prepared('retyped')).toHaveLength(1);
    // The prepared statement compares with a text parameter; an integer column has no "= text" operator (42883).
    await other.knex.raw(`UPDATE retyped SET name = id::text`);
    await other.knex.raw(`ALTER TABLE retyped ALTER COLUMN name TYPE int USING name::int`);
    expect(await byName()).toEqual([{ id: 2 }]);
  });

  it('fails a transaction that meets such a change as a conflict to retry, and the retry succeeds', async () => {
    await widgets('altered');
    const readAll = () => database.knex.transaction((tx) => tx('altered').select('*').orderBy('id'));
    await readAll();
    await other.knex.raw(`ALTER TABLE altered ADD COLUMN size int NOT NULL DEFAULT 3`);
    const failure = await readAll().catch((error: unknown) => error);
    expect(isTransactionConflict(failure)).toBe(true);
    expect(await readAll()).toEqual([
      { id: 1, name: 'one', size: 3 },
      { id: 2, name: 'two', size: 3 },
    ]);
  });

  it('does not take a genuine error for a stale statement', async () => {
    await widgets('genuine');
    const failure = await database.knex
      .transaction((tx) => tx.raw('SELECT no_such_column FROM genuine'))
      .catch((error: unknown) => error);
    expect((failure as { code?: string }).code).toBe('42703');
    expect(isTransactionConflict(failure)).toBe(false);
  });

  it('runs a statement again after the driver failed to encode one of its values', async () => {
    await widgets('encoded');
    const named = (db: Knex, details: Record<string, unknown>) =>
      db('encoded')
        .where({ id: 1 })
        .update({ name: database.knex.raw('?::jsonb ->> ?', [details, 'n']) });
    await named(database.knex, { n: 'first' });
    expect(await prepared('encoded')).toHaveLength(1);
    // JSON.stringify cannot encode a BigInt: pg fails the call before it runs and closes the prepared statement.
    await expect(named(database.knex, { n: 10n })).rejects.toThrow(/BigInt/);
    // In a transaction, where a statement the connection no longer has could not simply be run again.
    await database.knex.transaction((tx) => named(tx, { n: 'second' }));
    expect(await database.knex('encoded').where({ id: 1 }).first()).toMatchObject({ name: 'second' });
  });
});
