import { ALL_ADAPTERS } from '../../adapters';
import { ProviderRegistry } from '../../src/app/provider-registry';
import { isSecretReference } from '../../src/domain/storefront';

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
      'provider_config.base_url',
      'provider_config.colour',
      'secret_refs.pin',
    ]);
  });

  it('accepts only references to secrets, never secrets', () => {
    expect(isSecretReference('env:SUBOTIZ_API_KEY')).toBe(true);
    expect(isSecretReference('file:/run/secrets/subotiz')).toBe(true);
    expect(isSecretReference('sk_live_abc')).toBe(false);
    expect(isSecretReference('env:lowercase')).toBe(false);
  });

  it('refuses an adapter without an id, and duplicates', () => {
    const bad = () => ({ id: '', capabilities: [], validateBinding: () => [] });
    expect(() => new ProviderRegistry([bad])).toThrow('no valid id');
    expect(() => new ProviderRegistry([ALL_ADAPTERS[0]!, ALL_ADAPTERS[0]!])).toThrow('registered twice');
  });
});
