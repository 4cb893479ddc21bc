/** Milliseconds before retry number `retry` (0 = the first retry), or undefined when the sender gives up. */
export type RetrySchedule = (retry: number) => number | undefined;

/** 1, 2, 4 … bases, each wait capped at `capBases`, at most `maxRetries` retries (Subotiz: 1 min … 4 h, 16 times). */
export function exponentialRetries(baseMs: number, capBases: number, maxRetries: number): RetrySchedule {
  return (retry) => (retry < maxRetries ? Math.min(2 ** retry, capBases) * baseMs : undefined);
}

/** Fixed waits in order, then give up (e.g. immediate, 5 m, 30 m, 1 h …). */
export function listedRetries(waitsMs: readonly number[]): RetrySchedule {
  return (retry) => waitsMs[retry];
}
