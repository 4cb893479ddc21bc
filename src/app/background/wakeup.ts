/**
 * The pause every background loop takes between polls (outbox relay, webhook inbox, reconciler). It ends when its
 * time is up, on `wake()` (new work; remembered when it comes while nobody is pausing, so it is never lost), or on
 * `stop()` (which also ends every later pause at once). A pause taken with `wakeable: false` (a backoff) ignores
 * `wake()` but not `stop()`.
 */
export class Wakeup {
  private pending = false;
  private stopped = false;
  private wakeSleeper?: () => void;
  private endSleep?: () => void;

  get isStopped(): boolean {
    return this.stopped;
  }

  /** In a pause that `wake()` ends. */
  get isSleeping(): boolean {
    return this.wakeSleeper !== undefined;
  }

  /**
   * Resolves true when `wake()` ended the pause (or had come before it), false when its time ran out or on stop.
   * `ms` Infinity: no timer, only `wake()` or `stop()` ends it.
   */
  sleep(ms: number, wakeable = true): Promise<boolean> {
    if (this.stopped) return Promise.resolve(false);
    if (wakeable && this.pending) {
      this.pending = false;
      return Promise.resolve(true);
    }
    return new Promise((resolve) => {
      const done = (woken: boolean) => {
        clearTimeout(timer);
        this.wakeSleeper = this.endSleep = undefined;
        resolve(woken);
      };
      // setTimeout fires at once for delays it cannot hold, Infinity among them.
      const timer = Number.isFinite(ms) ? setTimeout(() => done(false), ms) : undefined;
      this.endSleep = () => done(false);
      if (wakeable) {
        this.wakeSleeper = () => {
          this.pending = false;
          done(true);
        };
      }
    });
  }

  wake(): void {
    this.pending = true;
    this.wakeSleeper?.();
  }

  stop(): void {
    this.stopped = true;
    this.endSleep?.();
  }
}
