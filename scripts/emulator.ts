import path from 'node:path';
import { DEMO_EMULATORS } from '../adapters';
import { DEFAULT_EMULATOR_PORT, startDemoEmulators } from '../adapters/demo-emulators';

/**
 * `npm run emulator [-- <provider>]`: the demo emulators on their own, as `npm start` runs them in-process — one
 * server on EMULATOR_PORT (default 8091), each provider under `/<provider>`, state in DATA_DIR/emulators, webhooks
 * to PUBLIC_BASE_URL (default http://localhost:8080).
 */
async function run(env: NodeJS.ProcessEnv = process.env): Promise<void> {
  const name = process.argv[2];
  const known = DEMO_EMULATORS.map((f) => f.provider);
  if (name !== undefined && !known.includes(name)) {
    throw new Error(`usage: npm run emulator [-- <provider>]; no emulator for '${name}' (known: ${known.join(', ')})`);
  }
  const port = Number(env.EMULATOR_PORT ?? DEFAULT_EMULATOR_PORT);
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    throw new Error(`EMULATOR_PORT must be a port number (got '${env.EMULATOR_PORT}')`);
  }
  const emulators = await startDemoEmulators({
    host: env.HOST ?? '127.0.0.1',
    port,
    webhookBaseUrl: (env.PUBLIC_BASE_URL ?? 'http://localhost:8080').replace(/\/$/, ''),
    dataDir: path.join(env.DATA_DIR ?? './.data', 'emulators'),
    factories: DEMO_EMULATORS.filter((f) => name === undefined || f.provider === name),
  });
  console.log(
    JSON.stringify({
      msg: 'emulators listening',
      url: emulators.url,
      providers: emulators.providers.map((p) => ({ provider: p.provider, base_url: p.config.base_url })),
      // Names only: the demo credentials are in adapters/<provider>/demo.ts, never in a log line.
      secret_env: Object.keys(emulators.secrets),
    }),
  );
  const shutdown = (signal: string) => {
    void emulators.stop().then(() => {
      console.log(JSON.stringify({ msg: 'emulators stopped', signal }));
      process.exit(0);
    });
  };
  process.once('SIGINT', () => shutdown('SIGINT'));
  process.once('SIGTERM', () => shutdown('SIGTERM'));
}

run().catch((error: unknown) => {
  console.error((error as Error).message);
  process.exit(1);
});
