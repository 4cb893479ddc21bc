import { existsSync, readdirSync } from 'node:fs';
import path from 'node:path';

/** `npm run emulator -- <provider>`: runs adapters/<provider>/emulator/main.ts on its own. */
const ADAPTERS = path.resolve(__dirname, '../adapters');

function knownProviders(): string[] {
  return readdirSync(ADAPTERS, { withFileTypes: true })
    .filter((entry) => entry.isDirectory() && existsSync(path.join(ADAPTERS, entry.name, 'emulator', 'main.ts')))
    .map((entry) => entry.name);
}

async function run(): Promise<void> {
  const name = process.argv[2] ?? '';
  const known = knownProviders();
  // Only a plain provider name: the argument becomes part of a module path.
  if (!/^[a-z0-9-]+$/.test(name) || !known.includes(name)) {
    throw new Error(
      `usage: npm run emulator -- <provider>; ${name ? `no emulator for '${name}'` : 'no provider given'} ` +
        `(known: ${known.join(', ') || 'none'})`,
    );
  }
  const emulator = (await import(`../adapters/${name}/emulator/main`)) as { main?: () => Promise<void> };
  if (typeof emulator.main !== 'function') throw new Error(`adapters/${name}/emulator/main.ts exports no main()`);
  await emulator.main();
}

run().catch((error: unknown) => {
  console.error((error as Error).message);
  process.exit(1);
});
