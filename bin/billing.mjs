#!/usr/bin/env node
// The `billing` CLI: runs src/cli/main.ts through tsx (the service's own runtime) and passes its exit code on.
import { spawn } from 'node:child_process';
import { constants } from 'node:os';
import process from 'node:process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
// tsx is resolved from this package, not from wherever the user stands.
const tsx = import.meta.resolve('tsx');
const child = spawn(process.execPath, ['--import', tsx, join(root, 'src/cli/main.ts'), ...process.argv.slice(2)], {
  stdio: 'inherit',
  cwd: process.cwd(),
});
// A signal sent to this wrapper alone (kill, a supervisor) must reach the CLI, or `events tail` would outlive it.
// Ctrl-C reaches both already (same process group); passing it on again is harmless.
for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP']) process.on(signal, () => child.kill(signal));
child.on('error', (error) => {
  process.stderr.write(`error: cannot start the CLI: ${error.message}\n`);
  process.exit(1);
});
// A CLI killed by a signal exits as a shell reports it, 128 + the signal's number (130 for SIGINT, 137 for SIGKILL).
child.on('exit', (code, signal) => process.exit(code ?? 128 + (constants.signals[signal] ?? 0)));
