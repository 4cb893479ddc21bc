import { ALL_ADAPTERS } from '../../adapters';
import { ProviderRegistry } from '../../src/app/providers/provider-registry';

describe('provider bindings', () => {
  const registry = new ProviderRegistry(ALL_ADAPTERS);

  it('knows the three providers and which need a per-plan reference', () => {
    expect(registry.ids()).toEqual(['subotiz', 'paytiko', 'azotte']);
    expect(registry.find('subotiz')!.planReference).toBe('price_id');
    expect(registry.find('azotte')!.planReference).toBe('bundleUrn');
    expect(registry.find('paytiko')!.planReference).toBeUndefined();
  });

  it('names unknown settings, bad values and unknown secrets', () => {
    const violations = registry
      .find('subotiz')!
      .validateBinding({ auth_mode: 'oauth', base_url: 'ftp://x', colour: 'blue' }, { api_key: 'env:K', pin: 'env:P' });
    expect(violations.map((v) => v.field)).toEqual([
      'provider_config.auth_mode',
      'provider_config.colour',
      'secret_refs.pin',
    ]);
  });

  it('declares each provider’s documented API hosts for its base_url', () => {
    expect(registry.find('subotiz')!.binding!.hosts).toEqual(
      expect.arrayContaining(['api.subotiz.com', 'api.sandbox.subotiz.com']),
    );
    for (const id of registry.ids()) expect(registry.find(id)!.binding!.config.base_url).toEqual({ url: true });
  });

  it('refuses an adapter without an id, and duplicates', () => {
    const bad = () => ({ id: '', capabilities: [], validateBinding: () => [] });
    expect(() => new ProviderRegistry([bad])).toThrow('no valid id');
    expect(() => new ProviderRegistry([ALL_ADAPTERS[0]!, ALL_ADAPTERS[0]!])).toThrow('registered twice');
  });
});
