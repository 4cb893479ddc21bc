import type { Knex } from 'knex';
import type { Logger } from 'pino';

export interface DatabaseMonitorOptions {
  /** How often to ask the database `select 1`. */
  intervalMs: number;
  /**
   * Consecutive failed pings before the database counts as unreachable. A ping fails when it errs, or when it is still
   * unanswered at the next tick (a hung server). Two means one slow answer never flips readiness by itself.
   */
  failuresBeforeUnreachable: number;
}

/**
 * Knows whether the database answers, by pinging it in the background; readiness (/readyz, gRPC health) and admission
 * read the last answer, so nothing ever waits on the database to learn that it is away. At most one ping is
 * outstanding: a hung one is not joined by others.
 */
export class DatabaseMonitor {
  private reachable = true;
  private failures = 0;
  private outstanding = false;
  private stopped = false;
  private timer?: NodeJS.Timeout;

  constructor(
    private readonly knex: Knex,
    private readonly options: DatabaseMonitorOptions,
    private readonly logger: Logger,
    /** Called when reachability changes. */
    private readonly onChange: (reachable: boolean) => void,
  ) {}

  isReachable(): boolean {
    return this.reachable;
  }

  start(): void {
    this.timer ??= setInterval(() => void this.ping(), this.options.intervalMs);
    this.timer.unref();
  }

  /** Stops pinging; an answer still outstanding is ignored (the database is closing). */
  stop(): void {
    clearInterval(this.timer);
    this.timer = undefined;
    this.stopped = true;
  }

  /** One tick: counts a still-unanswered ping as a failure, or sends a new one and records its answer. */
  async ping(): Promise<void> {
    if (this.outstanding) return this.failed(`no answer to select 1 within ${this.options.intervalMs} ms`);
    this.outstanding = true;
    try {
      await this.knex.raw('select 1');
      this.outstanding = false;
      this.failures = 0;
      this.settle(true);
    } catch (error) {
      this.outstanding = false;
      this.failed((error as Error).message?.split('\n')[0] ?? String(error));
    }
  }

  private failed(reason: string): void {
    this.failures += 1;
    if (this.failures >= this.options.failuresBeforeUnreachable) this.settle(false, reason);
  }

  private settle(reachable: boolean, reason?: string): void {
    if (this.stopped || reachable === this.reachable) return;
    this.reachable = reachable;
    if (reachable) this.logger.info('database reachable again: ready');
    else this.logger.warn({ reason }, 'database unreachable: not ready until it answers again');
    this.onChange(reachable);
  }
}
