import { KnownTenants } from '../../src/app/providers/known-tenants';

describe('known tenants', () => {
  it('reads the storefronts once per few seconds on the hot path, at once for writes and after a create', async () => {
    let reads = 0;
    let clock = 0;
    const stored = ['tenant-a'];
    const repos = { storefronts: { tenants: async () => (reads++, [...stored]) } } as never;
    const tenants = new KnownTenants(
      () => ['keys-only'],
      () => clock,
    );

    expect(await tenants.list(repos)).toEqual(['tenant-a', 'keys-only']);
    stored.push('tenant-a-eu');
    clock += 4_000;
    expect(await tenants.list(repos)).toEqual(['tenant-a', 'keys-only']);
    expect(reads).toBe(1);
    expect(await tenants.fresh(repos)).toContain('tenant-a-eu');
    expect(reads).toBe(2);
    tenants.forget();
    await tenants.list(repos);
    expect(reads).toBe(3);
    clock += 5_000;
    await tenants.list(repos);
    expect(reads).toBe(4);
  });
});
