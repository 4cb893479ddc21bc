import { spawn } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { writeKeysFile } from '../support/test-service';

const ROOT = path.resolve(__dirname, '../..');

interface Outcome {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Starts the service as `npm start` does (tsx, src/main.ts) on the embedded default, with `env` on top. */
function runService(env: NodeJS.ProcessEnv, dataDir: string): Promise<Outcome> {
  const full: NodeJS.ProcessEnv = {
    ...process.env,
    DATA_DIR: dataDir,
    HOST: '127.0.0.1',
    GRPC_PORT: '0',
    HTTP_PORT: '0',
    EMULATOR_PORT: '0',
    LOG_LEVEL: 'info',
  };
  for (const name of ['DATABASE_URL', 'KAFKA_BROKERS', 'API_KEYS_FILE', 'AUTH_JWKS_URL', 'NODE_OPTIONS']) {
    delete full[name];
  }
  Object.assign(full, env);
  const child = spawn(process.execPath, [path.join(ROOT, 'node_modules/tsx/dist/cli.mjs'), 'src/main.ts'], {
    cwd: ROOT,
    env: full,
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d) => (stdout += d));
  child.stderr.on('data', (d) => (stderr += d));
  // Each case must end by itself; one that starts serving instead is stopped and fails below (code 0 / null).
  const timer = setTimeout(() => child.kill('SIGTERM'), 100_000);
  return new Promise((resolve) =>
    child.once('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    }),
  );
}

/** A port held by another listener for the duration of `use`. */
async function withTakenPort<T>(use: (port: number) => Promise<T>): Promise<T> {
  const blocker = net.createServer();
  await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
  try {
    return await use((blocker.address() as net.AddressInfo).port);
  } finally {
    await new Promise((resolve) => blocker.close(resolve));
  }
}

/** A port nothing listens on (taken and released at once). */
async function closedPort(): Promise<number> {
  return withTakenPort(async (port) => port);
}

describe('a configuration mistake fails the start with one line naming the variable and the rule', () => {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'billing-misconfig-'));
  afterAll(() => fs.rmSync(dataDir, { recursive: true, force: true }));

  async function expectOneLine(env: NodeJS.ProcessEnv, variable: string, rule: RegExp): Promise<void> {
    const { code, stdout, stderr } = await runService(env, dataDir);
    const lines = stderr.split('\n').filter((l) => l.trim() !== '');
    // What the process said is the diagnosis when this fails.
    if (code === 0 || code === null || lines.length !== 1) {
      throw new Error(`exit ${code}; stderr:\n${stderr}\nstdout:\n${stdout.slice(-2000)}`);
    }
    expect(code).toBe(2);
    expect(lines[0]).toMatch(new RegExp(`^configuration error: ${variable}: `));
    expect(lines[0]).toMatch(rule);
    expect(stderr).not.toMatch(/\n\s+at /);
  }

  it('LOG_LEVEL=verbose', () => expectOneLine({ LOG_LEVEL: 'verbose' }, 'LOG_LEVEL', /must be one of .*info/));

  it('KAFKA_BROKERS=localhost (no port)', () =>
    expectOneLine({ KAFKA_BROKERS: 'localhost' }, 'KAFKA_BROKERS', /host:port.*'localhost'/));

  it('HOST=999.1.1.1', () => expectOneLine({ HOST: '999.1.1.1' }, 'HOST', /IPv4 or IPv6 address.*'999\.1\.1\.1'/));

  it('an unreachable DATABASE_URL (and its password is not shown)', async () => {
    const port = await closedPort();
    const url = `postgres://billing:hunter2@127.0.0.1:${port}/billing`;
    await expectOneLine({ DATABASE_URL: url, API_KEYS_FILE: writeKeysFile() }, 'DATABASE_URL', /ECONNREFUSED/);
    const { stderr } = await runService({ DATABASE_URL: url, API_KEYS_FILE: writeKeysFile() }, dataDir);
    expect(stderr).not.toContain('hunter2');
  });

  it.each(['GRPC_PORT', 'HTTP_PORT', 'EMULATOR_PORT'])('a taken %s', (variable) =>
    withTakenPort((port) => expectOneLine({ [variable]: String(port) }, variable, /already in use/)),
  );
});
