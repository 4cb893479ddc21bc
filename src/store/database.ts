import fs from 'node:fs';
import path from 'node:path';
import knexFactory, { Knex } from 'knex';
import ClientPgLite from 'knex-pglite';
import { Client } from 'pg';
import type { Logger } from 'pino';
import { failedAsStalePreparedStatement, preparingPgClient, StatementNames } from './prepared-statements';
import { rateLimitedLog } from '../telemetry/rate-limited-log';

/** The database the service runs on: PostgreSQL through `pg`, or embedded PGlite (same SQL, one connection). */
export interface Database {
  knex: Knex;
  /**
   * For health pings only: its own one-connection pool on PostgreSQL, so a busy pool does not look like a database
   * that is down (with PGlite, the one connection there is).
   */
  probe: Knex;
  kind: 'postgres' | 'pglite';
  /**
   * PostgreSQL only: a new connection outside the pools, with the pool's settings, for state that lives as long as
   * a session (the relay's advisory lock). The caller connects and ends it.
   */
  sessionClient?: (applicationName: string) => Client;
  close(): Promise<void>;
}

export interface DatabaseOptions {
  /** PostgreSQL connection string; when absent, embedded PGlite is used. */
  databaseUrl?: string;
  /** Directory for PGlite's files; ':memory:' keeps everything in memory. */
  dataDir: string;
  poolMax?: number;
  /**
   * How long a query waits for a pooled connection, and a new connection for PostgreSQL, before failing
   * (UNAVAILABLE to the caller). Short, so an exhausted pool or an unreachable server answers fast instead of at the
   * caller's deadline.
   */
  acquireTimeoutMs?: number;
  /** knex's own warnings ("Connection Error: ...") go here as JSON, rate-limited, instead of to the console. */
  logger?: Logger;
}

/**
 * Opens the pool. A pooled connection that dies while idle (server restart, network cut) emits 'error'; knex listens
 * for it and discards the connection, so it neither crashes the process nor is handed out again.
 */
export function openDatabase(options: DatabaseOptions): Database {
  const log = options.logger ? knexLog(options.logger.child({ component: 'knex' })) : undefined;
  if (options.databaseUrl) {
    const acquireTimeoutMs = options.acquireTimeoutMs ?? 3_000;
    const connection = (applicationName: string) => ({
      connectionString: options.databaseUrl,
      application_name: applicationName,
      connectionTimeoutMillis: acquireTimeoutMs,
      keepAlive: true,
    });
    // One naming for both pools: a name always stands for the same text in every connection.
    const client = preparingPgClient(new StatementNames());
    const pool = (applicationName: string, max: number) =>
      knexFactory({
        client,
        connection: connection(applicationName),
        pool: { min: 0, max },
        acquireConnectionTimeout: acquireTimeoutMs,
        log,
      });
    const knex = pool('billing-adapter', options.poolMax ?? 10);
    const probe = pool('billing-adapter-health', 1);
    return {
      knex,
      probe,
      kind: 'postgres',
      // A query on a session that stopped answering fails after the same wait as a pooled one would.
      sessionClient: (applicationName) =>
        new Client({ ...connection(applicationName), query_timeout: acquireTimeoutMs }),
      close: async () => {
        await probe.destroy();
        await knex.destroy();
      },
    };
  }
  let connection: Record<string, string> = {};
  if (options.dataDir !== ':memory:') {
    const dir = path.resolve(options.dataDir, 'pgdata');
    fs.mkdirSync(dir, { recursive: true });
    connection = { filename: dir };
  }
  // knex-pglite pins the pool to one connection: PGlite is a single session.
  const knex = knexFactory({ client: ClientPgLite, dialect: 'postgres', connection, log } as Knex.Config);
  return { knex, probe: knex, kind: 'pglite', close: () => knex.destroy() };
}

/** knex logs every failed connection with its stack; during an outage that is one identical line per query. */
function knexLog(logger: Logger): Knex.Config['log'] {
  const limited = rateLimitedLog(logger);
  const text = (message: unknown) => (typeof message === 'string' ? message : JSON.stringify(message));
  return {
    warn: (message) => limited('warn', text(message)),
    error: (message) => limited('error', text(message)),
    deprecate: (method, alternative) => limited('warn', `knex: ${method} is deprecated, use ${alternative}`),
    debug: (message) => logger.debug({ knex: message }, 'knex debug'),
  };
}

/**
 * True when PostgreSQL rolled the transaction back because it collided with a concurrent one: a deadlock (40P01), a
 * serialization failure (40001), or a concurrent schema change under a prepared statement
 * (`failedAsStalePreparedStatement`). Nothing of it was written and the same call may succeed at once, so ABORTED
 * ("retry") rather than INTERNAL. Looks through `cause` and aggregated errors.
 */
export function isTransactionConflict(error: unknown): boolean {
  return someInErrorChain(error, (e) => e.code === '40P01' || e.code === '40001' || failedAsStalePreparedStatement(e));
}

type ErrorLike = { name?: unknown; code?: unknown; message?: unknown; cause?: unknown; errors?: unknown };

/** `test` on `error`, its `cause` chain and aggregated `errors` (knex and pg wrap; a few levels are enough). */
function someInErrorChain(error: unknown, test: (e: ErrorLike) => boolean, depth = 0): boolean {
  if (!error || typeof error !== 'object' || depth > 5) return false;
  const e = error as ErrorLike;
  if (test(e)) return true;
  if (Array.isArray(e.errors) && e.errors.some((inner) => someInErrorChain(inner, test, depth + 1))) return true;
  return someInErrorChain(e.cause, test, depth + 1);
}

/** PostgreSQL's unique_violation. */
export function isUniqueViolation(error: unknown): boolean {
  return (error as { code?: string } | undefined)?.code === '23505';
}

/** Socket errors of a server that is down, restarting or unreachable. */
const NETWORK_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ECONNABORTED',
  'EPIPE',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENOTFOUND',
  'EAI_AGAIN',
]);

/** pg's own errors for a connection that died or never came up (no code; knex puts the SQL in front). */
const PG_CONNECTION_MESSAGES =
  /(Connection terminated|Client has encountered a connection error|Client was closed|timeout expired)/;

/**
 * True when `error` says the database is unreachable or out of capacity — worth a retry, so UNAVAILABLE rather than
 * INTERNAL: socket errors, pg's dead-connection errors, knex's pool acquire timeout (KnexTimeoutError), and the
 * SQLSTATE classes 08 (connection exception), 53 (insufficient resources: too many connections, out of memory or
 * disk) and 57P01-57P03 (admin or crash shutdown, cannot connect now). Looks through `cause` and aggregated errors.
 */
export function isDatabaseUnavailable(error: unknown): boolean {
  return someInErrorChain(error, (e) => {
    if (e.name === 'KnexTimeoutError') return true;
    if (typeof e.code === 'string') {
      return NETWORK_CODES.has(e.code) || /^(08|53)[0-9A-Z]{3}$/.test(e.code) || /^57P0[1-3]$/.test(e.code);
    }
    return typeof e.message === 'string' && PG_CONNECTION_MESSAGES.test(e.message);
  });
}
