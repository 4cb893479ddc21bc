import { CachedTenantDirectory } from '../../src/auth/cached-tenant-directory';
import type { ScopedKind, TenantDirectory } from '../../src/ports/tenant-directory.port';

/** A directory that counts its lookups. */
function countingDirectory(owners: Record<string, string>): TenantDirectory & { lookups: number } {
  return {
    lookups: 0,
    async tenantOf(_kind: ScopedKind, id: string) {
      this.lookups++;
      return owners[id];
    },
  };
}

describe('the cached tenant directory', () => {
  it('asks the store once per object it has seen, and again for objects it has not found yet', async () => {
    const source = countingDirectory({ cus_1: 'acme' });
    const cache = new CachedTenantDirectory(source, 10);
    expect(await cache.tenantOf('customer', 'cus_1')).toBe('acme');
    expect(await cache.tenantOf('customer', 'cus_1')).toBe('acme');
    expect(source.lookups).toBe(1);
    expect(await cache.tenantOf('customer', 'cus_2')).toBeUndefined();
    expect(await cache.tenantOf('customer', 'cus_2')).toBeUndefined();
    expect(source.lookups).toBe(3);
  });

  it('keeps at most its capacity, dropping the least recently used', async () => {
    const source = countingDirectory({ a: 't', b: 't', c: 't' });
    const cache = new CachedTenantDirectory(source, 2);
    await cache.tenantOf('storefront', 'a');
    await cache.tenantOf('storefront', 'b');
    await cache.tenantOf('storefront', 'a'); // a is now the most recent
    await cache.tenantOf('storefront', 'c'); // evicts b
    source.lookups = 0;
    await cache.tenantOf('storefront', 'a');
    await cache.tenantOf('storefront', 'c');
    expect(source.lookups).toBe(0);
    await cache.tenantOf('storefront', 'b');
    expect(source.lookups).toBe(1);
  });

  it('keeps kinds apart', async () => {
    const cache = new CachedTenantDirectory({ tenantOf: async (kind) => (kind === 'plan' ? 'x' : 'y') });
    expect(await cache.tenantOf('plan', 'id')).toBe('x');
    expect(await cache.tenantOf('customer', 'id')).toBe('y');
  });
});
