import { ChildProcess, spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { eventually } from '../support/eventually';
import { healthStatus } from '../support/health-check';
import { freePort } from '../support/free-port';

const ROOT = path.resolve(__dirname, '../..');

/** The embedded default (as `npm start` runs it) pointed at a Kafka nobody listens on. */
describe('start-up with an unreachable Kafka', () => {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'billing-no-kafka-'));
  let child: ChildProcess;
  let output = '';
  let grpcPort: number;
  let httpPort: number;
  let kafkaPort: number;

  beforeAll(async () => {
    [grpcPort, httpPort, kafkaPort] = [await freePort(), await freePort(), await freePort()];
    const env: NodeJS.ProcessEnv = {
      ...process.env,
      DATA_DIR: dataDir,
      HOST: '127.0.0.1',
      GRPC_PORT: String(grpcPort),
      HTTP_PORT: String(httpPort),
      EMULATOR_PORT: '0',
      LOG_LEVEL: 'info',
      KAFKA_BROKERS: `127.0.0.1:${kafkaPort}`,
    };
    for (const name of ['DATABASE_URL', 'API_KEYS_FILE', 'AUTH_JWKS_URL', 'NODE_OPTIONS']) delete env[name];
    child = spawn(process.execPath, [path.join(ROOT, 'node_modules/tsx/dist/cli.mjs'), 'src/main.ts'], {
      cwd: ROOT,
      env,
    });
    child.stdout!.on('data', (d) => (output += d));
    child.stderr!.on('data', (d) => (output += d));
  });

  afterAll(async () => {
    if (child.exitCode === null) {
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGTERM');
      await Promise.race([exited, new Promise((r) => setTimeout(r, 15_000))]);
      if (child.exitCode === null) child.kill('SIGKILL');
    }
    fs.rmSync(dataDir, { recursive: true, force: true });
  });

  const logLines = () =>
    output
      .split('\n')
      .filter((l) => l.startsWith('{'))
      .map((l) => JSON.parse(l) as Record<string, unknown>);

  it('serves anyway, warns naming KAFKA_BROKERS, says so in /readyz, and keeps the events in the outbox', async () => {
    const status = await eventually(
      () => healthStatus(grpcPort),
      (s) => s === 'SERVING',
      90_000,
    ).catch(() => 'not serving');
    if (status !== 'SERVING') throw new Error(`health ${status}; service output:\n${output.slice(-3000)}`);

    const warning = await eventually(
      async () => logLines().find((l) => String(l.msg).startsWith('KAFKA_BROKERS:')),
      Boolean,
      30_000,
    );
    expect(warning).toMatchObject({ level: 40, kafka: `127.0.0.1:${kafkaPort}` });
    expect(String(warning!.msg)).toContain(`127.0.0.1:${kafkaPort}`);

    const ready = await fetch(`http://127.0.0.1:${httpPort}/readyz`);
    expect(ready.status).toBe(200);
    expect(await ready.json()).toMatchObject({ status: 'ready', kafka: { state: 'unreachable' } });

    // The demo seed's storefront events wait in the outbox.
    const metrics = await (await fetch(`http://127.0.0.1:${httpPort}/metrics`)).text();
    const backlog = /^billing_outbox_backlog (\d+)/m.exec(metrics);
    expect(Number(backlog?.[1])).toBeGreaterThan(0);
  });

  it('lists the listeners, the emulators and the demo key in the start-up log', () => {
    const serving = logLines().find((l) => l.msg === 'billing-adapter serving');
    expect(serving).toMatchObject({
      grpc: `127.0.0.1:${grpcPort}`,
      http: `127.0.0.1:${httpPort}`,
      demo_key: 'demo_admin_key',
    });
    const emulators = serving!.emulators as Record<string, string>;
    expect(Object.keys(emulators).length).toBeGreaterThan(0);
    for (const [provider, url] of Object.entries(emulators))
      expect(url).toMatch(new RegExp(`^http://127\\.0\\.0\\.1:\\d+/${provider}$`));
  });
});
