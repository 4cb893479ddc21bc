import type { DecodedEvent } from './decode';

const FIRST_RETRY_BACKOFF_MS = 100;

export interface RetryPolicy {
  maxBackoffMs: number;
  onError: (error: unknown, event: DecodedEvent, attempt: number) => void;
}

/**
 * Runs the handler one event at a time per key, in release order, keys side by side. A failing event is tried
 * again in place, after a pause, until it succeeds: the key's later events queue behind it, other keys are not held
 * back. `onHandled` is called only for an event whose handler succeeded, so what the consumer stops with is never
 * counted as done.
 */
export class KeyOrderedHandler {
  private readonly queues = new Map<string, Array<{ event: DecodedEvent; onHandled: () => void }>>();
  private readonly draining = new Set<Promise<void>>();
  private readonly wakeOnStop = new Set<() => void>();
  private stopped = false;

  constructor(
    private readonly handler: (event: DecodedEvent) => Promise<void> | void,
    private readonly retry: RetryPolicy,
  ) {}

  enqueue(event: DecodedEvent, onHandled: () => void): void {
    if (this.stopped) return;
    const queue = this.queues.get(event.key);
    if (queue) return void queue.push({ event, onHandled });
    this.queues.set(event.key, [{ event, onHandled }]);
    const drained = this.drain(event.key);
    this.draining.add(drained);
    void drained.finally(() => this.draining.delete(drained));
  }

  /**
   * Drops every queued event and ends the pauses; resolves once the handler calls in progress have finished (one
   * that succeeds still counts as handled; one that fails is not retried).
   */
  async stop(): Promise<void> {
    this.stopped = true;
    for (const queue of this.queues.values()) queue.splice(1);
    this.wakeOnStop.forEach((wake) => wake());
    await Promise.all(this.draining);
  }

  private async drain(key: string): Promise<void> {
    const queue = this.queues.get(key)!;
    while (queue.length && !this.stopped) {
      const head = queue[0]!;
      const handled = await this.handleUntilSuccessOrStop(head.event);
      queue.shift();
      if (handled) head.onHandled();
    }
    this.queues.delete(key);
  }

  /** True once the handler succeeded; false when the consumer stopped first. */
  private async handleUntilSuccessOrStop(event: DecodedEvent): Promise<boolean> {
    for (let attempt = 1; ; attempt++) {
      try {
        await this.handler(event);
        return true;
      } catch (error) {
        if (this.stopped) return false;
        this.retry.onError(error, event, attempt);
      }
      await this.pause(backoffMs(attempt, this.retry.maxBackoffMs));
      if (this.stopped) return false;
    }
  }

  private pause(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const wake = () => {
        clearTimeout(timer);
        this.wakeOnStop.delete(wake);
        resolve();
      };
      const timer = setTimeout(wake, ms);
      this.wakeOnStop.add(wake);
    });
  }
}

/**
 * Exponential, with jitter between half and all of the ceiling: consumers failing on the same cause spread out,
 * and the first retry still waits (a full jitter could retry at once).
 */
function backoffMs(attempt: number, maxBackoffMs: number): number {
  const ceiling = Math.min(maxBackoffMs, FIRST_RETRY_BACKOFF_MS * 2 ** (attempt - 1));
  return ceiling / 2 + (Math.random() * ceiling) / 2;
}
