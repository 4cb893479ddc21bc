import { Wakeup } from '../../src/app/background/wakeup';

/** Resolves to whether `promise` settled without any timer firing (fake timers never advance here). */
async function settledNow(promise: Promise<unknown>): Promise<boolean> {
  let settled = false;
  void promise.then(() => (settled = true));
  for (let i = 0; i < 5; i++) await Promise.resolve();
  return settled;
}

describe('Wakeup (the pause of the relay, inbox worker and reconciler)', () => {
  beforeEach(() => jest.useFakeTimers());
  afterEach(() => jest.useRealTimers());

  it('ends a pause on wake(), and keeps a wake that came while nobody paused for the next pause', async () => {
    const w = new Wakeup();
    const pause = w.sleep(60_000);
    expect(await settledNow(pause)).toBe(false);
    w.wake();
    expect(await settledNow(pause)).toBe(true);
    expect(await pause).toBe(true); // says it was woken: the inbox worker then claims without peeking first

    w.wake(); // new work arrived between two polls: the next pause must not wait for the timer
    const early = w.sleep(60_000);
    expect(await settledNow(early)).toBe(true);
    expect(await early).toBe(true);
    expect(await settledNow(w.sleep(60_000))).toBe(false); // consumed once
  });

  it('ends after its time without a wake, saying so', async () => {
    const w = new Wakeup();
    const pause = w.sleep(1_000);
    jest.advanceTimersByTime(1_000);
    expect(await settledNow(pause)).toBe(true);
    expect(await pause).toBe(false);
  });

  it('lets a backoff ignore wake() but not stop(), and ends every later pause at once after stop()', async () => {
    const w = new Wakeup();
    const backoff = w.sleep(60_000, false);
    w.wake();
    expect(await settledNow(backoff)).toBe(false);
    w.stop();
    expect(await settledNow(backoff)).toBe(true);
    expect(w.isStopped).toBe(true);
    expect(await settledNow(w.sleep(60_000))).toBe(true);
  });

  it('takes a pause with no time (Infinity) that only wake() or stop() ends, not a timer firing at once', async () => {
    const w = new Wakeup();
    const pause = w.sleep(Infinity);
    jest.advanceTimersByTime(365 * 24 * 3600 * 1000);
    expect(await settledNow(pause)).toBe(false);
    w.wake();
    expect(await pause).toBe(true);
    const last = w.sleep(Infinity);
    w.stop();
    expect(await last).toBe(false);
  });
});
