import type { EmulatorContextBase } from './emulator-context';
import type { PinnedClock } from './pinned-clock';
import { type EmulatorMount, type RequestHandler, startEmulatorServer } from './server';
import type { StateFile } from './state-file';

/** How often work that fell due by wall time (renewals, retries, expiries) is looked for between requests. */
const TICK_MS = 1000;

export interface ServeEmulatorOptions<C> {
  ctx: C;
  stateFile: StateFile;
  /** Serve under this mount of a shared emulator server instead of on a port of its own (`host`, `port`). */
  mount?: EmulatorMount;
  host?: string;
  port?: number;
  /** The provider's handler; `signal` aborts on stop (cuts fault delays short), `basePath` is the mount's. */
  requestHandler(ctx: C, signal: AbortSignal, basePath: string): RequestHandler;
  /** Runs the work due by now; answers whether anything ran (the state is then kept on disk). */
  runDue(ctx: C): boolean;
  /** Goes on with what the last run left unfinished (webhook deliveries, …), now that the emulator can be reached. */
  resume(): void;
}

/** A served emulator: its base URL (mount path included), port, and the two calls every emulator answers. */
export interface ServedEmulator {
  url: string;
  port: number;
  /** Resolves once no queued or in-flight work is left. */
  idle(): Promise<void>;
  /** Stops timers and deliveries, keeps the state on disk, stops serving (and closes its own server). */
  stop(): Promise<void>;
}

/**
 * Serves an emulator whose context is built (state restored, merchants added): on its own server or a shared one's
 * mount, with due work looked for on a timer, and the stop sequence every emulator needs.
 */
export async function serveEmulator<C extends EmulatorContextBase<PinnedClock>>(
  options: ServeEmulatorOptions<C>,
): Promise<ServedEmulator> {
  const { ctx, stateFile } = options;
  const ownServer = options.mount ? undefined : await startEmulatorServer({ host: options.host, port: options.port });
  const mount: EmulatorMount = options.mount ?? ownServer!.mount('');
  ctx.baseUrl = mount.baseUrl;
  const stopping = new AbortController();
  mount.attach(options.requestHandler(ctx, stopping.signal, mount.basePath));
  options.resume();
  const tick = setInterval(() => {
    if (options.runDue(ctx)) ctx.changed();
  }, TICK_MS);
  tick.unref();

  return {
    url: ctx.baseUrl,
    port: mount.port,
    idle: () => ctx.work.idle(),
    async stop() {
      clearInterval(tick);
      stopping.abort();
      ctx.webhooks.stop();
      ctx.work.cancelTimers();
      ctx.work.releaseAll();
      ctx.changed();
      stateFile.flush();
      mount.detach();
      await ownServer?.close();
    },
  };
}
