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
 * run unnamed, as every statement did before: each name costs a parsed query and a cached plan (tens of KB for the
 * change journal's statements) in every pooled connection's backend.
 */
export const PREPARED_STATEMENT_LIMIT = 200;

/**
 * Statements with more parameters than this run unnamed: multi-row batches and journals of many events, whose text
 * varies with their size and whose planning is small beside the rows they write. A keyed CreateCustomer's statement
 * has 42; a webhook's journal of two events with their audit rows about 50.
 */
export const PREPARED_PARAMETER_LIMIT = 64;

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
 * A name is drawn from a counter the first time its text is seen, so a name never stands for two texts (`pg`
 * refuses that). The number of texts named is bounded by `limit`; texts whose shape a caller chooses (lists of any
 * length) are not named at all.
 */
export class StatementNames {
  /** Text → its name; undefined for a text retired (see `retire`), which runs unnamed from then on. */
  private readonly names = new Map<string, string | undefined>();
  private drawn = 0;

  constructor(private readonly limit = PREPARED_STATEMENT_LIMIT) {}

  /** The statement's name, or undefined to run it unnamed. */
  nameOf(sql: string, parameters: number): string | undefined {
    if (this.names.has(sql)) return this.names.get(sql);
    if (this.names.size >= this.limit || !nameable(sql, parameters)) return undefined;
    this.drawn += 1;
    const name = `billing_${this.drawn}`;
    this.names.set(sql, name);
    return name;
  }

  /**
   * From now on `sql` runs unnamed, as before prepared statements. For a text whose prepared form a schema change
   * made unusable (see `mayBeStale`). Unnamed rather than renamed: a pooler that shares prepared statements by text
   * (PgBouncer) would hand the stale one back under any new name, and a text retired once never leaves more than one
   * unused statement behind per connection, whatever the inputs that made it fail.
   */
  retire(sql: string): void {
    this.names.set(sql, undefined);
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
 * Failures a statement prepared before a schema change can meet where the same text sent afresh would not, all
 * raised before anything runs:
 * - stale result columns: a `SELECT *` once a migration (say, a newer replica's, mid rolling deploy) added a column,
 *   recognised by the server routine that raises it, not by its (translated) message;
 * - the connection no longer having the statement (26000);
 * - the "syntax error or access rule violation" class 42, where a column's changed type meets parameter types fixed
 *   at preparation (42804 datatype_mismatch, 42883 "operator does not exist: integer = text").
 */
function mayBeStale(error: DatabaseError): boolean {
  const staleColumns = error.code === '0A000' && error.routine === 'RevalidateCachedQuery';
  return staleColumns || error.code === '26000' || error.code?.startsWith('42') === true;
}

/** Marks a failure `mayBeStale` explains, of a statement prepared earlier: nothing ran, the same call may succeed. */
const RETIRED = Symbol('billing.preparedStatementRetired');

/**
 * True when `error` is a failure of a prepared statement a schema change may have made stale; the text now runs
 * unnamed, so a retry (in a new transaction) prepares nothing stale. See `isTransactionConflict`.
 */
export function failedAsStalePreparedStatement(error: unknown): boolean {
  return typeof error === 'object' && error !== null && (error as Record<symbol, unknown>)[RETIRED] === true;
}

/** The parts of node-postgres' `Client` this file relies on: the connection's record of what it has prepared. */
interface PgConnection {
  connection?: { parsedStatements?: Record<string, string> };
  __knexTxId?: unknown;
}

/**
 * knex's `pg` client, sending data statements as named prepared statements (see `StatementNames`). Everything else,
 * connections, pooling, transactions and errors, is knex's.
 *
 * When a statement this connection prepared earlier fails in a way a schema change explains (`mayBeStale`), its
 * text is retired; outside a transaction it is run again at once, unnamed (nothing ran, and a genuine error simply
 * comes back); in a transaction PostgreSQL has aborted the transaction, so the error is marked as a conflict to retry
 * (`failedAsStalePreparedStatement`). A failure that is not the server's answer (a value `pg` cannot encode; `pg`
 * then closes the statement on the server while still counting it prepared) makes this connection prepare it again.
 */
export function preparingPgClient(names: StatementNames): typeof Knex.Client {
  class PreparingPgClient extends ClientPg {
    override async _query(connection: unknown, obj: KnexQueryObject): Promise<unknown> {
      const name = obj.sql ? names.nameOf(obj.sql, obj.bindings?.length ?? 0) : undefined;
      if (name === undefined) return super._query(connection, obj);
      const client = connection as PgConnection;
      const preparedBefore = client.connection?.parsedStatements?.[name] !== undefined;
      try {
        return await super._query(connection, { ...obj, options: { ...obj.options, name } });
      } catch (error) {
        if (!(error instanceof DatabaseError)) {
          if (client.connection?.parsedStatements) delete client.connection.parsedStatements[name];
          throw error;
        }
        // A name this connection should not have yet (42P05) is as unusable as one it had before a schema change.
        if (!mayBeStale(error) || !(preparedBefore || error.code === '42P05')) throw error;
        names.retire(obj.sql);
        if (client.__knexTxId === undefined) return super._query(connection, obj);
        Object.defineProperty(error, RETIRED, { value: true });
        throw error;
      }
    }
  }
  return PreparingPgClient as unknown as typeof Knex.Client;
}
