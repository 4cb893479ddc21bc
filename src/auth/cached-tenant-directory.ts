import type { ScopedKind, TenantDirectory } from '../ports/tenant-directory.port';

/**
 * Remembers the owners it has seen, least recently used first out. Safe because an object never moves to another
 * storefront and a storefront never changes tenant; misses are not remembered (the object may be created next).
 */
export class CachedTenantDirectory implements TenantDirectory {
  private readonly owners = new Map<string, string>();

  constructor(
    private readonly source: TenantDirectory,
    private readonly capacity = 10_000,
  ) {}

  async tenantOf(kind: ScopedKind, id: string): Promise<string | undefined> {
    const key = `${kind}\u0000${id}`;
    const known = this.owners.get(key);
    if (known !== undefined) {
      // Re-insert so a Map's insertion order is its recency order.
      this.owners.delete(key);
      this.owners.set(key, known);
      return known;
    }
    const tenant = await this.source.tenantOf(kind, id);
    if (!tenant) return tenant;
    this.owners.set(key, tenant);
    if (this.owners.size > this.capacity) this.owners.delete(this.owners.keys().next().value!);
    return tenant;
  }
}
