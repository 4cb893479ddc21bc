import type { BillingInterval } from './types';

export const SECOND_MS = 1000;
export const DAY_MS = 86_400_000;

/** RFC 3339 UTC with second precision ("2025-10-28T06:54:56Z"); null stays null. */
export function rfc3339(ms: number | null): string | null {
  return ms === null ? null : new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');
}

/** Wall-clock now truncated to whole seconds, the emulator clock's starting point. */
export function wholeSecondsNow(): number {
  return Math.floor(Date.now() / SECOND_MS) * SECOND_MS;
}

/**
 * `anchor` plus `count` intervals. Months and years keep the anchor's day of month, clamped to the month's length,
 * so always computing from the original anchor gives Jan 31 → Feb 28 → Mar 31 rather than drifting to the 28th.
 */
export function addInterval(anchor: number, interval: BillingInterval, count: number): number {
  if (interval === 'day') return anchor + count * DAY_MS;
  if (interval === 'week') return anchor + count * 7 * DAY_MS;
  const months = interval === 'month' ? count : count * 12;
  const date = new Date(anchor);
  const target = date.getUTCMonth() + months;
  const year = date.getUTCFullYear() + Math.floor(target / 12);
  const month = ((target % 12) + 12) % 12;
  const lastDay = new Date(Date.UTC(year, month + 1, 0)).getUTCDate();
  return Date.UTC(
    year,
    month,
    Math.min(date.getUTCDate(), lastDay),
    date.getUTCHours(),
    date.getUTCMinutes(),
    date.getUTCSeconds(),
  );
}
