import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import * as grpc from '@grpc/grpc-js';
import { runtimeStage } from './dockerfile';
import { freePort } from '../test/support/free-port';

/**
 * `npx tsx scripts/prod-smoke.ts` (CI, after `npm run build`): the Dockerfile's runtime stage without a Docker engine.
 * In a scratch folder: the image's files (package.json, package-lock.json), its install command (`npm ci --omit=dev`),
 * the build output, then its CMD. Passes when gRPC health answers SERVING, the image's HEALTHCHECK command exits 0,
 * the Kafka publisher's thread runs from the compiled files (its kafkajs reports an unreachable broker), and SIGTERM
 * ends the process with exit code 0 within STOP_TIMEOUT_MS. Steps are read from the Dockerfile itself, so
 * the two cannot drift apart. KEEP_SCRATCH=1 keeps the folder for a look.
 */

const REPO = path.resolve(__dirname, '..');
// The embedded database migrates at first start; on a busy 2-core machine that takes tens of seconds.
const START_TIMEOUT_MS = 180_000;
const STOP_TIMEOUT_MS = 10_000;
// kafkajs reports its first failed connection within a second or two of the service asking for the broker.
const KAFKA_LOG_TIMEOUT_MS = 30_000;
// Dev-only packages that must not be in a production install (proves --omit=dev took effect).
const DEV_ONLY = ['typescript', 'jest', 'eslint'];

function log(message: string): void {
  console.log(`prod-smoke: ${message}`);
}

function run(command: string[], cwd: string): void {
  const [file, ...args] = command as [string, ...string[]];
  log(`$ ${command.join(' ')}`);
  const result = spawnSync(file, args, { cwd, stdio: 'inherit' });
  if (result.status !== 0) throw new Error(`'${command.join(' ')}' failed (${result.status ?? result.signal})`);
}

/** grpc.health.v1.Health/Check for the whole server, without stubs: the request is empty, status is field 1. */
async function healthStatus(address: string): Promise<number | undefined> {
  const client = new grpc.Client(address, grpc.credentials.createInsecure());
  try {
    return await new Promise((resolve) => {
      client.makeUnaryRequest(
        '/grpc.health.v1.Health/Check',
        () => Buffer.alloc(0),
        (bytes: Buffer) => bytes,
        {},
        { deadline: Date.now() + 2000 },
        (error, reply) => {
          if (error || !reply) return resolve(undefined);
          // HealthCheckResponse { status = 1 }: tag 0x08, then a one-byte varint; absent means UNKNOWN (0).
          resolve(reply[0] === 0x08 ? reply[1] : 0);
        },
      );
    });
  } finally {
    client.close();
  }
}

