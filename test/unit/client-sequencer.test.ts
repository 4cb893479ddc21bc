import { EventSequencer, SequencedItem, SequencerTimers } from '../../packages/client/src/sequencer';

/** Timers that fire only when the test says time has passed. */
class ManualTimers implements SequencerTimers {
  private now = 0;
  private pending: Array<{ at: number; callback: () => void; handle: number }> = [];
  private nextHandle = 1;

  setTimeout(callback: () => void, ms: number): unknown {
    const handle = this.nextHandle++;
    this.pending.push({ at: this.now + ms, callback, handle });
    return handle;
  }

  clearTimeout(handle: unknown): void {
    this.pending = this.pending.filter((t) => t.handle !== handle);
  }

  advance(ms: number): void {
    this.now += ms;
    const due = this.pending.filter((t) => t.at <= this.now);
    this.pending = this.pending.filter((t) => t.at > this.now);
    due.forEach((t) => t.callback());
  }
}

interface Item extends SequencedItem {
  topic: string;
}

const item = (key: string, sequence: number, topic = 'subscriptions', id = `${key}-${sequence}`): Item => ({
  key,
  sequence: BigInt(sequence),
  id,
  topic,
});

function sequencerUnderTest(options: { reorderWindowMs?: number; capacity?: number } = {}) {
  const timers = new ManualTimers();
  const released: string[] = [];
  const dropped: string[] = [];
  const sequencer = new EventSequencer<Item>({
    reorderWindowMs: options.reorderWindowMs ?? 2_000,
    capacity: options.capacity ?? 100,
    release: (items) => released.push(...items.map((i) => i.id)),
    drop: (i) => dropped.push(i.id),
    timers,
  });
  return { sequencer, timers, released, dropped };
}

describe("re-ordering a key's events across topics", () => {
  it('releases a key that starts at sequence 1 at once, and holds an event until its predecessor from another topic arrives', () => {
    const { sequencer, released } = sequencerUnderTest();
    sequencer.offer(item('sub_1', 1));
    expect(released).toEqual(['sub_1-1']);
    sequencer.offer(item('sub_1', 3, 'subscriptions'));
    sequencer.offer(item('sub_1', 4, 'subscriptions'));
    expect(released).toEqual(['sub_1-1']);
    sequencer.offer(item('sub_1', 2, 'payments'));
    expect(released).toEqual(['sub_1-1', 'sub_1-2', 'sub_1-3', 'sub_1-4']);
  });

  it('keeps keys independent: a key waiting for a predecessor does not hold back another key', () => {
    const { sequencer, released } = sequencerUnderTest();
    sequencer.offer(item('sub_1', 1));
    sequencer.offer(item('sub_1', 3));
    sequencer.offer(item('cus_1', 1, 'customers'));
    sequencer.offer(item('cus_1', 2, 'customers'));
    expect(released).toEqual(['sub_1-1', 'cus_1-1', 'cus_1-2']);
  });

  it('drops a duplicate ce_id and a sequence already released, releasing each event once', () => {
    const { sequencer, released, dropped } = sequencerUnderTest();
    sequencer.offer(item('sub_1', 1));
    sequencer.offer(item('sub_1', 2));
    sequencer.offer(item('sub_1', 1));
    sequencer.offer(item('sub_1', 2, 'payments', 'replayed-under-another-id'));
    sequencer.offer(item('sub_1', 4));
    sequencer.offer(item('sub_1', 4));
    expect(released).toEqual(['sub_1-1', 'sub_1-2']);
    expect(dropped).toEqual(['sub_1-1', 'replayed-under-another-id', 'sub_1-4']);
  });

  it('releases held events in order when the window runs out, and still delivers the late predecessor once', () => {
    const { sequencer, timers, released, dropped } = sequencerUnderTest({ reorderWindowMs: 2_000 });
    sequencer.offer(item('sub_1', 1));
    sequencer.offer(item('sub_1', 4));
    sequencer.offer(item('sub_1', 3));
    timers.advance(1_999);
    expect(released).toEqual(['sub_1-1']);
    timers.advance(1);
    expect(released).toEqual(['sub_1-1', 'sub_1-3', 'sub_1-4']);

    sequencer.offer(item('sub_1', 2, 'payments'));
    sequencer.offer(item('sub_1', 2, 'payments'));
    sequencer.offer(item('sub_1', 5));
    expect(released).toEqual(['sub_1-1', 'sub_1-3', 'sub_1-4', 'sub_1-2', 'sub_1-5']);
    expect(dropped).toEqual(['sub_1-2']);
  });

  it('makes a key first seen past sequence 1 wait the window for smaller ones (the consumer started mid-stream)', () => {
    const { sequencer, timers, released } = sequencerUnderTest({ reorderWindowMs: 500 });
    sequencer.offer(item('sub_1', 7));
    sequencer.offer(item('sub_1', 6, 'payments'));
    expect(released).toEqual([]);
    timers.advance(500);
    expect(released).toEqual(['sub_1-6', 'sub_1-7']);
    sequencer.offer(item('sub_1', 8));
    expect(released).toEqual(['sub_1-6', 'sub_1-7', 'sub_1-8']);
  });

  it('drops an event that comes again under a new sequence, caught only by its ce_id', () => {
    const { sequencer, timers, released, dropped } = sequencerUnderTest();
    sequencer.offer(item('sub_1', 1, 'subscriptions', 'evt_a'));
    sequencer.offer(item('sub_1', 2, 'subscriptions', 'evt_a'));
    // Held for its predecessor, then offered again under yet another sequence.
    sequencer.offer(item('sub_1', 4, 'subscriptions', 'evt_b'));
    sequencer.offer(item('sub_1', 5, 'payments', 'evt_b'));
    timers.advance(2_000);
    expect(released).toEqual(['evt_a', 'evt_b']);
    expect(dropped).toEqual(['evt_a', 'evt_b']);
  });

  it('with a window of 0 releases at once in arrival order, still once per event', () => {
    const { sequencer, released, dropped } = sequencerUnderTest({ reorderWindowMs: 0 });
    sequencer.offer(item('sub_1', 2));
    sequencer.offer(item('sub_1', 1, 'payments'));
    sequencer.offer(item('sub_1', 2));
    sequencer.offer(item('sub_1', 1, 'payments', 'replayed-under-another-id'));
    expect(released).toEqual(['sub_1-2', 'sub_1-1']);
    expect(dropped).toEqual(['sub_1-2', 'replayed-under-another-id']);
  });

  it('remembers only the last `capacity` ids: an older duplicate of an unknown key is released again', () => {
    const { sequencer, released } = sequencerUnderTest({ capacity: 2 });
    sequencer.offer(item('a', 1));
    sequencer.offer(item('b', 1));
    sequencer.offer(item('c', 1));
    sequencer.offer(item('a', 1));
    expect(released).toEqual(['a-1', 'b-1', 'c-1', 'a-1']);
  });
});
