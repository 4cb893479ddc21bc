/**
 * The Dockerfile's runtime (last) stage as data, for `scripts/prod-smoke.ts` to perform without a Docker engine and
 * for the container test to check. Knows only the instructions our Dockerfile uses, in their exec (JSON) form.
 */
export interface RuntimeStage {
  /** Files the stage copies from the build context (not `--from` another stage), e.g. the package manifests. */
  manifests: string[];
  /** The `npm ci` commands of its RUN lines, as argv. */
  installs: string[][];
  /** Its ENV values. */
  env: Record<string, string>;
  user: string | undefined;
  expose: number[];
  /** CMD and HEALTHCHECK's CMD, as argv. */
  cmd: string[];
  healthcheck: string[];
}

/** Instructions, one a line: continuation lines joined, comments and blank lines dropped. */
function instructions(text: string): string[] {
  return text
    .replace(/\\\r?\n/g, ' ')
    .split(/\r?\n/)
    .map((line) => line.trim())
    .filter((line) => line !== '' && !line.startsWith('#'));
}

function execForm(json: string, what: string): string[] {
  const argv: unknown = JSON.parse(json);
  if (!Array.isArray(argv) || argv.length === 0 || !argv.every((a) => typeof a === 'string')) {
    throw new Error(`Dockerfile: ${what} must be in exec form (a JSON array of strings)`);
  }
  return argv as string[];
}

export function runtimeStage(dockerfile: string): RuntimeStage {
  const all = instructions(dockerfile);
  const from = all.map((line) => /^FROM\s/i.test(line)).lastIndexOf(true);
  if (from < 0) throw new Error('Dockerfile: no FROM');
  const stage: RuntimeStage = {
    manifests: [],
    installs: [],
    env: {},
    user: undefined,
    expose: [],
    cmd: [],
    healthcheck: [],
  };
  for (const line of all.slice(from + 1)) {
    const [, keyword = '', rest = ''] = /^(\S+)\s+(.*)$/.exec(line) ?? [];
    switch (keyword.toUpperCase()) {
      case 'COPY':
        if (!rest.startsWith('--from')) stage.manifests.push(...rest.split(/\s+/).slice(0, -1));
        break;
      case 'RUN':
        for (const part of rest.split('&&').map((p) => p.trim())) {
          if (/^npm ci(\s|$)/.test(part)) stage.installs.push(part.split(/\s+/));
        }
        break;
      case 'ENV':
        for (const [, key = '', value = ''] of rest.matchAll(/(\w+)=(\S+)/g)) stage.env[key] = value;
        break;
      case 'USER':
        stage.user = rest;
        break;
      case 'EXPOSE':
        stage.expose.push(...rest.split(/\s+/).map((port) => Number.parseInt(port, 10)));
        break;
      case 'CMD':
        stage.cmd = execForm(rest, 'CMD');
        break;
      case 'HEALTHCHECK': {
        const json = /\bCMD\s+(\[.*\])\s*$/.exec(rest)?.[1];
        if (!json) throw new Error('Dockerfile: HEALTHCHECK needs a CMD in exec form');
        stage.healthcheck = execForm(json, 'HEALTHCHECK CMD');
        break;
      }
    }
  }
  if (stage.installs.length === 0) throw new Error('Dockerfile: the runtime stage runs no `npm ci`');
  if (stage.cmd.length === 0) throw new Error('Dockerfile: the runtime stage has no CMD');
  return stage;
}
