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
