import fs from 'node:fs';
import { builtinModules } from 'node:module';
import path from 'node:path';
import { runtimeStage } from '../../scripts/dockerfile';

/**
 * The container's promises that need no Docker engine to check: every runtime import is a declared production
 * dependency, and the Dockerfile, compose file and npm scripts keep their shape. The image's install and start
 * steps themselves run in CI (`scripts/prod-smoke.ts`, after the build): they need the registry and a minute.
 */

const REPO = path.resolve(__dirname, '../..');
const read = (file: string) => fs.readFileSync(path.join(REPO, file), 'utf8');
const pkg = JSON.parse(read('package.json')) as {
  scripts: Record<string, string>;
  dependencies: Record<string, string>;
  devDependencies: Record<string, string>;
};

function runtimeSources(dir: string): string[] {
  return fs.readdirSync(path.join(REPO, dir), { withFileTypes: true, recursive: true }).flatMap((entry) => {
    const file = path.join(entry.parentPath, entry.name);
    return entry.isFile() && file.endsWith('.ts') && !file.endsWith('.test.ts') ? [file] : [];
  });
}

/** Packages a module loads at run time: value imports and re-exports (`import type` is erased by the compiler). */
function importedPackages(source: string): string[] {
  const specifiers = [...source.matchAll(/^\s*(?:import|export)\s+(?!type\s)[^'";]*?from\s+'([^']+)'/gm)].map(
    (m) => m[1] ?? '',
  );
  return specifiers
    .filter((s) => !s.startsWith('.') && !s.startsWith('node:') && !builtinModules.includes(s))
    .map((s) => (s.startsWith('@') ? s.split('/').slice(0, 2) : s.split('/').slice(0, 1)).join('/'));
}

describe('the production container', () => {
  it('declares every package that src/ and adapters/ load at run time as a production dependency', () => {
    const used = new Map<string, string>();
    for (const file of [...runtimeSources('src'), ...runtimeSources('adapters')]) {
      for (const name of importedPackages(fs.readFileSync(file, 'utf8'))) used.set(name, path.relative(REPO, file));
    }
    expect(used.has('@bufbuild/protobuf')).toBe(true); // src/gen: the import this test was written for
    const undeclared = [...used].filter(([name]) => !(name in pkg.dependencies));
    expect(undeclared).toEqual([]);
  });

  it('pins @bufbuild/protobuf to the version the lock file holds', () => {
    const lock = JSON.parse(read('package-lock.json')) as {
      packages: Record<string, { version: string; dev?: boolean }>;
    };
    const locked = lock.packages['node_modules/@bufbuild/protobuf'];
    expect(pkg.dependencies['@bufbuild/protobuf']).toBe(locked?.version);
    expect(locked?.dev).toBeUndefined();
  });

  it('runs the compiled output with node as PID 1, unprivileged, with a health check', () => {
    const stage = runtimeStage(read('Dockerfile'));
    expect(stage.manifests).toEqual(['package.json', 'package-lock.json']);
    expect(stage.installs).toEqual([expect.arrayContaining(['npm', 'ci', '--omit=dev'])]);
    expect(stage.cmd[0]).toBe('node');
    expect(stage.cmd.at(-1)).toBe('dist/src/main.js');
    expect(stage.user).toBeDefined();
    expect(stage.user).not.toMatch(/^(root|0)(:|$)/);
    expect(stage.healthcheck[0]).toBe('node');
    expect(stage.healthcheck.join(' ')).toContain('/healthz');
    expect(stage.env.NODE_ENV).toBe('production');
    // gRPC, HTTP and the emulators' default ports (src/config/config.ts).
    expect(stage.expose).toEqual(expect.arrayContaining([50051, 8080, 8091]));
  });

  it('builds JavaScript with the protos beside it, and starts without npm or tsx in between', () => {
    expect(pkg.scripts.build).toMatch(/tsc -p tsconfig\.build\.json/);
    expect(pkg.scripts.build).toMatch(/cp -R proto dist\/proto/);
    // `exec`: the shell npm runs the script in becomes node, so npm's forwarded SIGTERM reaches the service.
    expect(pkg.scripts.start).toMatch(/^exec node --import tsx src\/main\.ts$/);
  });

  it('publishes what the walkthrough needs from the compose file, with health checks', () => {
    const compose = read('docker-compose.yml');
    const service = compose.slice(compose.indexOf('\n  billing-adapter:'));
    for (const port of ['50051:50051', '8080:8080', '8091:8091']) expect(service).toContain(`'${port}'`);
    expect(service).toContain('healthcheck:');
    expect(service).toContain('/healthz');
    expect(compose.match(/^ {4}healthcheck:/gm)?.length).toBeGreaterThanOrEqual(3);
  });
});
