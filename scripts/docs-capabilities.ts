import fs from 'node:fs';
import path from 'node:path';
import { shippedCapabilityTable, withCapabilityTable } from './capability-doc';

/**
 * `npm run docs:capabilities`: rewrites README.md's capability table (between its markers) from the shipped
 * provider modules, the same lists GetStorefront answers. `-- --check` only says whether it is current (exit 1 if not).
 */
function run(): void {
  const readme = path.resolve(__dirname, '../README.md');
  const current = fs.readFileSync(readme, 'utf8');
  const next = withCapabilityTable(current, shippedCapabilityTable());
  if (next === current) {
    console.log('README.md capability table is current');
    return;
  }
  if (process.argv.includes('--check')) {
    console.error('README.md capability table is stale: run npm run docs:capabilities');
    process.exitCode = 1;
    return;
  }
  fs.writeFileSync(readme, next);
  console.log('README.md capability table rewritten');
}

run();
