import type { ChildProcess } from 'node:child_process';

/** Every process the bench started and that still runs: the service, the load worker, the baseline servers. */
const live = new Set<ChildProcess>();

export function track(proc: ChildProcess): void {
  live.add(proc);
  proc.once('exit', () => live.delete(proc));
}

/**
 * Ctrl-C or `kill` of the bench ends its children too (they are processes of their own and would keep running, a
 * service holding its ports), then exits 128 + the signal's number. The scratch database (`billing_test_*`) and a
 * broker the bench started (`scripts/kafka-local stop`) stay.
 */
export function endChildrenOnSignal(): void {
  for (const [signal, number] of [
    ['SIGINT', 2],
    ['SIGTERM', 15],
  ] as const) {
    process.once(signal, () => {
      console.error(`bench: ${signal}: stopping its processes`);
      for (const proc of live) proc.kill('SIGKILL');
      process.exit(128 + number);
    });
  }
}
