import type { Logger } from 'pino';

export type LimitedLevel = 'debug' | 'info' | 'warn' | 'error';

/** How many distinct lines one limiter remembers within a window; more are counted, not written. */
const DISTINCT_LINES = 1000;

interface Seen {
  lastAt: number;
  suppressed: number;
  level: LimitedLevel;
  line: string;
}

/**
 * A log function that writes a repeated message at most once per `windowMs` (by level and first line), adding how
 * many identical lines it held back since. An outage then costs a few lines per window, not one per query.
 *
 * Its memory and its cost per call are bounded whatever the messages: lines are remembered in the order they were
 * last written, so forgetting the ones a window old is a walk from the front that stops at the first recent one; and
 * beyond `distinctLines` different lines in one window (text a caller can vary, say) the rest are counted into one
 * summary line per window instead of being written. A line forgotten with repeats held back is written once more
 * with their count, so no count is lost.
 */
export function rateLimitedLog(
  logger: Logger,
  windowMs = 10_000,
  now: () => number = Date.now,
  distinctLines = DISTINCT_LINES,
): (level: LimitedLevel, message: string, fields?: Record<string, unknown>) => void {
  const seen = new Map<string, Seen>();
  const overflow = { lastAt: -Infinity, suppressed: 0 };
  const writeOverflow = (at: number) => {
    logger.warn(
      { suppressed: overflow.suppressed, distinctLines },
      'log lines held back: more distinct messages in one window than the log remembers',
    );
    overflow.lastAt = at;
    overflow.suppressed = 0;
  };
  const forget = (key: string, entry: Seen) => {
    seen.delete(key);
    if (entry.suppressed > 0) logger[entry.level]({ suppressed: entry.suppressed }, entry.line);
  };
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
    if (entry) seen.delete(key); // its count goes out with this line, below
    for (const [k, v] of seen) {
      if (at - v.lastAt < windowMs) break;
      forget(k, v);
    }
    const overflowing = !entry && seen.size >= distinctLines;
    if (overflowing) overflow.suppressed += 1;
    if (overflow.suppressed > 0 && at - overflow.lastAt >= windowMs) writeOverflow(at);
    if (overflowing) return;
    // Inserted last: the map stays in the order lines were written.
    seen.set(key, { lastAt: at, suppressed: 0, level, line: firstLine });
    const detail = rest.length > 0 ? { detail: rest.join('\n').slice(0, 2000) } : {};
    logger[level]({ ...fields, ...detail, ...(suppressed > 0 ? { suppressed } : {}) }, firstLine);
  };
}
