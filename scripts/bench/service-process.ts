import { ChildProcess, spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { healthStatus } from '../../test/support/health-check';
import { track } from './live-children';
import { until } from './ports';

const ROOT = path.resolve(__dirname, '..', '..');

export interface ServicePorts {
  grpc: number;
  http: number;
}

/** How the service is run: the image's command on the built JavaScript (the default), or `npm start`'s tsx. */
export type ServiceRuntime = 'built' | 'tsx';

/** The command line of each runtime (the Dockerfile's CMD and package.json's `start`). */
const COMMANDS: Record<ServiceRuntime, string[]> = {
  built: ['--enable-source-maps', 'dist/src/main.js'],
  tsx: ['--import', 'tsx', 'src/main.ts'],
};

/**
 * The service under test as its own process, started the way production starts it (the image runs `node
 * --enable-source-maps dist/src/main.js`; `tsx` runs `npm start`'s command instead), so no measurement shares its
 * event loop. `startupMs` runs from spawn to grpc health SERVING.
 */
export class ServiceProcess {
  startupMs = 0;
  private output = '';
  private gone = false;
  private readonly exited: Promise<void>;

  private constructor(
    private readonly proc: ChildProcess,
    readonly ports: ServicePorts,
  ) {
    const keep = (chunk: Buffer) => (this.output = (this.output + chunk.toString()).slice(-800000));
    proc.stdout!.on('data', keep);
    proc.stderr!.on('data', keep);
    this.exited = new Promise((resolve) =>
      proc.once('exit', () => {
        this.gone = true;
        resolve();
      }),
    );
  }

  /** With `profileDir`, V8 writes a CPU profile of the service there when it exits (`--cpu-prof`). */
  static async start(
    env: NodeJS.ProcessEnv,
    ports: ServicePorts,
    options: { runtime: ServiceRuntime; profileDir?: string },
  ): Promise<ServiceProcess> {
    const spawnedAt = performance.now();
    const profile = options.profileDir ? ['--cpu-prof', `--cpu-prof-dir=${options.profileDir}`] : [];
    // BENCH_SERVICE_NODE_ARGS: more Node flags for the service, such as --trace-gc, which NODE_OPTIONS refuses.
    const extra = (process.env.BENCH_SERVICE_NODE_ARGS ?? '').split(' ').filter(Boolean);
    const proc = spawn(process.execPath, [...profile, ...extra, ...COMMANDS[options.runtime]], {
      cwd: ROOT,
      env: { ...env, GRPC_PORT: String(ports.grpc), HTTP_PORT: String(ports.http) },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    track(proc);
    const service = new ServiceProcess(proc, ports);
    try {
      await until(
        async () => {
          service.assertAlive();
          return (await healthStatus(ports.grpc)) === 'SERVING';
        },
        'the service to report SERVING',
        120_000,
        5,
      );
    } catch (error) {
      await service.stop();
      throw new Error(`${(error as Error).message}\n${service.output}`);
    }
    service.startupMs = performance.now() - spawnedAt;
    return service;
  }

  /** The service's process id, for its CPU in /proc. */
  get pid(): number {
    return this.proc.pid!;
  }

  /** Resident set size of the service process now, in MB (Linux /proc). */
  rssMb(): number {
    const status = fs.readFileSync(`/proc/${this.proc.pid}/status`, 'utf8');
    return Number(/^VmRSS:\s+(\d+) kB$/m.exec(status)?.[1]) / 1024;
  }

  /** Throws with the service's last output when it has died (a crash is an error, never a number). */
  assertAlive(): void {
    if (this.gone) throw new Error(`bench: the service exited:\n${this.output}`);
  }

  /** SIGTERM (its graceful shutdown), SIGKILL after 15 s. */
  async stop(): Promise<void> {
    if (this.gone) return;
    this.proc.kill('SIGTERM');
    const timer = setTimeout(() => this.proc.kill('SIGKILL'), 15_000);
    await this.exited;
    clearTimeout(timer);
  }
}