function exited(child: ChildProcess): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
  if (child.exitCode !== null || child.signalCode !== null) {
    return Promise.resolve({ code: child.exitCode, signal: child.signalCode });
  }
  return new Promise((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Node resolves packages in every parent folder too; one there would hide a missing production dependency. */
function assertNoParentNodeModules(dir: string): void {
  for (let parent = path.dirname(dir); ; parent = path.dirname(parent)) {
    if (fs.existsSync(path.join(parent, 'node_modules'))) {
      throw new Error(`${parent}/node_modules exists: it would satisfy imports the image cannot; use another TMPDIR`);
    }
    if (parent === path.dirname(parent)) return;
  }
}

async function main(): Promise<void> {
  const stage = runtimeStage(fs.readFileSync(path.join(REPO, 'Dockerfile'), 'utf8'));
  if (!fs.existsSync(path.join(REPO, 'dist/src/main.js'))) throw new Error('no dist/src/main.js: run `npm run build`');

  const scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'billing-prod-smoke-'));
  assertNoParentNodeModules(scratch);
  log(`scratch folder ${scratch}`);
  let child: ChildProcess | undefined;
  const output: string[] = [];
  try {
    // The image's files, as its COPY lines place them: the manifests before the install, then the build output.
    for (const file of stage.manifests) fs.copyFileSync(path.join(REPO, file), path.join(scratch, file));
    for (const command of stage.installs) run(command, scratch);
    for (const name of DEV_ONLY) {
      if (fs.existsSync(path.join(scratch, 'node_modules', name)))
        throw new Error(`dev dependency '${name}' installed`);
    }
    fs.cpSync(path.join(REPO, 'dist'), path.join(scratch, 'dist'), { recursive: true });

    const [grpcPort, httpPort, emulatorPort, noBroker] = [
      await freePort(),
      await freePort(),
      await freePort(),
      await freePort(),
    ];
    const env: NodeJS.ProcessEnv = {
      PATH: process.env.PATH,
      HOME: process.env.HOME,
      ...stage.env,
      // The image's DATA_DIR is a folder made for it; here, one inside the scratch folder.
      DATA_DIR: path.join(scratch, 'data'),
      HOST: '127.0.0.1',
      GRPC_PORT: String(grpcPort),
      HTTP_PORT: String(httpPort),
      EMULATOR_PORT: String(emulatorPort),
      LOG_LEVEL: 'info',
      // Nothing listens there: kafkajs runs on a thread started from dist/ (a worker file the build must emit) and
      // says so in its own log lines, while the service serves without Kafka.
      KAFKA_BROKERS: `127.0.0.1:${noBroker}`,
    };
    const [file, ...args] = stage.cmd as [string, ...string[]];
    log(`$ ${stage.cmd.join(' ')} (gRPC :${grpcPort}, HTTP :${httpPort}, embedded database)`);
    const started = spawn(file, args, { cwd: scratch, env, stdio: ['ignore', 'pipe', 'pipe'] });
    child = started;
    started.stdout?.on('data', (chunk: Buffer) => output.push(chunk.toString()));
    started.stderr?.on('data', (chunk: Buffer) => output.push(chunk.toString()));

    const startedAt = Date.now();
    for (;;) {
      if (started.exitCode !== null) throw new Error(`exited at start with code ${started.exitCode}`);
      if ((await healthStatus(`127.0.0.1:${grpcPort}`)) === 1) break;
      if (Date.now() - startedAt > START_TIMEOUT_MS) throw new Error(`not SERVING after ${START_TIMEOUT_MS} ms`);
      await sleep(500);
    }
    log(`gRPC health SERVING after ${Date.now() - startedAt} ms`);

    const [probe, ...probeArgs] = stage.healthcheck as [string, ...string[]];
    const health = spawnSync(probe, probeArgs, { cwd: scratch, env, timeout: 5000 });
    if (health.status !== 0) throw new Error(`the image's HEALTHCHECK command failed (${health.status})`);
    log('HEALTHCHECK command exits 0');

    const kafkaAskedAt = Date.now();
    while (!output.join('').includes('"component":"kafkajs"')) {
      if (Date.now() - kafkaAskedAt > KAFKA_LOG_TIMEOUT_MS) throw new Error('no kafkajs line from the Kafka thread');
      await sleep(250);
    }
    log("the Kafka publisher's thread runs (kafkajs reports the unreachable broker)");

    const stopAt = Date.now();
    started.kill('SIGTERM');
    const outcome = await Promise.race([exited(started), sleep(STOP_TIMEOUT_MS).then(() => undefined)]);
    if (!outcome) throw new Error(`still running ${STOP_TIMEOUT_MS} ms after SIGTERM`);
    if (outcome.code !== 0) throw new Error(`exit code ${outcome.code ?? outcome.signal} after SIGTERM, expected 0`);
    log(`SIGTERM: drained and exited 0 in ${Date.now() - stopAt} ms`);
  } catch (error) {
    console.error(`prod-smoke: FAILED: ${(error as Error).message}\n--- service output ---\n${output.join('')}`);
    process.exitCode = 1;
  } finally {
    if (child && child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    if (process.env.KEEP_SCRATCH) log(`kept ${scratch}`);
    else fs.rmSync(scratch, { recursive: true, force: true });
  }
}

void main();
