import type { Knex } from 'knex';
import { DatabaseError } from 'pg';

interface KnexQueryObject {
  sql: string;
  bindings?: readonly unknown[];
  options?: Record<string, unknown>;
}

interface PgClientClass {
  new (config: Knex.Config): { _query(connection: unknown, obj: KnexQueryObject): Promise<unknown> };
}

/** knex's PostgreSQL client class, which `client: 'pg'` resolves to (it has no type declarations of its own). */
// eslint-disable-next-line @typescript-eslint/no-require-imports
const ClientPg = require('knex/lib/dialects/postgres/index.js') as PgClientClass;

/**
 * Statement texts that get a server-side prepared statement, per process. Past this many distinct texts, new ones
 * run unnamed, as every statement did before: each name costs a parsed query and a cached plan in every pooled
 * connection's backend.
 */
export const PREPARED_STATEMENT_LIMIT = 400;

/**
 * Statements with more parameters than this run unnamed: multi-row batches, whose text varies with their size and
 * whose planning is small beside the rows they write.
 */
export const PREPARED_PARAMETER_LIMIT = 100;

/** Only data statements: DDL (migrations) and transaction control gain nothing from a cached plan. */
const DATA_STATEMENT = /^\s*(select|insert|update|delete|with)\b/i;
/**
 * `whereIn` with a caller's list is one text per list length: left unnamed, so no caller can use up the names with
 * lists of every length (a one-element list is one text, and named). Texts arrive with knex's `?` already numbered.
 */
const PLACEHOLDER_LIST = /\bin\s*\(\s*\$\d+\s*,/i;
/** More than one statement in the text: a prepared statement holds one, so such a text must go unnamed. */
const SECOND_STATEMENT = /;\s*\S/;

/**
 * Names each distinct statement text, so `pg` sends it as a named prepared statement: a connection parses and
 * plans it once, and later executions send only the parameters. Per execution this saves PostgreSQL's parse,
 * analysis and (once PostgreSQL settles on a generic plan) planning, which profiling showed to be most of the
 * server's CPU for our one-round-trip writes (`npm run bench`, issue 13).
 *
 * A name is drawn from a counter the first time its text is seen and never reused, so a name never stands for two
 * texts (`pg` refuses that). The number of texts named at once is bounded by `limit`; texts whose shape a caller
 * chooses (lists of any length) are not named at all.
 */
export class StatementNames {
  private readonly names = new Map<string, string>();
  private drawn = 0;

  constructor(private readonly limit = PREPARED_STATEMENT_LIMIT) {}

  /** The statement's name, or undefined to run it unnamed. */
  nameOf(sql: string, parameters: number): string | undefined {
    const known = this.names.get(sql);
    if (known !== undefined) return known;
    if (this.names.size >= this.limit || !nameable(sql, parameters)) return undefined;
    this.drawn += 1;
    const name = `billing_${this.drawn}`;
    this.names.set(sql, name);
    return name;
  }

  /**
   * Forgets `name` for `sql`: its next execution is prepared afresh under a new name, on every connection. For a
   * statement a connection can no longer run as prepared (see `mustPrepareAfresh`); the old one stays, unused, in
   * the connections that prepared it until they close.
   */
  retire(sql: string, name: string): void {
    if (this.names.get(sql) === name) this.names.delete(sql);
  }
}

function nameable(sql: string, parameters: number): boolean {
  return (
    parameters <= PREPARED_PARAMETER_LIMIT &&
    DATA_STATEMENT.test(sql) &&
    !PLACEHOLDER_LIST.test(sql) &&
    !SECOND_STATEMENT.test(sql)
  );
}

/**
 * PostgreSQL refuses to run a prepared statement whose result columns changed since it was prepared, as a `SELECT *`
 * does once a migration (say, a newer replica's, mid rolling deploy) adds a column. Nothing ran; prepared afresh, the
 * same statement succeeds. Recognised by the server routine that raises it, not by its (translated) message.
 */
export function isStalePreparedStatement(error: unknown): boolean {
  const e = error as { code?: unknown; routine?: unknown } | undefined;
  return e?.code === '0A000' && e.routine === 'RevalidateCachedQuery';
}

/** SQLSTATE invalid_sql_statement_name: the connection has no statement of that name. */
const NO_SUCH_STATEMENT = '26000';
/** SQLSTATE datatype_mismatch: a column's type changed under parameter types fixed when the statement was prepared. */
const DATATYPE_MISMATCH = '42804';

/**
 * Whether a named statement's failure means the name must not be used again on that connection: the cases above,
 * and any failure that is not the server's answer — notably a value `pg` cannot encode, after which `pg` has closed
 * the statement on the server while still counting it as prepared on the connection.
 */
function mustPrepareAfresh(error: unknown): boolean {
  if (!(error instanceof DatabaseError)) return true;
  return isStalePreparedStatement(error) || error.code === NO_SUCH_STATEMENT || error.code === DATATYPE_MISMATCH;
}

/**
 * knex's `pg` client, sending data statements as named prepared statements (see `StatementNames`). Everything else,
 * connections, pooling, transactions and errors, is knex's.
 *
 * A statement that failed in a way a fresh preparation may cure (see `mustPrepareAfresh`) is retired. When nothing
 * ran (stale, or unknown to the connection) and no transaction is open, it is run again at once under a new name;
 * in a transaction the error stands (PostgreSQL has aborted the transaction) and a stale statement is reported as a
 * conflict to retry (`isTransactionConflict`).
 */
export function preparingPgClient(names: StatementNames): typeof Knex.Client {
  class PreparingPgClient extends ClientPg {
    override async _query(connection: unknown, obj: KnexQueryObject): Promise<unknown> {
      const name = obj.sql ? names.nameOf(obj.sql, obj.bindings?.length ?? 0) : undefined;
      if (name === undefined) return super._query(connection, obj);
      const options = obj.options;
      try {
        return await super._query(connection, { ...obj, options: { ...options, name } });
      } catch (error) {
        if (!mustPrepareAfresh(error)) throw error;
        names.retire(obj.sql, name);
        const nothingRan = isStalePreparedStatement(error) || (error as DatabaseError).code === NO_SUCH_STATEMENT;
        if (!nothingRan || (connection as { __knexTxId?: unknown }).__knexTxId !== undefined) throw error;
        const fresh = names.nameOf(obj.sql, obj.bindings?.length ?? 0);
        return super._query(connection, {
          ...obj,
          options: fresh === undefined ? options : { ...options, name: fresh },
        });
      }
    }
  }
  return PreparingPgClient as unknown as typeof Knex.Client;
}
