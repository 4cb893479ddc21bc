/** One piece of work a record has falling due (a renewal, a dunning retry, an expiry …) at `at` (epoch ms). */
export interface DueItem {
  at: number;
  run(): void;
}

// A clock advance of years over many daily subscriptions is still only thousands of steps; a bug that left an item
// due forever would hang the advance, and this turns it into an error instead.
const MAX_STEPS = 1_000_000;

/**
 * The item due earliest at or before `until` among all `records`' items. On a tie the earlier record's wins (a Map
 * iterates in creation order, so the older record goes first), then the item listed first.
 */
export function earliestDue<R>(
  records: Iterable<R>,
  itemsOf: (record: R) => DueItem[],
  until: number,
): DueItem | undefined {
  let best: DueItem | undefined;
  for (const record of records) {
    for (const item of itemsOf(record)) {
      if (item.at <= until && (!best || item.at < best.at)) best = item;
    }
  }
  return best;
}

/**
 * Runs due work earliest first until none is left: `next()` is asked again after every item (running one can make
 * another due, or settle it), and `run(item)` runs it with the clock pinned where the emulator wants it. Answers how
 * many items ran; throws `<label>: due work did not settle` if work never stops falling due.
 */
export function runDueWork(next: () => DueItem | undefined, run: (item: DueItem) => void, label: string): number {
  for (let step = 0; step < MAX_STEPS; step += 1) {
    const item = next();
    if (!item) return step;
    run(item);
  }
  throw new Error(`${label}: due work did not settle`);
}
