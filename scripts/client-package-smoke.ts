/**
 * Proves @billing-adapter/client installs and works on its own, as a user gets it: build, `npm pack`, install the
 * tarball into an empty project, and from there call a port where nothing listens. The call must fail with the
 * package's own typed error, which shows the package loads, its generated stubs came along, and errors map.
 * Exits non-zero on any failure; CI runs it as `npx tsx scripts/client-package-smoke.ts`.
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { freePort } from '../test/support/free-port';

const PACKAGE_DIR = path.resolve(__dirname, '../packages/client');

function log(line: string): void {
  console.log(`client-smoke: ${line}`);
}

function run(command: string, args: string[], cwd: string): string {
  return execFileSync(command, args, { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
}

/** Runs in the scratch project, so `require` resolves only what the tarball installed. */
function probe(port: number): string {
  return `
const client = require('@billing-adapter/client');
// The consumer half loads too: a message without CloudEvents headers is refused with the package's own error.
try {
  client.decodeBillingMessage({ topic: 't', partition: 0, offset: '0', headers: {}, value: Buffer.alloc(0) });
  console.error('a message without headers decoded'); process.exit(1);
} catch (error) {
  if (!(error instanceof client.MalformedEventError)) { console.error(String(error)); process.exit(1); }
}
const billing = client.createBillingClient({ address: '127.0.0.1:${port}', deadlineMs: 1500 });
billing.customers.getCustomer({ customerId: 'x' }).then(
  () => { console.error('the call to an unused port succeeded'); process.exit(1); },
  (error) => {
    billing.close();
    const typed = error instanceof client.BillingError &&
      (error instanceof client.UnavailableError || error instanceof client.DeadlineExceededError);
    console.log(error.name + ' ' + error.status);
    process.exit(typed ? 0 : 1);
  },
);`;
}

async function main(): Promise<void> {
  const packDir = fs.mkdtempSync(path.join(os.tmpdir(), 'client-pack-'));
  const projectDir = fs.mkdtempSync(path.join(os.tmpdir(), 'client-install-'));
  try {
    run('npm', ['run', 'build'], PACKAGE_DIR);
    log('built');
    const tarball = path.join(packDir, run('npm', ['pack', '--pack-destination', packDir], PACKAGE_DIR).trim());
    log(`packed ${path.basename(tarball)}`);
    fs.writeFileSync(path.join(projectDir, 'package.json'), JSON.stringify({ name: 'client-smoke', private: true }));
    run('npm', ['install', '--no-audit', '--no-fund', '--prefer-offline', tarball], projectDir);
    log('installed into an empty project');
    const port = await freePort();
    const outcome = run(process.execPath, ['-e', probe(port)], projectDir).trim();
    log(`a call to unused port ${port} rejected with ${outcome}: ok`);
  } finally {
    fs.rmSync(packDir, { recursive: true, force: true });
    fs.rmSync(projectDir, { recursive: true, force: true });
  }
}

main().catch((error: unknown) => {
  const failure = error as { message?: string; stdout?: string; stderr?: string };
  log(`FAILED: ${failure.message ?? String(error)}`);
  if (failure.stdout) console.error(failure.stdout);
  if (failure.stderr) console.error(failure.stderr);
  process.exit(1);
});
