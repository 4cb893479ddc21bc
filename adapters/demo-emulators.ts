import { tenantEnvPrefix } from '../src/domain/secret-reference';
import type { DemoEmulatorFactory } from './kit/emulator/demo';
import { type EmulatorServer, startEmulatorServer } from './kit/emulator/server';
import { DEMO_EMULATORS } from './index';

/** Where the README's walkthrough finds the emulators (`EMULATOR_PORT`). */
export const DEFAULT_EMULATOR_PORT = 8091;

/** A provider emulator running in-process for the embedded default, and the binding that reaches it. */
export interface DemoProvider {
  provider: string;
  config: Record<string, string>;
  secretRefs: Record<string, string>;
}

export interface DemoEmulators {
  providers: DemoProvider[];
  /** Demo credentials by the env names the bindings reference; they exist only in this process. */
  secrets: Record<string, string>;
  /** The shared server, e.g. `http://127.0.0.1:8091`; each provider is under `/<provider>`. */
  url: string;
  stop(): Promise<void>;
}

/** The demo storefronts' tenant (`demo`, see demo-seed) may reference only its own env secrets, like any tenant. */
const DEMO_SECRET_PREFIX = tenantEnvPrefix('demo');

/**
 * Starts the emulators `npm start` runs with no configuration: one HTTP server on `port`, each provider's emulator
 * under `/<provider>`, pointed at this service's webhook ingress, its state kept in `<dataDir>/<provider>.json`.
 */
export async function startDemoEmulators(options: {
  host: string;
  /** EMULATOR_PORT (0 = any free port). */
  port: number;
  webhookBaseUrl: string;
  /** Folder for the emulators' state files; undefined keeps nothing on disk. */
  dataDir?: string;
  /** Which factories (default all). */
  factories?: readonly DemoEmulatorFactory[];
}): Promise<DemoEmulators> {
  const server: EmulatorServer = await startEmulatorServer({ host: options.host, port: options.port });
  const started: { provider: string; demo: Awaited<ReturnType<DemoEmulatorFactory['start']>> }[] = [];
  try {
    for (const factory of options.factories ?? DEMO_EMULATORS) {
      const demo = await factory.start({
        host: options.host,
        mount: server.mount(`/${factory.provider}`),
        dataDir: options.dataDir,
        webhookBaseUrl: options.webhookBaseUrl,
        secretPrefix: DEMO_SECRET_PREFIX,
      });
      started.push({ provider: factory.provider, demo });
    }
  } catch (error) {
    await stopAll(
      started.map((s) => s.demo),
      server,
    );
    throw error;
  }
  return {
    providers: started.map(({ provider, demo }) => ({ provider, config: demo.config, secretRefs: demo.secretRefs })),
    secrets: Object.assign({}, ...started.map((s) => s.demo.secrets)) as Record<string, string>,
    url: server.url,
    stop: () =>
      stopAll(
        started.map((s) => s.demo),
        server,
      ),
  };
}

async function stopAll(demos: { stop(): Promise<void> }[], server: EmulatorServer): Promise<void> {
  await Promise.all(demos.map((d) => d.stop()));
  await server.close();
}
