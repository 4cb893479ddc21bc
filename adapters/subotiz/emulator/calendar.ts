import type { BillingInterval } from './types';

export const SECOND_MS = 1000;
export const DAY_MS = 86_400_000;

export { rfc3339 } from '../../kit/emulator/clock';

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
