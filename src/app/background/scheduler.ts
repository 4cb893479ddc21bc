import { randomUUID } from 'node:crypto';
import type { Logger } from 'pino';
import type { Clock } from '../../ports/clock.port';
import type { ScheduledAction, ScheduledActionQueue } from '../../ports/store.port';
import { childSignal } from './child-signal';
import { Wakeup } from './wakeup';

/**
 * What a handler says: done, or try again at `retryAt` (counted as an attempt), with `payload` merged into the
 * action's payload in the same statement (its progress, e.g. which dunning step is next).
 */
export type ActionOutcome = 'done' | { retryAt: Date; reason: string; payload?: Record<string, unknown> };

/**
 * Does one action. Runs at least once and, barring a crash or an expired lease, exactly once; so it must be
 * idempotent: derive provider idempotency keys from `action.id`. `signal` aborts on shutdown and at the lease's end.
 */
export type ActionHandler = (action: ScheduledAction, signal: AbortSignal) => Promise<ActionOutcome>;

export interface SchedulerOptions {
  /** How often to look for due actions when nothing woke the runner. */
  pollIntervalMs: number;
  /** How long a claimed action is this runner's; another replica takes it over after that (a crash). */
  leaseMs: number;
  /** Runs of one action before it is marked failed. */
  maxAttempts: number;
  /** First retry delay after a handler throws; doubles per attempt, capped at `maxBackoffMs`. */
  retryBaseMs: number;
  maxBackoffMs: number;
  /** Actions claimed per poll. */
  batchSize: number;
}

/** Told of every finished run: the action's kind and how it ended. */
export type ActionObserver = (kind: string, outcome: 'done' | 'retry' | 'failed') => void;

/**
 * The durable scheduler: runs timed actions kept in the database. Due actions are leased in a committed claim (SKIP
 * LOCKED, so each is taken by one replica) and then run with no row lock held, since handlers call providers. A
 * replica that dies leaves a lease that expires, and another replica runs the action again. Times come from the
 * injected Clock, so tests can move them.
 */
export class Scheduler {
  private readonly handlers = new Map<string, ActionHandler>();
  private readonly owner = `runner_${randomUUID()}`;
  private readonly wakeup = new Wakeup();
  private readonly stopping = new AbortController();
  private loop?: Promise<void>;

  constructor(
    private readonly queue: ScheduledActionQueue,
    private readonly clock: Clock,
    private readonly options: SchedulerOptions,
    private readonly logger: Logger,
    private readonly observe: ActionObserver = () => undefined,
  ) {}

  /** Handles `kind` from now on. Only kinds with a handler are claimed, so a replica never takes work it can't do. */
  register(kind: string, handler: ActionHandler): void {
    if (this.handlers.has(kind)) throw new Error(`a handler for '${kind}' is registered already`);
    this.handlers.set(kind, handler);
    this.wakeup.wake();
  }

  start(): void {
    this.loop ??= this.run();
  }

  /** Looks for due actions now instead of at the next poll (something was scheduled sooner). */
  wake(): void {
    this.wakeup.wake();
  }

  /** Wakes the runner when `dueAt` comes before its next poll would. */
  scheduled(dueAt: Date): void {
    if (dueAt.getTime() <= this.clock.now().getTime() + this.options.pollIntervalMs) this.wake();
  }

  /** Stops claiming, aborts the running handler's signal and waits for it to end. */
  async stop(): Promise<void> {
    this.stopping.abort();
    this.wakeup.stop();
    await this.loop;
  }

  /**
   * Claims and runs what is due now; returns how many actions ran. The loop calls it; tests may too, with the `now`
   * of a provider emulator whose clock they moved on.
   */
  async runDue(now = this.clock.now()): Promise<number> {
    const claimed = await this.queue.claimDue(
      [...this.handlers.keys()],
      this.owner,
      now,
      new Date(now.getTime() + this.options.leaseMs),
      this.options.batchSize,
    );
    let ran = 0;
    for (const action of claimed) {
      if (this.stopping.signal.aborted) {
        await this.queue.release(action.id, this.owner);
        continue;
      }
      await this.runOne(action);
      ran++;
    }
    return ran;
  }

  private async run(): Promise<void> {
    const { signal } = this.stopping;
    while (!signal.aborted) {
      let ran = 0;
      try {
        ran = await this.runDue();
      } catch (error) {
        this.logger.error({ err: error }, 'scheduler poll failed; trying again at the next poll');
      }
      // A full batch may mean more is due: look again at once.
      if (ran < this.options.batchSize) await this.wakeup.sleep(this.options.pollIntervalMs);
    }
  }

  private async runOne(action: ScheduledAction): Promise<void> {
    const handler = this.handlers.get(action.kind)!;
    const log = { action: action.id, kind: action.kind, subject: action.subjectId, attempt: action.attempts };
    let outcome: ActionOutcome;
    const run = childSignal(this.stopping.signal, this.options.leaseMs);
    try {
      outcome = await handler(action, run.signal);
    } catch (error) {
      if (this.stopping.signal.aborted) {
        // Interrupted by shutdown, not failed: another run (here or elsewhere) does it without losing an attempt.
        await this.queue.release(action.id, this.owner);
        return;
      }
      const reason = (error as Error).message ?? String(error);
      outcome = { retryAt: new Date(this.clock.now().getTime() + this.backoff(action.attempts)), reason };
      this.logger.warn({ ...log, err: error }, 'scheduled action failed');
    } finally {
      run.release();
    }
    const at = this.clock.now();
    if (outcome === 'done') {
      const held = await this.queue.complete(action.id, this.owner, at);
      if (!held) this.logger.info(log, 'scheduled action ran, but was moved or taken over meanwhile');
      this.observe(action.kind, 'done');
      return;
    }
    if (action.attempts >= this.options.maxAttempts) {
      await this.queue.fail(action.id, this.owner, outcome.reason, at);
      this.logger.error({ ...log, reason: outcome.reason }, 'scheduled action failed for good; not retried');
      this.observe(action.kind, 'failed');
      return;
    }
    await this.queue.retry(action.id, this.owner, outcome.retryAt, outcome.reason, at, outcome.payload);
    this.observe(action.kind, 'retry');
  }

  private backoff(attempts: number): number {
    const { retryBaseMs, maxBackoffMs } = this.options;
    return Math.min(maxBackoffMs, retryBaseMs * 2 ** Math.max(0, attempts - 1));
  }
}
