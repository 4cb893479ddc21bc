import { realpathSync } from 'node:fs';
import fs from 'node:fs/promises';
import { isInside, parseSecretReference, TenantSecretScope, tenantSecretScope } from '../domain/secret-reference';
import { SecretReferenceError, SecretResolver } from '../ports/secret-resolver.port';

export interface SecretResolverOptions {
  env?: NodeJS.ProcessEnv;
  /** The folder holding one sub-folder per tenant (SECRETS_DIR). */
  secretsDir: string;
  /** Values used when the environment lacks a name (the in-process demo emulators' credentials). */
  defaults?: Record<string, string>;
  /** How long a `file:` secret is reused before it is read again (rotation takes effect within it). */
  fileTtlMs?: number;
  now?: () => number;
}

const LINK_OUTSIDE = "must be a file inside the tenant's secrets folder (a link leads outside it)";

/** A secret file larger than this is not a credential; refusing it keeps a mistake from filling memory. */
const MAX_SECRET_BYTES = 64 * 1024;

const MAX_CHECKED_PER_LIST = 10_000;

interface CheckedReference {
  scope: TenantSecretScope;
  parsed: ReturnType<typeof parseSecretReference>;
}

/**
 * Reads a tenant's secrets from its env vars (`BILLING_SECRET_<TENANT>_*`) and its folder `SECRETS_DIR/<tenant>/`
 * (e.g. a mounted Kubernetes secret), and nowhere else: the reference is checked on every use against the tenants
 * known then (a check is reused while that list is), and a file's real path (symlinks followed) must stay inside the
 * tenant's real folder. Env values are read on every use; files are cached for a short TTL (debt: a rotation takes up
 * to that long to apply).
 */
export class EnvFileSecretResolver implements SecretResolver {
  private readonly env: NodeJS.ProcessEnv;
  private readonly fileTtlMs: number;
  private readonly now: () => number;
  private readonly files = new Map<string, { value: string | undefined; until: number }>();
  /**
   * Checked references by tenant, for the known-tenants list they were checked against (KnownTenants hands out one
   * list for seconds at a time): every webhook resolves its storefront's secrets, and building the tenant's scope and
   * checking the reference cost more than reading the env var. A new list checks everything again.
   */
  private readonly checked = new WeakMap<readonly string[], Map<string, CheckedReference>>();

  constructor(private readonly options: SecretResolverOptions) {
    this.env = options.env ?? process.env;
    this.fileTtlMs = options.fileTtlMs ?? 30_000;
    this.now = options.now ?? Date.now;
  }

  violation(tenantId: string, reference: string, knownTenants: readonly string[]): string | undefined {
    const scope = tenantSecretScope(tenantId, this.options.secretsDir, knownTenants);
    const parsed = parseSecretReference(reference, scope);
    if (!parsed.ok) return parsed.rule;
    // A file that exists already is followed now (a binding write is rare): a link out of the folder is refused
    // before it is stored. One that does not exist yet is checked the same way when it is first read.
    if (parsed.reference.kind === 'file' && !this.staysInside(scope.folder!, parsed.reference.path)) {
      return LINK_OUTSIDE;
    }
    return undefined;
  }

  async resolve(tenantId: string, reference: string, knownTenants: readonly string[]): Promise<string | undefined> {
    const { scope, parsed } = this.check(tenantId, reference, knownTenants);
    if (!parsed.ok) throw new SecretReferenceError(parsed.rule);
    const ref = parsed.reference;
    if (ref.kind === 'env') return this.env[ref.name]?.trim() || this.options.defaults?.[ref.name] || undefined;
    const cached = this.files.get(ref.path);
    if (cached && cached.until > this.now()) return cached.value;
    const value = await this.readInside(scope.folder!, ref.path);
    // Only a value is cached: a secret mounted a moment later is found on the next call.
    if (value !== undefined) this.files.set(ref.path, { value, until: this.now() + this.fileTtlMs });
    return value;
  }

  /** The tenant's scope and what the reference is in it, as last checked against the same known-tenants list. */
  private check(tenantId: string, reference: string, knownTenants: readonly string[]): CheckedReference {
    let byKey = this.checked.get(knownTenants);
    if (!byKey) this.checked.set(knownTenants, (byKey = new Map()));
    const key = `${tenantId}\0${reference}`;
    let checked = byKey.get(key);
    if (!checked) {
      const scope = tenantSecretScope(tenantId, this.options.secretsDir, knownTenants);
      checked = { scope, parsed: parseSecretReference(reference, scope) };
      // Bounded: references come from stored bindings, a few per storefront.
      if (byKey.size < MAX_CHECKED_PER_LIST) byKey.set(key, checked);
    }
    return checked;
  }

  /** The file's content when its real path is inside the folder's real path; undefined when it does not exist. */
  private async readInside(folder: string, file: string): Promise<string | undefined> {
    let realFolder: string;
    let realFile: string;
    try {
      [realFolder, realFile] = await Promise.all([fs.realpath(folder), fs.realpath(file)]);
    } catch {
      return undefined;
    }
    if (!isInside(realFolder, realFile)) throw new SecretReferenceError(LINK_OUTSIDE);
    const stat = await fs.stat(realFile).catch(() => undefined);
    if (!stat?.isFile()) return undefined;
    if (stat.size > MAX_SECRET_BYTES)
      throw new SecretReferenceError(`must be a file of at most ${MAX_SECRET_BYTES} bytes`);
    const text = await fs.readFile(realFile, 'utf8').catch(() => undefined);
    return text?.trim() || undefined;
  }

  /** False when `file` exists and its real path (links followed) leaves the folder's real path. */
  private staysInside(folder: string, file: string): boolean {
    try {
      return isInside(realpathSync(folder), realpathSync(file));
    } catch {
      return true;
    }
  }
}
