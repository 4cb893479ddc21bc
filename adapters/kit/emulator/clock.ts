const SECOND_MS = 1000;

/**
 * An emulator's clock: wall time plus an offset, in whole seconds (as providers stamp their objects). Advancing it
 * moves the offset, and it keeps running between advances, so an emulator's session expiry and the service's own
 * reconciler (which uses wall time) see the same minutes pass.
 */
export class EmulatorClock {
  constructor(
    private offsetMs = 0,
    private readonly wall: () => number = Date.now,
  ) {}

  /** Now, in epoch ms truncated to whole seconds. */
  now(): number {
    return Math.floor((this.wall() + this.offsetMs) / SECOND_MS) * SECOND_MS;
  }

  /** Moves the clock `ms` ahead (never back: providers do not travel in time). */
  advance(ms: number): void {
    if (!Number.isFinite(ms) || ms < 0) throw new RangeError('clock: can only move forward');
    this.offsetMs += ms;
  }

  /** How far ahead of wall time the clock runs, in ms (kept on disk with the emulator's state). */
  offset(): number {
    return this.offsetMs;
  }

  /** Back to wall time. */
  reset(offsetMs = 0): void {
    this.offsetMs = offsetMs;
  }
}

/** RFC 3339 UTC with second precision ("2025-10-28T06:54:56Z"); null stays null. */
export function rfc3339(ms: number | null): string | null {
  return ms === null ? null : new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');
}
