import fs from 'node:fs';
import path from 'node:path';
import knexFactory, { Knex } from 'knex';
import ClientPgLite from 'knex-pglite';

/** The database the service runs on: PostgreSQL through `pg`, or embedded PGlite (same SQL, one connection). */
export interface Database {
  knex: Knex;
  kind: 'postgres' | 'pglite';
  close(): Promise<void>;
}

export interface DatabaseOptions {
  /** PostgreSQL connection string; when absent, embedded PGlite is used. */
  databaseUrl?: string;
  /** Directory for PGlite's files; ':memory:' keeps everything in memory. */
  dataDir: string;
  poolMax?: number;
}

export function openDatabase(options: DatabaseOptions): Database {
  if (options.databaseUrl) {
    const knex = knexFactory({
      client: 'pg',
      connection: { connectionString: options.databaseUrl, application_name: 'billing-adapter' },
      pool: { min: 0, max: options.poolMax ?? 10 },
      acquireConnectionTimeout: 10_000,
    });
    return { knex, kind: 'postgres', close: () => knex.destroy() };
  }
  let connection: Record<string, string> = {};
  if (options.dataDir !== ':memory:') {
    const dir = path.resolve(options.dataDir, 'pgdata');
    fs.mkdirSync(dir, { recursive: true });
    connection = { filename: dir };
  }
  // knex-pglite pins the pool to one connection: PGlite is a single session.
  const knex = knexFactory({ client: ClientPgLite, dialect: 'postgres', connection } as Knex.Config);
  return { knex, kind: 'pglite', close: () => knex.destroy() };
}

/** PostgreSQL's unique_violation. */
export function isUniqueViolation(error: unknown): boolean {
  return (error as { code?: string } | undefined)?.code === '23505';
}
