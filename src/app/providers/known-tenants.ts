import type { Repositories } from '../../ports/store.port';

/**
 * Every tenant the service knows: those with a storefront and those of the configured API keys (a tenant may hold a
 * key before its first storefront). Secret references are checked against them so that no tenant can name an env
 * var another tenant's `BILLING_SECRET_<TENANT>_` prefix covers. Read fresh on each use: the storefronts table is
 * small, and a tenant created on another instance must count at once. Tenants known only from JWTs are not listed.
 */
export class KnownTenants {
  constructor(private readonly configured: () => Iterable<string> = () => []) {}

  async list(repos: Pick<Repositories, 'storefronts'>): Promise<string[]> {
    return [...new Set([...(await repos.storefronts.tenants()), ...this.configured()])];
  }
}
