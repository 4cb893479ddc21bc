import * as grpc from '@grpc/grpc-js';
import { format } from 'node:util';
import type { Logger } from 'pino';
import { rateLimitedLog } from './rate-limited-log';

// grpc-js reports metadata it drops with the whole value ("Failed to add metadata entry authorization: Bearer …"),
// and an `authorization` value is a caller's key. Its value goes; the entry's name and the reason stay.
const DROPPED_ENTRY = /Failed to add metadata entry ([^:]*):.*$/s;

export interface GrpcJsLine {
  message: string;
  /** The name of the metadata entry grpc-js dropped (cut to 64 characters), kept out of the message. */
  entry?: string;
}

/**
 * A line grpc-js logs, without a metadata value it quotes. The dropped entry's name, which any caller chooses, is a
 * field rather than part of the message: the message stays one line the log limiter counts, however many names a
 * caller sends.
 */
export function withoutMetadataValues(text: string): GrpcJsLine {
  const dropped = DROPPED_ENTRY.exec(text);
  if (!dropped) return { message: text };
  return {
    message: 'Failed to add metadata entry: [redacted] (not a valid metadata value; dropped)',
    entry: dropped[1]!.slice(0, 64),
  };
}

/**
 * grpc-js logs to the console by default: not JSON, and with dropped metadata values in it. Its lines go through the
 * service's logger instead (JSON, redacted, rate-limited, as every other line). grpc-js's logger is process-wide.
 */
export function routeGrpcJsLogs(logger: Logger): void {
  const log = rateLimitedLog(logger.child({ component: 'grpc-js' }));
  const write =
    (level: 'warn' | 'info' | 'debug') =>
    (...args: unknown[]) => {
      const { message, entry } = withoutMetadataValues(format(...args));
      log(level, message, entry === undefined ? {} : { entry });
    };
  grpc.setLogger({ error: write('warn'), info: write('info'), debug: write('debug') });
}
