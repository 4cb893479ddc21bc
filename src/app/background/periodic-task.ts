import type { Logger } from 'pino';
import { Wakeup } from './wakeup';

/**
 * Runs a piece of background work every `intervalMs`, one run at a time (the next interval starts after a run
 * ends). A failed run is logged and the schedule goes on. `stop()` aborts the signal the work receives (long work
 * checks it between items) and waits for the run in progress.
 */
export class PeriodicTask {
  private loop?: Promise<void>;
  private readonly wakeup = new Wakeup();
  private readonly stopping = new AbortController();

  constructor(
    private readonly name: string,
    private readonly intervalMs: number,
    private readonly work: (signal: AbortSignal) => Promise<unknown>,
    private readonly logger: Logger,
  ) {}

  start(): void {
    this.loop ??= this.run();
  }

  async stop(): Promise<void> {
    this.stopping.abort();
    this.wakeup.stop();
    await this.loop;
  }

  private async run(): Promise<void> {
    const { signal } = this.stopping;
    for (;;) {
      await this.wakeup.sleep(this.intervalMs);
      if (signal.aborted) return;
      try {
        await this.work(signal);
      } catch (error) {
        this.logger.error({ err: error, task: this.name }, 'background task failed; next run on schedule');
      }
    }
  }
}
