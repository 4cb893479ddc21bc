/**
 * Turns a storefront's secret reference (`env:BILLING_SECRET_<TENANT>_NAME`, `file:name`) into the secret, only from
 * where that storefront's tenant may keep secrets.
 */
export interface SecretResolver {
  /**
   * The rule `reference` breaks for a storefront of `tenantId` (never quoting a value), or undefined when allowed.
   * `knownTenants` are every tenant there is (see KnownTenants): an env name another one's prefix covers is refused.
   */
  violation(tenantId: string, reference: string, knownTenants: readonly string[]): string | undefined;
  /**
   * The secret, or undefined when it is not set. Throws SecretReferenceError when the reference is not the tenant's
   * to use (a row written before the rules, or before a tenant whose prefix covers its name existed, or a symlink
   * that leads out of the tenant's folder).
   */
  resolve(tenantId: string, reference: string, knownTenants: readonly string[]): Promise<string | undefined>;
}

/** A reference a tenant may not use; `rule` says why without quoting any value. */
export class SecretReferenceError extends Error {
  constructor(readonly rule: string) {
    super(rule);
    this.name = 'SecretReferenceError';
  }
}
