import { BenchChild } from './children';
import type { LoadJob, LoadReply } from './load-job';
import { Run, summarize } from './stats';

/** The orchestrator's handle on the forked load worker (load-worker.ts): one job at a time. */
export class LoadGenerator {
  private constructor(private readonly child: BenchChild) {}

  static async start(): Promise<LoadGenerator> {
    return new LoadGenerator(await BenchChild.fork('load-worker.ts'));
  }

  async run(what: string, job: LoadJob): Promise<Run> {
    const started = Date.now();
    const run = summarize(await this.child.ask<LoadReply>(job), job.concurrency, what);
    const seconds = ((Date.now() - started) / 1000).toFixed(1);
    console.log(
      `bench: ${what} × ${job.requests} at ${job.concurrency} in flight: ${run.perSecond.toFixed(0)}/s (${seconds} s)`,
    );
    return run;
  }

  stop(): Promise<void> {
    return this.child.stop();
  }
}
