import { trace } from '@opentelemetry/api';
import pino, { Logger } from 'pino';

/** Anything that may hold a secret, wherever it appears in a log object. */
const REDACT_PATHS = [
  'password',
  'secret',
  'token',
  'apiKey',
  'api_key',
  'authorization',
  '*.password',
  '*.secret',
  '*.token',
  '*.apiKey',
  '*.api_key',
  '*.authorization',
  'headers.authorization',
  'headers["x-api-key"]',
  'headers["hub-signature"]',
  'databaseUrl',
  '*.databaseUrl',
];

/** JSON logs with the active trace id, so a log line leads to its trace. */
export function createLogger(options: { level: string; name?: string }): Logger {
  return pino({
    name: options.name ?? 'billing-adapter',
    level: options.level,
    redact: { paths: REDACT_PATHS, censor: '[redacted]' },
    mixin() {
      const span = trace.getActiveSpan();
      if (!span) return {};
      const { traceId, spanId } = span.spanContext();
      return { trace_id: traceId, span_id: spanId };
    },
  });
}

/** Hides the password in a connection string before it is logged or shown. */
export function redactUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = 'redacted';
    return parsed.toString();
  } catch {
    return '[unparseable url]';
  }
}
