import type { Repositories } from '../../ports/store.port';

/** How long provider calls and webhooks reuse the list: a tenant created on another instance counts within it. */
const REUSE_MS = 5_000;

/**
 * Every tenant the service knows: those with a storefront and those of the configured API keys (a tenant may hold a
 * key before its first storefront). Secret references are checked against them so that no tenant can name an env
 * var another tenant's `BILLING_SECRET_<TENANT>_` prefix covers. Tenants known only from JWTs are not listed.
 */
export class KnownTenants {
  private recent?: { at: number; tenants: string[] };

  constructor(
    private readonly configured: () => Iterable<string> = () => [],
    private readonly now: () => number = Date.now,
  ) {}

  /** Read now: for writes, which must see a tenant created a moment ago anywhere. */
  async fresh(repos: Pick<Repositories, 'storefronts'>): Promise<string[]> {
    const tenants = [...new Set([...(await repos.storefronts.tenants()), ...this.configured()])];
    this.recent = { at: this.now(), tenants };
    return tenants;
  }

  /** The next `list` reads again (a storefront, perhaps of a new tenant, was just created). */
  forget(): void {
    this.recent = undefined;
  }

  /** At most a few seconds old: for the provider calls and webhooks of the hot path (one query, not one per call). */
  async list(repos: Pick<Repositories, 'storefronts'>): Promise<string[]> {
    if (this.recent && this.now() - this.recent.at < REUSE_MS) return this.recent.tenants;
    return this.fresh(repos);
  }
}
