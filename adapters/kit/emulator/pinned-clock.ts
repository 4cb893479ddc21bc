import { EmulatorClock } from './clock';

/**
 * An emulator's clock as its records see it: the emulator clock's now, except while a piece of due work runs, when
 * it shows that work's own time, so what the work stamps and emits says when it happened, not when it was noticed.
 * An emulator's state extends it, so `state.now` is the one time every route and job reads.
 */
export class PinnedClock {
  readonly clock = new EmulatorClock();
  private pinnedAt: number | undefined;

  /** Now on the emulator clock (epoch ms, whole seconds), or the time of the due work being processed. */
  get now(): number {
    return this.pinnedAt ?? this.clock.now();
  }

  /** Runs `task` with the clock showing `at` (work that fell due earlier is processed at its own time). */
  at<T>(at: number, task: () => T): T {
    const previous = this.pinnedAt;
    this.pinnedAt = at;
    try {
      return task();
    } finally {
      this.pinnedAt = previous;
    }
  }
}
