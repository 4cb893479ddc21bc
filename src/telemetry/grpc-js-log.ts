import * as grpc from '@grpc/grpc-js';
import { format } from 'node:util';
import type { Logger } from 'pino';
import { rateLimitedLog } from './rate-limited-log';

// grpc-js reports metadata it drops with the whole value ("Failed to add metadata entry authorization: Bearer …"),
// and an `authorization` value is a caller's key. Its value goes; the entry's name and the reason stay.
const DROPPED_ENTRY = /Failed to add metadata entry ([^:]*):.*$/s;

/** The text grpc-js logs, without a metadata value it quotes (and with the entry's name cut to 64 characters). */
export function withoutMetadataValues(text: string): string {
  return text.replace(
    DROPPED_ENTRY,
    (_line, name: string) =>
      `Failed to add metadata entry ${name.slice(0, 64)}: [redacted] (not a valid metadata value; dropped)`,
  );
}

/**
 * grpc-js logs to the console by default: not JSON, and with dropped metadata values in it. Its lines go through the
 * service's logger instead (JSON, redacted, rate-limited, as every other line). grpc-js's logger is process-wide.
 */
export function routeGrpcJsLogs(logger: Logger): void {
  const log = rateLimitedLog(logger.child({ component: 'grpc-js' }));
  const write =
    (level: 'warn' | 'info' | 'debug') =>
    (...args: unknown[]) =>
      log(level, withoutMetadataValues(format(...args)));
  grpc.setLogger({ error: write('warn'), info: write('info'), debug: write('debug') });
}
