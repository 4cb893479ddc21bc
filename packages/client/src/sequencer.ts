/** What the sequencer needs to know of an event: its Kafka key, its ce_sequence and its ce_id. */
export interface SequencedItem {
  key: string;
  sequence: bigint;
  id: string;
}

/** Timers the sequencer waits with; injected so tests decide when time passes. */
export interface SequencerTimers {
  setTimeout(callback: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

export interface SequencerOptions<T extends SequencedItem> {
  /** How long an event waits for a missing predecessor before it and those behind it are released anyway. */
  reorderWindowMs: number;
  /** How many ce_ids (and keys) are remembered to drop duplicates. */
  capacity: number;
  /** Called with events of one key in ascending sequence order. */
  release: (items: T[]) => void;
  /** Called for an event dropped as already seen. */
  drop: (item: T) => void;
  timers?: SequencerTimers;
}

interface KeyState<T> {
  /** Highest sequence handed on; 0n before the first. */
  last: bigint;
  /** Sequences at or below `last` that were skipped when a window ran out: still welcome, once, if they come late. */
  gaps: Array<{ from: bigint; to: bigint }>;
  held: T[];
  timer?: unknown;
}

/**
 * Re-orders each key's events by ce_sequence across topics and drops duplicates, in memory. Memory is bounded: the
 * last `capacity` ce_ids and keys are remembered, so a duplicate older than that can come through again.
 */
export class EventSequencer<T extends SequencedItem> {
  private readonly seenIds: BoundedSet<string>;
  private readonly keys: KeyStates<T>;
  private readonly timers: SequencerTimers;

  constructor(private readonly options: SequencerOptions<T>) {
    this.seenIds = new BoundedSet(options.capacity);
    this.keys = new KeyStates(options.capacity);
    this.timers = options.timers ?? { setTimeout, clearTimeout: (h) => clearTimeout(h as NodeJS.Timeout) };
  }

  /** Takes one event; it is released (now or later), or dropped as a duplicate. */
  offer(item: T): void {
    const state = this.keys.get(item.key);
    // A held event's id counts too: the same ce_id under another sequence is still the same event.
    if (this.seenIds.has(item.id) || state?.held.some((h) => h.sequence === item.sequence || h.id === item.id)) {
      return this.options.drop(item);
    }
    if (!state) {
      this.keys.set(item.key, { last: 0n, gaps: [], held: [item] });
      return this.releaseContiguous(item.key);
    }
    if (item.sequence <= state.last) {
      if (!takeFromGaps(state, item.sequence)) return this.options.drop(item);
      return this.emit([item]);
    }
    state.held.push(item);
    state.held.sort((a, b) => (a.sequence < b.sequence ? -1 : 1));
    this.releaseContiguous(item.key);
  }

  /** Stops the window timers (the events they hold are not released). */
  close(): void {
    for (const state of this.keys.values()) if (state.timer !== undefined) this.timers.clearTimeout(state.timer);
  }

  private releaseContiguous(key: string): void {
    const state = this.keys.get(key)!;
    const ready: T[] = [];
    // A key seen for the first time at sequence 1 has no predecessor to wait for; a key first seen later may.
    while (state.held[0] && (state.held[0].sequence === state.last + 1n || this.options.reorderWindowMs === 0)) {
      ready.push(this.advance(state, state.held.shift()!));
    }
    if (ready.length) this.emit(ready);
    if (state.timer !== undefined && (ready.length || !state.held.length)) {
      this.timers.clearTimeout(state.timer);
      state.timer = undefined;
    }
    if (state.held.length && state.timer === undefined) {
      state.timer = this.timers.setTimeout(() => this.windowExpired(key), this.options.reorderWindowMs);
    }
  }

  /** The missing predecessor did not come in time: hand on what is held, in order, and remember the gaps. */
  private windowExpired(key: string): void {
    const state = this.keys.get(key);
    if (!state) return;
    state.timer = undefined;
    const ready = state.held.splice(0).map((item) => this.advance(state, item));
    if (ready.length) this.emit(ready);
  }

  private advance(state: KeyState<T>, item: T): T {
    if (item.sequence > state.last + 1n) state.gaps.push({ from: state.last + 1n, to: item.sequence - 1n });
    state.last = item.sequence;
    return item;
  }

  private emit(items: T[]): void {
    for (const item of items) this.seenIds.add(item.id);
    this.options.release(items);
  }
}

function takeFromGaps(state: KeyState<unknown>, sequence: bigint): boolean {
  const index = state.gaps.findIndex((g) => g.from <= sequence && sequence <= g.to);
  if (index < 0) return false;
  const gap = state.gaps[index]!;
  const rest = [
    { from: gap.from, to: sequence - 1n },
    { from: sequence + 1n, to: gap.to },
  ].filter((g) => g.from <= g.to);
  state.gaps.splice(index, 1, ...rest);
  return true;
}

/** A Set that forgets its oldest entries beyond `capacity`. */
class BoundedSet<V> {
  private readonly entries = new Set<V>();
  constructor(private readonly capacity: number) {}
  has(value: V): boolean {
    return this.entries.has(value);
  }
  add(value: V): void {
    this.entries.delete(value);
    this.entries.add(value);
    if (this.entries.size > this.capacity) this.entries.delete(this.entries.values().next().value as V);
  }
}

/** Per-key states, forgetting the least recently used idle ones beyond `capacity` (one holding events stays). */
class KeyStates<T> {
  private readonly entries = new Map<string, KeyState<T>>();
  constructor(private readonly capacity: number) {}
  get(key: string): KeyState<T> | undefined {
    const state = this.entries.get(key);
    if (state) this.set(key, state);
    return state;
  }
  set(key: string, state: KeyState<T>): void {
    this.entries.delete(key);
    this.entries.set(key, state);
    if (this.entries.size <= this.capacity) return;
    for (const [oldKey, old] of this.entries) {
      if (!old.held.length) {
        this.entries.delete(oldKey);
        return;
      }
    }
  }
  values(): IterableIterator<KeyState<T>> {
    return this.entries.values();
  }
}
