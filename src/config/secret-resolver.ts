import fs from 'node:fs';
import type { SecretResolver } from '../ports/secret-resolver.port';

/**
 * Reads secrets where their references point: `env:NAME` from the environment, `file:/path` from a file (e.g. a
 * mounted Kubernetes secret). Read on every use, so a rotated secret takes effect without a restart.
 */
export class EnvFileSecretResolver implements SecretResolver {
  constructor(
    private readonly env: NodeJS.ProcessEnv = process.env,
    /** Values used when the environment lacks a name (the in-process demo emulators' credentials). */
    private readonly defaults: Record<string, string> = {},
  ) {}

  resolve(reference: string): string | undefined {
    if (reference.startsWith('env:')) {
      const name = reference.slice(4);
      return this.env[name]?.trim() || this.defaults[name] || undefined;
    }
    if (reference.startsWith('file:')) {
      try {
        return fs.readFileSync(reference.slice(5), 'utf8').trim() || undefined;
      } catch {
        return undefined;
      }
    }
    return undefined;
  }
}
