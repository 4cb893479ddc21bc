/**
 * Broker answers that mean "these records will never be accepted as they are" — retrying the same bytes fails the
 * same way. Authorization or unknown-topic errors are not here: they are configuration, and parking every event
 * because of them would hide an outage as poison.
 */
const POISON_TYPES = new Set(['MESSAGE_TOO_LARGE', 'RECORD_LIST_TOO_LARGE', 'INVALID_RECORD', 'INVALID_TIMESTAMP']);

/** The kafkajs protocol error type when `error` (or what it wraps) is a refusal for good; undefined otherwise. */
export function refusedForGood(error: unknown): string | undefined {
  let current: unknown = error;
  // kafkajs wraps protocol errors (retrier → KafkaJSNonRetriableError → cause); a few levels are enough.
  for (let depth = 0; depth < 5 && current; depth += 1) {
    const type = (current as { type?: unknown }).type;
    if (typeof type === 'string' && POISON_TYPES.has(type)) return type;
    current =
      (current as { cause?: unknown; originalError?: unknown }).cause ??
      (current as { originalError?: unknown }).originalError;
  }
  return undefined;
}
