import { ChildProcess, spawn } from 'node:child_process';
import { join } from 'node:path';
import { freePort } from './free-port';

/** The two listeners of a service process. */
export interface ServicePorts {
  grpc: number;
  http: number;
}

/**
 * The service's environment as a child process: the one place to add what its configuration comes to need. The relay
 * is off unless `settings` names KAFKA_BROKERS; the reconciler looks once an hour unless told otherwise.
 */
export function serviceProcessEnv(
  databaseUrl: string,
  ports: ServicePorts,
  settings: Record<string, string>,
): NodeJS.ProcessEnv {
  return {
    PATH: process.env.PATH,
    HOME: process.env.HOME,
    DATABASE_URL: databaseUrl,
    GRPC_PORT: String(ports.grpc),
    HTTP_PORT: String(ports.http),
    HOST: '127.0.0.1',
    DEMO_SEED: 'false',
    EMULATORS: 'false',
    KAFKA_BROKERS: '',
    LOG_LEVEL: 'warn',
    // The emulator listens on plain http on loopback.
    ALLOW_INSECURE_PROVIDER_URLS: 'true',
    RECONCILE_INTERVAL_MS: '3600000',
    ...settings,
  };
}

/** The service as a child process (`tsx src/main.ts`), in a process group of its own so kill -9 takes all of it. */
export class ServiceProcess {
  private output = '';
  private readonly exited: Promise<void>;

  private constructor(
    private readonly proc: ChildProcess,
    readonly ports: ServicePorts,
  ) {
    const keep = (chunk: Buffer) => {
      this.output = (this.output + chunk.toString()).slice(-4000);
    };
    proc.stdout?.on('data', keep);
    proc.stderr?.on('data', keep);
    this.exited = new Promise((resolve) => proc.once('exit', () => resolve()));
  }

  /** Starts the service and waits until `/readyz` answers 200. */
  static async start(env: NodeJS.ProcessEnv, ports: ServicePorts): Promise<ServiceProcess> {
    const root = join(__dirname, '..', '..');
    const proc = spawn(join(root, 'node_modules', '.bin', 'tsx'), ['src/main.ts'], {
      cwd: root,
      env,
      detached: true,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const child = new ServiceProcess(proc, ports);
    let gone = false;
    void child.exited.then(() => (gone = true));
    await until(
      async () => {
        if (gone) throw new Error(`the service exited during start-up:\n${child.output}`);
        const ready = await fetch(`http://127.0.0.1:${ports.http}/readyz`).catch(() => undefined);
        return ready?.status === 200;
      },
      // tsx compiles the service on start: slow on a busy machine.
      100_000,
      'the service to be ready',
    ).catch((error: Error) => {
      throw new Error(`${error.message}\n${child.output}`);
    });
    return child;
  }

  /** SIGKILL to the whole group (tsx runs the service in a process of its own). */
  async kill9(): Promise<void> {
    if (this.proc.exitCode !== null || this.proc.signalCode !== null) return;
    process.kill(-this.proc.pid!, 'SIGKILL');
    await this.exited;
  }

  async stop(): Promise<void> {
    await this.kill9();
  }
}

export async function freeServicePorts(): Promise<ServicePorts> {
  return { grpc: await freePort(), http: await freePort() };
}

/** Polls `check` every 50 ms until it holds; throws naming `what` after `timeoutMs`. */
export async function until(check: () => Promise<boolean>, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}
