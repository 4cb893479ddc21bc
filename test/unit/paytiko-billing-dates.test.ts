import { nextBoundary, type IntervalType } from '../../adapters/paytiko/emulator/billing-dates';

const at = (iso: string) => Date.parse(iso);
const iso = (ms: number) => new Date(ms).toISOString().replace('.000Z', 'Z');

/** The boundaries after `start`, each from the previous one, as the emulator renews. */
function boundaries(start: string, type: IntervalType, count: number, n: number): string[] {
  const out: string[] = [];
  let current = at(start);
  for (let i = 0; i < n; i += 1) {
    current = nextBoundary(current, type, count);
    out.push(iso(current));
  }
  return out;
}

describe('Paytiko billing dates (the document month-end rule)', () => {
  it('Jan 31 monthly renews on Feb 28, then stays on the shifted 28th', () => {
    expect(boundaries('2027-01-31T09:15:00Z', 'Monthly', 1, 4)).toEqual([
      '2027-02-28T09:15:00Z',
      '2027-03-28T09:15:00Z',
      '2027-04-28T09:15:00Z',
      '2027-05-28T09:15:00Z',
    ]);
  });

  it('respects leap years: Jan 31 → Feb 29 → Mar 29', () => {
    expect(boundaries('2028-01-31T00:00:00Z', 'Monthly', 1, 2)).toEqual([
      '2028-02-29T00:00:00Z',
      '2028-03-29T00:00:00Z',
    ]);
  });

  it('moves a 31st to the 30th of a 30-day month, and a 30th keeps its day where it exists', () => {
    expect(boundaries('2027-03-31T12:00:00Z', 'Monthly', 1, 2)).toEqual([
      '2027-04-30T12:00:00Z',
      '2027-05-30T12:00:00Z',
    ]);
    expect(boundaries('2027-05-30T12:00:00Z', 'Monthly', 1, 3)).toEqual([
      '2027-06-30T12:00:00Z',
      '2027-07-30T12:00:00Z',
      '2027-08-30T12:00:00Z',
    ]);
  });

  it('counts months in steps of intervalCount across a year end', () => {
    expect(boundaries('2027-11-30T08:00:00Z', 'Monthly', 3, 2)).toEqual([
      '2028-02-29T08:00:00Z',
      '2028-05-29T08:00:00Z',
    ]);
  });

  it('renews Feb 29 yearly on Feb 28', () => {
    expect(boundaries('2028-02-29T10:00:00Z', 'Annually', 1, 2)).toEqual([
      '2029-02-28T10:00:00Z',
      '2030-02-28T10:00:00Z',
    ]);
  });

  it('adds whole days and weeks, keeping the time of day', () => {
    expect(boundaries('2027-12-31T23:59:59Z', 'Daily', 1, 1)).toEqual(['2028-01-01T23:59:59Z']);
    expect(boundaries('2027-12-31T23:59:59Z', 'Weekly', 2, 1)).toEqual(['2028-01-14T23:59:59Z']);
  });
});
