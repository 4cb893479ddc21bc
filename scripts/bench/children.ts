import { ChildProcess, fork } from 'node:child_process';
import path from 'node:path';
import { track } from './live-children';

/**
 * A TypeScript file of scripts/bench run as its own Node process (tsx), talking over IPC. Its first message is
 * `ready` (with whatever the child reports, e.g. its port); an exit before that, or after, is an error.
 */
export class BenchChild<Ready = unknown> {
  private exitError?: Error;

  private constructor(
    readonly proc: ChildProcess,
    readonly ready: Ready,
  ) {
    proc.once('exit', (code, signal) => (this.exitError = new Error(`bench child exited (${code ?? signal})`)));
  }

  static async fork<Ready>(file: string, env: NodeJS.ProcessEnv = {}): Promise<BenchChild<Ready>> {
    const proc = fork(path.join(__dirname, file), [], {
      // BENCH_CHILD_NODE_ARGS (e.g. "--cpu-prof --cpu-prof-dir=<dir>") profiles the baselines and workers too.
      execArgv: ['--import', 'tsx', ...(process.env.BENCH_CHILD_NODE_ARGS ?? '').split(' ').filter(Boolean)],
      env: { ...process.env, ...env },
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    track(proc);
    const ready = await new Promise<Ready>((resolve, reject) => {
      proc.once('message', (message: { ready: Ready }) => resolve(message.ready));
      proc.once('exit', (code, signal) =>
        reject(new Error(`bench: ${file} exited before it was ready (${code ?? signal})`)),
      );
    });
    return new BenchChild(proc, ready);
  }

  /** Sends one request and waits for the one answer. */
  ask<Reply>(message: unknown): Promise<Reply> {
    if (this.exitError) return Promise.reject(this.exitError);
    return new Promise<Reply>((resolve, reject) => {
      const onExit = () => reject(this.exitError ?? new Error('bench child exited'));
      this.proc.once('exit', onExit);
      this.proc.once('message', (reply: Reply) => {
        this.proc.off('exit', onExit);
        resolve(reply);
      });
      this.proc.send(message as object);
    });
  }

  async stop(): Promise<void> {
    if (this.proc.exitCode !== null || this.proc.signalCode !== null) return;
    const exited = new Promise((resolve) => this.proc.once('exit', resolve));
    this.proc.kill('SIGTERM');
    await exited;
  }
}
