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

  sleep(ms: number, wakeable = true): Promise<void> {
    if (this.stopped) return Promise.resolve();
    if (wakeable && this.pending) {
      this.pending = false;
      return Promise.resolve();
    }
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.wakeSleeper = this.endSleep = undefined;
        resolve();
      };
      const timer = setTimeout(done, ms);
      this.endSleep = done;
      if (wakeable) {
        this.wakeSleeper = () => {
          this.pending = false;
          done();
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
