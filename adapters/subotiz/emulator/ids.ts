import { randomInt } from 'node:crypto';

/**
 * Subotiz ids are 18–19 digit numeric strings (snowflake-like). Starting from wall-clock milliseconds with a random
 * low part keeps two emulators started in the same test run from handing out the same ids.
 */
export class IdGenerator {
  private next = BigInt(Date.now()) * 100_000n + BigInt(randomInt(0, 1_000)) * 100n;

  /** The next numeric-string id. */
  id(): string {
    this.next += 1n;
    return this.next.toString();
  }

  /** The last id handed out (kept on disk). */
  last(): string {
    return this.next.toString();
  }

  /** Never hands out `id` or anything before it again (after a restart from the state file). */
  skipPast(id: string): void {
    if (/^\d+$/.test(id) && BigInt(id) > this.next) this.next = BigInt(id);
  }
}
