import type { Logger } from 'pino';

export type LimitedLevel = 'debug' | 'info' | 'warn' | 'error';

/**
 * A log function that writes a repeated message at most once per `windowMs` (by level and first line), adding how
 * many identical lines it held back since. An outage then costs a few lines per window, not one per query.
 */
export function rateLimitedLog(
  logger: Logger,
  windowMs = 10_000,
  now: () => number = Date.now,
): (level: LimitedLevel, message: string, fields?: Record<string, unknown>) => void {
  const seen = new Map<string, { lastAt: number; suppressed: number }>();
  return (level, message, fields = {}) => {
    const [firstLine = '', ...rest] = message.split('\n');
    const key = `${level}:${firstLine}`;
    const at = now();
    const entry = seen.get(key);
    if (entry && at - entry.lastAt < windowMs) {
      entry.suppressed += 1;
      return;
    }
    const suppressed = entry?.suppressed ?? 0;
    seen.set(key, { lastAt: at, suppressed: 0 });
    // Bounded: messages that stopped repeating are forgotten once the map grows.
    if (seen.size > 1000) {
      for (const [k, v] of seen) if (at - v.lastAt >= windowMs) seen.delete(k);
    }
    const detail = rest.length > 0 ? { detail: rest.join('\n').slice(0, 2000) } : {};
    logger[level]({ ...fields, ...detail, ...(suppressed > 0 ? { suppressed } : {}) }, firstLine);
  };
}
