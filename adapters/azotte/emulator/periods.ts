import type { PeriodUnit } from './types';

const DAY_MS = 86_400_000;

/**
 * The end of a billing period starting at `start`. Months and years are calendar steps in UTC, clamped to the end
 * of a shorter month (Jan 31 + 1 month = Feb 28/29), like card-billing providers do.
 */
export function addPeriod(start: number, unit: PeriodUnit, count: number): number {
  if (unit === 'Day') return start + count * DAY_MS;
  if (unit === 'Week') return start + count * 7 * DAY_MS;
  const date = new Date(start);
  const months = unit === 'Month' ? count : count * 12;
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
    date.getUTCMilliseconds(),
  );
}

export const DAYS = (n: number): number => n * DAY_MS;
