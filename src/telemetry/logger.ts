import { trace } from '@opentelemetry/api';
import pino, { Logger } from 'pino';

/** Keys that hold a secret, wherever they appear (top level or one object down). */
const SECRET_KEYS = [
  'password',
  'secret',
  'secrets',
  'token',
  'apiKey',
  'api_key',
  'accessSecret',
  'access_secret',
  'webhookSecret',
  'webhook_secret',
  'authorization',
  'cookie',
  'databaseUrl',
];

/** Anything that may hold a secret, wherever it appears in a log object. */
const REDACT_PATHS = [
  ...SECRET_KEYS,
  ...SECRET_KEYS.map((key) => `*.${key}`),
  'headers.authorization',
  '*.headers.authorization',
  'headers.cookie',
  'headers["x-api-key"]',
  'headers["hub-signature"]',
  'headers["hub-access-no"]',
  '*.headers["x-api-key"]',
  '*.headers["hub-signature"]',
  '*.headers["hub-access-no"]',
];

const CENSOR = '[redacted]';
// Credentials that travel inside text: a bearer token, a URL's user:password, a token-like query parameter.
const BEARER = /\b(Bearer|Basic)\s+[^\s"',;]+/gi;
const URL_USERINFO = /(\/\/)[^/@\s:]+:[^/@\s]*@/g;
const SECRET_QUERY = /([?&](?:[a-z_]*(?:token|key|secret|password|signature|sig))=)[^&\s"']+/gi;

/** `text` with bearer tokens, URL passwords and token-like query parameters replaced by a marker. */
export function redactText(text: string): string {
  return text
    .replace(BEARER, `$1 ${CENSOR}`)
    .replace(URL_USERINFO, `$1${CENSOR}@`)
    .replace(SECRET_QUERY, `$1${CENSOR}`);
}

/** JSON logs with the active trace id, so a log line leads to its trace; secrets are redacted by key and in text. */
export function createLogger(options: { level: string; name?: string }, destination?: pino.DestinationStream): Logger {
  const settings: pino.LoggerOptions = {
    name: options.name ?? 'billing-adapter',
    level: options.level,
    redact: { paths: REDACT_PATHS, censor: CENSOR },
    serializers: {
      url: (value: unknown) => (typeof value === 'string' ? redactText(value) : value),
      err: (error: unknown) => {
        const serialized = pino.stdSerializers.err(error as Error);
        if (typeof serialized?.message === 'string') serialized.message = redactText(serialized.message);
        if (typeof serialized?.stack === 'string') serialized.stack = redactText(serialized.stack);
        return serialized;
      },
    },
    hooks: {
      // The message text too: a secret pasted into a message is as visible as one in a field.
      logMethod(args, method) {
        const redacted = args.map((arg) => (typeof arg === 'string' ? redactText(arg) : arg));
        return method.apply(this, redacted as Parameters<typeof method>);
      },
    },
    mixin() {
      const span = trace.getActiveSpan();
      if (!span) return {};
      const { traceId, spanId } = span.spanContext();
      return { trace_id: traceId, span_id: spanId };
    },
  };
  return destination ? pino(settings, destination) : pino(settings);
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
