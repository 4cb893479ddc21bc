import { ConfigError } from './config';

/**
 * Start-up failures that are configuration mistakes, turned into the one-line `VARIABLE: rule` of a ConfigError
 * instead of a stack trace. Anything not recognised is passed on as it is.
 */

/** A listener could not bind: the port is taken or not allowed, or HOST is not an address of this machine. */
export function listenFailure(variable: string, host: string, port: number, error: unknown): Error {
  const text = describe(error);
  if (/EADDRINUSE/.test(text)) {
    return new ConfigError(variable, `port ${port} on ${host} is already in use; choose a free port (0 = any)`);
  }
  if (/EACCES/.test(text)) {
    return new ConfigError(
      variable,
      `port ${port} on ${host} needs privileges this process lacks; use a port above 1023`,
    );
  }
  if (/EADDRNOTAVAIL|ENOTFOUND|EAI_AGAIN/.test(text)) {
    return new ConfigError('HOST', `'${host}' is not an address of this machine, so nothing can listen on it`);
  }
  return error instanceof Error ? error : new Error(text);
}

/** The first connection to PostgreSQL failed; `safeUrl` is DATABASE_URL without its password. */
export function databaseFailure(safeUrl: string, error: unknown): ConfigError {
  const code = (error as { code?: unknown } | undefined)?.code;
  const reason = typeof code === 'string' ? code : describe(error).split('\n')[0]!.slice(0, 160);
  return new ConfigError(
    'DATABASE_URL',
    `must reach a PostgreSQL server that accepts us; ${safeUrl} failed: ${reason}`,
  );
}

function describe(error: unknown): string {
  if (error instanceof Error) return `${(error as { code?: string }).code ?? ''} ${error.message}`;
  return String(error);
}
