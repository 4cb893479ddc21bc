/**
 * Counts work that `idle()` waits for (queued or in-flight webhook deliveries, refunds about to settle) and runs
 * timers that can all be cancelled at once on reset and stop.
 */
export class PendingWork {
  private count = 0;
  private waiters: (() => void)[] = [];
  private readonly timers = new Set<NodeJS.Timeout>();

  /** One more piece of work is pending. */
  begin(): void {
    this.count += 1;
  }

  /** A piece of work finished; wakes idle waiters when none is left. */
  end(): void {
    this.count -= 1;
    if (this.count <= 0) this.wake();
  }

  /** Resolves once nothing is pending. */
  idle(): Promise<void> {
    if (this.count <= 0) return Promise.resolve();
    return new Promise((resolve) => this.waiters.push(resolve));
  }

  /** Runs `task` after `ms`, counted as pending until it has run. */
  later(ms: number, task: () => void): void {
    this.begin();
    const timer = setTimeout(() => {
      this.timers.delete(timer);
      try {
        task();
      } finally {
        this.end();
      }
    }, ms);
    this.timers.add(timer);
  }

  /** Drops every timer started with `later` and releases the waiters. */
  cancelTimers(): void {
    for (const timer of this.timers) {
      clearTimeout(timer);
      this.end();
    }
    this.timers.clear();
  }

  /** Releases every waiter (on stop, so nobody hangs on a stopped emulator). */
  releaseAll(): void {
    this.count = 0;
    this.wake();
  }

  private wake(): void {
    const waiters = this.waiters;
    this.waiters = [];
    for (const resolve of waiters) resolve();
  }
}
