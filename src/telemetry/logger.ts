import { isSpanContextValid, trace } from '@opentelemetry/api';
import pino, { Logger } from 'pino';
import { redactSecrets, redactText } from './secret-redaction';

export { redactText } from './secret-redaction';

/**
 * JSON logs with the active trace id, so a log line leads to its trace. Secrets are redacted by key name at any depth
 * (secret-redaction.ts), inside text, in errors, in child-logger bindings and in the message itself.
 */
export function createLogger(options: { level: string; name?: string }, destination?: pino.DestinationStream): Logger {
  const settings: pino.LoggerOptions = {
    name: options.name ?? 'billing-adapter',
    level: options.level,
    formatters: {
      // Every logged object, whatever its shape: pino's path-based redaction only sees the paths listed in advance.
      log: (object) => redactSecrets(object) as Record<string, unknown>,
    },
    serializers: {
      // `log` above already turned errors into plain, redacted objects; pino's default would re-serialize them.
      err: (error: unknown) => (error instanceof Error ? redactSecrets(error) : error),
      // The final message, after interpolation, and also the one pino takes from an error logged without one.
      msg: (message: unknown) => (typeof message === 'string' ? redactText(message) : message),
    },
    mixin() {
      const spanContext = trace.getActiveSpan()?.spanContext();
      // Untraced work has no span active, or one whose ids are zeros (see UntracedContextManager): no fields then.
      if (!spanContext || !isSpanContextValid(spanContext)) return {};
      return { trace_id: spanContext.traceId, span_id: spanContext.spanId };
    },
  };
  const logger = destination ? pino(settings, destination) : pino(settings);
  // Pino formats the root's bindings only and writes a child's as given, so they are redacted on the way in; children
  // inherit this method, so grandchildren are covered too.
  const child = logger.child;
  logger.child = function redactedChild(this: unknown, bindings: pino.Bindings, ...rest: unknown[]) {
    return Reflect.apply(child, this, [redactSecrets(bindings), ...rest]);
  };
  return logger;
}

/** Hides the password (and token-like query parameters) in a URL before it is logged or shown. */
export function redactUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = 'redacted';
    return redactText(parsed.toString());
  } catch {
    return '[unparseable url]';
  }
}
