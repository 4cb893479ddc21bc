import { BenchChild } from './children';
import type { LoadJob, LoadReply } from './load-job';
import { Run, summarize } from './stats';

/** The orchestrator's handle on the forked load worker (load-worker.ts): one job at a time. */
export class LoadGenerator {
  private constructor(private child: BenchChild) {}

  static async start(): Promise<LoadGenerator> {
    return new LoadGenerator(await BenchChild.fork('load-worker.ts'));
  }

  /**
   * Swaps in a fresh worker process, called before each path: the worker slows down over a run, whatever it ran
   * before. Ingress measured after the write path read 2,582/s for ours and 2,393/s for its baseline through the
   * same worker, and 3,394/s and 3,228/s through a fresh one.
   */
  async renew(): Promise<void> {
    await this.child.stop();
    this.child = await BenchChild.fork('load-worker.ts');
  }

  /** The worker's process id, for its CPU in /proc. */
  get pid(): number {
    return this.child.proc.pid!;
  }

  async run(what: string, job: LoadJob): Promise<Run> {
    const started = Date.now();
    const run = summarize(await this.child.ask<LoadReply>(job), job.concurrency, what);
    const seconds = ((Date.now() - started) / 1000).toFixed(1);
    const offered = job.ratePerSecond
      ? `paced at ${job.ratePerSecond.toFixed(0)}/s`
      : `at ${job.concurrency} in flight`;
    console.log(
      `bench: ${what} × ${job.requests} ${offered}: ${run.perSecond.toFixed(0)}/s, p99 ${run.p99.toFixed(1)} ms (${seconds} s)`,
    );
    return run;
  }

  stop(): Promise<void> {
    return this.child.stop();
  }
}
