import { stdSerializers } from 'pino';

/** What a redacted value is replaced with. */
export const CENSOR = '[redacted]';

/**
 * Key names whose values are secrets, by what they are rather than by who sends them: credentials
 * (`authorization`, `cookie`, `x-api-key`, `private_key`), anything called a signature, token, secret or password
 * (`x-signature`, `webhook_secret`, `access_token`), and connection strings that embed a password. Matching is
 * case-insensitive and anywhere in the key, so a provider's own header spelling is covered without naming it.
 */
const SECRET_KEY =
  /authorization|cookie|signature|token|secret|passw(or)?d|api[-_]?key|private[-_]?key|credential|database[-_]?url|access[-_]?no/i;

/** Keys that look secret but are not: paging cursors are opaque, not credentials, and help to debug a listing. */
const NOT_SECRET_KEY = /^(next[-_]?)?page[-_]?token$/i;

// Credentials that travel inside text: a bearer token, a URL's user:password, a token-like query parameter.
const BEARER = /\b(Bearer|Basic)\s+[^\s"',;]+/gi;
const URL_USERINFO = /(\/\/)[^/@\s:]+:[^/@\s]*@/g;
const SECRET_QUERY = /([?&](?:[a-z_]*(?:token|key|secret|password|signature|sig))=)[^&\s"']+/gi;

/** Deeper than any log object we write; past it a value is dropped rather than printed unchecked. */
const MAX_DEPTH = 16;

/** True when a value stored under `key` is a secret and must not be logged. */
export function isSecretKey(key: string): boolean {
  return SECRET_KEY.test(key) && !NOT_SECRET_KEY.test(key);
}

/** `text` with bearer tokens, URL passwords and token-like query parameters replaced by a marker. */
export function redactText(text: string): string {
  return text
    .replace(BEARER, `$1 ${CENSOR}`)
    .replace(URL_USERINFO, `$1${CENSOR}@`)
    .replace(SECRET_QUERY, `$1${CENSOR}`);
}

/**
 * A copy of `value` safe to log: values under secret keys censored at any depth, secrets inside text redacted,
 * errors serialized (message, stack, own fields, cause) and redacted the same way. The input is never changed.
 */
export function redactSecrets(value: unknown): unknown {
  return redactValue(value, 0, new WeakSet<object>());
}

function redactValue(value: unknown, depth: number, ancestors: WeakSet<object>): unknown {
  if (typeof value === 'string') return redactText(value);
  if (typeof value !== 'object' || value === null) return value;
  if (depth >= MAX_DEPTH) return '[too deep]';
  if (ancestors.has(value)) return '[Circular]';
  // Errors keep their message and stack (pino's own shape); objects with toJSON log what they serialize to.
  const plain: unknown =
    value instanceof Error
      ? stdSerializers.err(value)
      : typeof (value as { toJSON?: unknown }).toJSON === 'function'
        ? (value as { toJSON: () => unknown }).toJSON()
        : value;
  if (typeof plain !== 'object' || plain === null) return redactValue(plain, depth + 1, ancestors);
  ancestors.add(value);
  try {
    if (Array.isArray(plain)) return plain.map((item) => redactValue(item, depth + 1, ancestors));
    const copy: Record<string, unknown> = {};
    for (const [key, item] of Object.entries(plain)) {
      // A flag (`signatureValid: false`) or an absent value cannot carry a secret; keep it, it explains failures.
      const censor = isSecretKey(key) && item !== null && item !== undefined && typeof item !== 'boolean';
      copy[key] = censor ? CENSOR : redactValue(item, depth + 1, ancestors);
    }
    return copy;
  } finally {
    ancestors.delete(value);
  }
}
