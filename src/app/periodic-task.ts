import type { Logger } from 'pino';

/**
 * Runs a piece of background work every `intervalMs`, one run at a time (the next interval starts after a run
 * ends). A failed run is logged and the schedule goes on; `stop()` waits for a run in progress.
 */
export class PeriodicTask {
  private running = false;
  private loop?: Promise<void>;
  private timer?: NodeJS.Timeout;
  private wakeUp?: () => void;

  constructor(
    private readonly name: string,
    private readonly intervalMs: number,
    private readonly work: () => Promise<unknown>,
    private readonly logger: Logger,
  ) {}

  start(): void {
    this.running = true;
    this.loop = this.run();
  }

  async stop(): Promise<void> {
    this.running = false;
    clearTimeout(this.timer);
    this.wakeUp?.();
    await this.loop;
  }

  private async run(): Promise<void> {
    while (this.running) {
      await new Promise<void>((resolve) => {
        this.wakeUp = resolve;
        this.timer = setTimeout(resolve, this.intervalMs);
      });
      if (!this.running) return;
      try {
        await this.work();
      } catch (error) {
        this.logger.error({ err: error, task: this.name }, 'background task failed; next run on schedule');
      }
    }
  }
}
