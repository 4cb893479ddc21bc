import { randomBytes } from 'node:crypto';
import { Client } from 'pg';
import { Database, openDatabase } from '../../src/store/database';
import { migrateToLatest } from '../../src/store/migrate';
import { adminDatabaseUrl } from './infrastructure';
import { eventually } from './eventually';

/** A fresh PostgreSQL database for one test file, dropped afterwards. */
export interface TestDatabase {
  url: string;
  drop(): Promise<void>;
}

export async function createTestDatabase(): Promise<TestDatabase> {
  const name = `billing_test_${randomBytes(6).toString('hex')}`;
  const admin = adminDatabaseUrl();
  await withClient(admin, (c) => c.query(`CREATE DATABASE ${name}`));
  const url = new URL(admin);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    drop: () => withClient(admin, (c) => c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`)).then(() => undefined),
  };
}

export async function withClient<T>(url: string, work: (client: Client) => Promise<T>): Promise<T> {
  const client = new Client({ connectionString: url });
  await client.connect();
  try {
    return await work(client);
  } finally {
    await client.end();
  }
}

/**
 * Waits until every webhook the service at `url` has taken in is processed (none pending, retrying or waiting for a
 * gap): webhook processing is asynchronous, so a test asserts its effects only once the inbox has settled.
 */
export async function webhooksSettled(url: string): Promise<void> {
  await eventually(
    () =>
      withClient(
        url,
        async (c) =>
          (await c.query<{ n: number }>("select count(*)::int as n from webhook_inbox where status <> 'PROCESSED'"))
            .rows[0]!.n,
      ),
    (pending) => pending === 0,
  );
}

/** A test database with our schema, opened as the service opens it (see `migratedDatabase`). */
export interface MigratedDatabase {
  db: TestDatabase;
  database: Database;
}

/**
 * For a test file (or describe block) that works on the store directly: a fresh database migrated to the latest
 * schema before all its tests and dropped after them. Read its fields inside tests and hooks, once they are set.
 */
export function migratedDatabase(): MigratedDatabase {
  const handle = {} as MigratedDatabase;
  beforeAll(async () => {
    handle.db = await createTestDatabase();
    handle.database = openDatabase({ databaseUrl: handle.db.url, dataDir: ':memory:' });
    await migrateToLatest(handle.database.knex);
  });
  afterAll(async () => {
    await handle.database?.close();
    await handle.db?.drop();
  });
  return handle;
}
