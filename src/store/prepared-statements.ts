import type { Knex } from 'knex';

interface KnexQueryObject {
  sql: string;
  options?: Record<string, unknown>;
}

interface PgClientClass {
  new (config: Knex.Config): { _query(connection: unknown, obj: KnexQueryObject): Promise<unknown> };
}

/** knex's PostgreSQL client class, which `client: 'pg'` resolves to (it has no type declarations of its own). */
// eslint-disable-next-line @typescript-eslint/no-require-imports
const ClientPg = require('knex/lib/dialects/postgres/index.js') as PgClientClass;

/**
 * Statement texts that get a server-side prepared statement, per process. Past this many distinct texts (statements
 * whose text varies with their input, such as a batch of n rows), new ones run unnamed, as every statement did before:
 * each name costs a parsed query and a cached plan in every pooled connection's backend.
 */
export const PREPARED_STATEMENT_LIMIT = 400;

/** Only data statements: DDL (migrations) and transaction control gain nothing from a cached plan. */
const DATA_STATEMENT = /^\s*(select|insert|update|delete|with)\b/i;

/**
 * Names each distinct statement text, so `pg` sends it as a named prepared statement: a connection parses and
 * plans it once, and later executions send only the parameters. Per execution this saves PostgreSQL's parse,
 * analysis and (once PostgreSQL settles on a generic plan) planning, which profiling showed to be most of the
 * server's CPU for our one-round-trip writes (`npm run bench`, issue 13).
 *
 * A name is drawn from a counter the first time its text is seen and never reused, so a name never stands for two
 * texts (`pg` refuses that). The number of texts named at once is bounded by `limit`.
 */
export class StatementNames {
  private readonly names = new Map<string, string>();
  private drawn = 0;

  constructor(private readonly limit = PREPARED_STATEMENT_LIMIT) {}

  /** The statement's name, or undefined to run it unnamed. */
  nameOf(sql: string): string | undefined {
    const known = this.names.get(sql);
    if (known !== undefined) return known;
    if (this.names.size >= this.limit || !DATA_STATEMENT.test(sql)) return undefined;
    this.drawn += 1;
    const name = `billing_${this.drawn}`;
    this.names.set(sql, name);
    return name;
  }

  /**
   * Forgets `name` for `sql`: its next execution is prepared afresh under a new name. For a statement whose cached
   * form the server no longer accepts (see `isStalePreparedStatement`); the old one stays, unused, in the
   * connections that prepared it until they close.
   */
  retire(sql: string, name: string): void {
    if (this.names.get(sql) === name) this.names.delete(sql);
  }
}

/**
 * PostgreSQL refuses to run a prepared statement whose result columns changed since it was prepared, as a `SELECT *`
 * does once a migration (say, a newer replica's, mid rolling deploy) adds a column. Nothing ran; prepared afresh, the
 * same statement succeeds.
 */
export function isStalePreparedStatement(error: unknown): boolean {
  const e = error as { code?: unknown; message?: unknown } | undefined;
  return e?.code === '0A000' && typeof e.message === 'string' && e.message.includes('cached plan must not change');
}

/**
 * knex's `pg` client, sending data statements as named prepared statements (see `StatementNames`). Everything else,
 * connections, pooling, transactions and errors, is knex's.
 *
 * A stale statement (see `isStalePreparedStatement`) is retired; outside a transaction it is run again at once, in
 * a transaction the error stands (PostgreSQL has aborted the transaction) and is reported as a conflict to retry
 * (`isTransactionConflict`).
 */
export function preparingPgClient(names: StatementNames): typeof Knex.Client {
  class PreparingPgClient extends ClientPg {
    override async _query(connection: unknown, obj: KnexQueryObject): Promise<unknown> {
      const name = obj.sql ? names.nameOf(obj.sql) : undefined;
      if (name === undefined) return super._query(connection, obj);
      const options = obj.options;
      try {
        return await super._query(connection, { ...obj, options: { ...options, name } });
      } catch (error) {
        if (!isStalePreparedStatement(error)) throw error;
        names.retire(obj.sql, name);
        if ((connection as { __knexTxId?: unknown }).__knexTxId !== undefined) throw error;
        const fresh = names.nameOf(obj.sql);
        return super._query(connection, {
          ...obj,
          options: fresh === undefined ? options : { ...options, name: fresh },
        });
      }
    }
  }
  return PreparingPgClient as unknown as typeof Knex.Client;
}
