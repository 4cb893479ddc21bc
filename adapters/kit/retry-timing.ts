/** When to send a provider call again: the provider's own `Retry-After`, else our backoff with jitter. */

/**
 * `Retry-After` in milliseconds from now: delta-seconds (`120`) or an HTTP date. Undefined when absent or
 * unreadable (the caller then falls back to its backoff); a date in the past means "now".
 */
export function retryAfterMs(header: string | undefined, nowMs: number): number | undefined {
  const value = header?.trim();
  if (!value) return undefined;
  if (/^\d{1,9}$/.test(value)) return Number(value) * 1000;
  const at = Date.parse(value);
  if (Number.isNaN(at)) return undefined;
  return Math.max(0, at - nowMs);
}

/**
 * A wait around `baseMs`: between half of it and all of it, at random, so the clients a provider outage hit at the
 * same moment do not come back at the same moment.
 */
export function jittered(baseMs: number, random: () => number): number {
  return Math.round(baseMs / 2 + (random() * baseMs) / 2);
}
