import path from 'node:path';

/** A parsed secret reference: an env var name, or a file path inside the tenant's secrets folder. */
export type SecretReference = { kind: 'env'; name: string } | { kind: 'file'; path: string };

/** Where a tenant's secrets may live: its env prefix and its folder under SECRETS_DIR. */
export interface TenantSecretScope {
  envPrefix: string;
  /**
   * Env prefixes of other known tenants that are as long as ours and start with it (`acme-eu`'s
   * `BILLING_SECRET_ACME_EU_` for `acme`; `acme_eu`'s for `acme-eu`): a name under one of them is theirs, not ours.
   */
  foreignPrefixes: string[];
  /** Absolute folder, or undefined when the tenant id cannot name a folder safely (then no `file:` reference). */
  folder?: string;
}

const ENV_NAME = /^[A-Z0-9_]+$/;
// A folder name that is one plain path segment: no separators, no `.`/`..`, nothing a shell or NUL could bend.
const SAFE_FOLDER = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;
const MAX_REFERENCE = 512;

/** `BILLING_SECRET_<TENANT>_`: the tenant id upper-cased, every other character `_` (the contract's env prefix). */
export function tenantEnvPrefix(tenantId: string): string {
  return `BILLING_SECRET_${tenantId.toUpperCase().replace(/[^A-Z0-9]/g, '_')}_`;
}

/**
 * The env prefix and folder (`<secretsDir>/<tenant>`) a storefront of `tenantId` may reference. `knownTenants` (every
 * tenant of a storefront or an API key) makes the prefixes one-to-one: the mapping from ids is neither injective
 * (`acme-eu`, `acme_eu`) nor prefix-free (`acme`, `acme-eu`), so a name that another tenant's prefix also covers is
 * refused, for whichever tenant asks.
 */
export function tenantSecretScope(
  tenantId: string,
  secretsDir: string,
  knownTenants: readonly string[],
): TenantSecretScope {
  const folder = SAFE_FOLDER.test(tenantId) ? path.join(path.resolve(secretsDir), tenantId) : undefined;
  const envPrefix = tenantEnvPrefix(tenantId);
  const foreignPrefixes = knownTenants
    .filter((other) => other !== tenantId)
    .map(tenantEnvPrefix)
    .filter((prefix) => prefix.startsWith(envPrefix));
  return { envPrefix, folder, foreignPrefixes };
}

/** The env prefix `tenantId` would share with another known tenant (`acme_eu` and `acme-eu`), if any. */
export function sharedEnvPrefix(tenantId: string, knownTenants: readonly string[]): string | undefined {
  const envPrefix = tenantEnvPrefix(tenantId);
  return knownTenants.some((other) => other !== tenantId && tenantEnvPrefix(other) === envPrefix)
    ? envPrefix
    : undefined;
}

/**
 * Reads `env:NAME` / `file:NAME` for a tenant. Answers the reference, or the rule it breaks (never echoing it: a
 * secret pasted by mistake must not come back in an error). `file:` names are relative to the tenant's folder; an
 * absolute path is accepted only inside it. This check is lexical; the resolver also follows symlinks (realpath).
 */
export function parseSecretReference(
  reference: string,
  scope: TenantSecretScope,
): { ok: true; reference: SecretReference } | { ok: false; rule: string } {
  const refuse = (rule: string) => ({ ok: false as const, rule });
  const envRule = `must be a reference: env:${scope.envPrefix}<NAME>, or file:<name> in the tenant's secrets folder`;
  if (reference.length > MAX_REFERENCE) return refuse(`must be at most ${MAX_REFERENCE} characters`);
  if (reference.startsWith('env:')) {
    const name = reference.slice(4);
    if (!ENV_NAME.test(name)) return refuse(`${envRule}; env names are upper-case letters, digits and _`);
    if (!name.startsWith(scope.envPrefix) || name.length === scope.envPrefix.length) {
      return refuse(`must name an env var starting with ${scope.envPrefix} (the storefront tenant's own secrets)`);
    }
    // Which tenant is not named: a caller learns only that the name is not its own.
    if (scope.foreignPrefixes.some((prefix) => name.startsWith(prefix))) {
      return refuse(`must not name an env var that another tenant's BILLING_SECRET_<TENANT>_ prefix also covers`);
    }
    return { ok: true, reference: { kind: 'env', name } };
  }
  if (reference.startsWith('file:')) {
    const name = reference.slice(5);
    if (!scope.folder) return refuse('file references need a tenant id that is a plain folder name');
    // Printable ASCII only: no NUL, no control characters, nothing that normalizes into something else.
    if (!name || !/^[\x21-\x7e]+$/.test(name)) return refuse('must be file:<name> with a printable ASCII name');
    if (name.split(/[\\/]/).includes('..')) return refuse("must not contain '..'");
    const resolved = path.isAbsolute(name) ? path.normalize(name) : path.join(scope.folder, name);
    if (!isInside(scope.folder, resolved)) {
      return refuse(`must be a file inside the tenant's secrets folder ${scope.folder}`);
    }
    return { ok: true, reference: { kind: 'file', path: resolved } };
  }
  return refuse(envRule);
}

/** True when `candidate` lies strictly inside `folder` (both absolute, normalized). */
export function isInside(folder: string, candidate: string): boolean {
  const relative = path.relative(folder, candidate);
  return relative !== '' && !relative.startsWith('..') && !path.isAbsolute(relative);
}
