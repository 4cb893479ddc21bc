import type { Clock } from '../../src/ports/clock.port';

/** What our clock needs of a provider's (the in-memory fake's): its time, and moving it on. */
interface ProviderClock {
  now(): Date;
  advanceClock(seconds: number): Promise<void>;
}

/** Our service's clock in a test that moves time on: the wall clock plus an offset that only ever grows. */
export interface MovableClock extends Clock {
  /** Moves our clock on to `at` (never back). */
  advanceTo(at: Date): void;
  /** Moves our clock on to `at`, and `provider`'s too when it is behind (it bills what fell due on the way). */
  moveTo(at: Date, provider: ProviderClock): Promise<void>;
}

export function movableClock(): MovableClock {
  let offsetMs = 0;
  const clock: MovableClock = {
    now: () => new Date(Date.now() + offsetMs),
    advanceTo(at) {
      offsetMs = Math.max(offsetMs, at.getTime() - Date.now());
    },
    async moveTo(at, provider) {
      clock.advanceTo(at);
      const ahead = (at.getTime() - provider.now().getTime()) / 1000;
      if (ahead > 0) await provider.advanceClock(ahead);
    },
  };
  return clock;
}
