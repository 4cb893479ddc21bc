import { execFile } from 'node:child_process';
import path from 'node:path';
import { createTestDatabase, type TestDatabase } from './test-database';
import { startTestService, TEST_KEYS, type TestService } from './test-service';

const BIN = path.resolve(__dirname, '../../bin/billing.mjs');

/** What one `billing` run left behind. */
export interface Ran {
  code: number;
  stdout: string;
  stderr: string;
}

/** The `billing` CLI as a user runs it: a child process per command, configured only through BILLING_* variables. */
export interface BillingCli {
  run(...args: string[]): Promise<Ran>;
  /** Runs with `--json`, fails unless it exits 0, and parses stdout. */
  json<T = Record<string, unknown>>(...args: string[]): Promise<T>;
}

/**
 * Runs commands asynchronously: the service answers from the test's own process, so it must not block. `extraEnv`
 * adds BILLING_* settings of the test's own (an emulator timeout).
 */
export function billingCli(service: TestService, extraEnv: NodeJS.ProcessEnv = {}): BillingCli {
  const run = (...args: string[]): Promise<Ran> => {
    const env: NodeJS.ProcessEnv = {
      ...process.env,
      BILLING_ADDRESS: `127.0.0.1:${service.grpcPort}`,
      BILLING_API_KEY: TEST_KEYS.admin.key,
      ...extraEnv,
    };
    delete env.NODE_OPTIONS;
    return new Promise((resolve) => {
      execFile(process.execPath, [BIN, ...args], { env, timeout: 60_000 }, (error, stdout, stderr) => {
        const code = error ? (typeof error.code === 'number' ? error.code : -1) : 0;
        resolve({ code, stdout, stderr });
      });
    });
  };
  const json = async <T>(...args: string[]): Promise<T> => {
    const ran = await run(...args, '--json');
    if (ran.code !== 0) throw new Error(`billing ${args.join(' ')} exited ${ran.code}: ${ran.stderr}`);
    return JSON.parse(ran.stdout) as T;
  };
  return { run, json };
}

/**
 * What the CLI tests run against: the real service with the demo storefronts and their in-process emulators, on a
 * fresh PostgreSQL database, and the CLI bound to it. `close` stops the service and drops the database.
 */
export async function startDemoService(
  env: Record<string, string> = {},
): Promise<{ service: TestService; cli: BillingCli; close(): Promise<void> }> {
  const db: TestDatabase = await createTestDatabase();
  const service = await startTestService({
    DATABASE_URL: db.url,
    DEMO_SEED: 'true',
    EMULATORS: 'true',
    EMULATOR_PORT: '0',
    WEBHOOK_ORDER_GAP_MS: '2000',
    WEBHOOK_RETRY_BASE_MS: '200',
    ...env,
  });
  return {
    service,
    cli: billingCli(service),
    close: async () => {
      await service.close();
      await db.drop();
    },
  };
}
