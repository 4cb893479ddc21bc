import type { LoadReply } from './load-job';

/** A measured run: throughput and latency percentiles (ms). */
export interface Run {
  perSecond: number;
  p50: number;
  p99: number;
  count: number;
  concurrency: number;
}

/** The run whose rate is the median of `runs` (the upper middle of an even count), with its own latencies. */
export function medianByRate(runs: readonly Run[]): Run {
  return [...runs].sort((a, b) => a.perSecond - b.perSecond)[Math.floor(runs.length / 2)]!;
}

export function summarize(reply: LoadReply, concurrency: number, what: string): Run {
  if (!reply.ok) throw new Error(`bench: ${what} failed:\n${reply.error}`);
  return runOf(reply.latenciesMs, reply.seconds, concurrency);
}

/** A run of `latenciesMs.length` operations over `seconds`: its rate, p50 and p99. */
export function runOf(latenciesMs: readonly number[], seconds: number, concurrency: number): Run {
  const sorted = [...latenciesMs].sort((a, b) => a - b);
  const at = (q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;
  return { perSecond: sorted.length / seconds, p50: at(0.5), p99: at(0.99), count: sorted.length, concurrency };
}
