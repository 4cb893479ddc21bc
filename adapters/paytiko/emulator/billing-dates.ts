/** A membership's billing unit (the document's `intervalType`). */
export type IntervalType = 'Daily' | 'Weekly' | 'Monthly' | 'Annually';

const DAY_MS = 86_400_000;

/**
 * The end of the period that starts at `start` (epoch ms, UTC), keeping the start's time of day. Months follow the
 * document's month-end rule: the day of month is kept when the target month has it, else the month's last day, and
 * the next period starts from that shifted day (Jan 31 → Feb 28 → Mar 28; Jan 31 → Feb 29 → Mar 29 in leap years).
 * Years: Feb 29 → Feb 28. Pure, so each boundary depends only on the previous one.
 */
export function nextBoundary(start: number, intervalType: IntervalType, intervalCount: number): number {
  switch (intervalType) {
    case 'Daily':
      return start + intervalCount * DAY_MS;
    case 'Weekly':
      return start + 7 * intervalCount * DAY_MS;
    case 'Monthly':
      return addMonths(start, intervalCount);
    case 'Annually':
      return addMonths(start, 12 * intervalCount);
  }
}

function addMonths(start: number, months: number): number {
  const date = new Date(start);
  const monthIndex = date.getUTCMonth() + months;
  const year = date.getUTCFullYear() + Math.floor(monthIndex / 12);
  const month = monthIndex % 12;
  const day = Math.min(date.getUTCDate(), daysInMonth(year, month));
  const timeOfDay = start - Date.UTC(date.getUTCFullYear(), date.getUTCMonth(), date.getUTCDate());
  return Date.UTC(year, month, day) + timeOfDay;
}

function daysInMonth(year: number, month: number): number {
  return new Date(Date.UTC(year, month + 1, 0)).getUTCDate();
}
