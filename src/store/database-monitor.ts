import type { Knex } from 'knex';
import type { Logger } from 'pino';

export interface DatabaseMonitorOptions {
  /** How often to ask the database `select 1`. */
  intervalMs: number;
  /** A ping slower than this counts as unreachable (a hung server must not look healthy, nor hang /readyz). */
  timeoutMs: number;
}

/**
 * Knows whether the database answers, by pinging it in the background; readiness (/readyz, gRPC health) reads the
 * last answer, so a probe never waits on the database. At most one ping is outstanding: a hung one is not joined by
 * others that would each hold a pool connection.
 */
export class DatabaseMonitor {
  private reachable = true;
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

  /** One ping; resolves once it answered or timed out. */
  async ping(): Promise<void> {
    if (this.outstanding) return;
    this.outstanding = true;
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<'timeout'>(
      (resolve) => (timer = setTimeout(() => resolve('timeout'), this.options.timeoutMs)),
    );
    const answer = this.knex.raw('select 1').then(
      () => 'ok' as const,
      (error: unknown) => error,
    );
    // A late answer still counts: it is the newest news about the database.
    void answer.then((outcome) => {
      this.outstanding = false;
      this.settle(outcome);
    });
    const first = await Promise.race([answer, timedOut]);
    clearTimeout(timer);
    if (first === 'timeout') this.settle(new Error(`no answer to select 1 within ${this.options.timeoutMs} ms`));
  }

  private settle(outcome: unknown): void {
    const reachable = outcome === 'ok';
    if (this.stopped || reachable === this.reachable) return;
    this.reachable = reachable;
    if (reachable) this.logger.info('database reachable again: ready');
    else
      this.logger.warn(
        { reason: outcome instanceof Error ? outcome.message.split('\n')[0] : String(outcome) },
        'database unreachable: not ready until it answers again',
      );
    this.onChange(reachable);
  }
}
