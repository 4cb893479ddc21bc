import { ALL_PROVIDERS } from '../../adapters';
import { ProviderRegistry } from '../../src/app/providers/provider-registry';
import type { ProviderDeps } from '../../src/ports/provider-adapter.port';

const silent = { info: () => undefined, warn: () => undefined, error: () => undefined, debug: () => undefined };
const DEPS: ProviderDeps = {
  clock: { now: () => new Date() },
  logger: silent,
  http: { send: () => Promise.reject(new Error('no HTTP in this test')) },
};

describe('provider bindings', () => {
  const registry = new ProviderRegistry(ALL_PROVIDERS, () => DEPS);

  it('knows the three providers and which need a per-plan reference', () => {
    expect(registry.ids()).toEqual(['subotiz', 'paytiko', 'azotte']);
    expect(registry.find('subotiz')!.features.pricing).toEqual({ by: 'reference', referenceName: 'price_id' });
    expect(registry.find('azotte')!.features.pricing).toEqual({ by: 'reference', referenceName: 'bundleUrn' });
    expect(registry.find('paytiko')!.features.pricing).toEqual({ by: 'inline' });
  });

  it('names unknown settings, bad values and unknown secrets', () => {
    const violations = registry.find('subotiz')!.module.validateBinding!(
      { auth_mode: 'oauth', base_url: 'ftp://x', colour: 'blue' },
      { api_key: 'env:K', pin: 'env:P' },
    );
    expect(violations.map((v) => v.field)).toEqual([
      'provider_config.auth_mode',
      'provider_config.colour',
      'secret_refs.pin',
    ]);
  });

  it('declares each provider’s documented API hosts for its base_url', () => {
    expect(registry.find('subotiz')!.module.binding.hosts).toEqual(
      expect.arrayContaining(['api.subotiz.com', 'api.sandbox.subotiz.com']),
    );
    for (const id of registry.ids()) expect(registry.find(id)!.module.binding.config.base_url).toEqual({ url: true });
  });

  it('refuses a module without an id, and duplicates', () => {
    const bad = { ...ALL_PROVIDERS[0]!, id: '' };
    expect(() => new ProviderRegistry([bad], () => DEPS)).toThrow('no valid id');
    expect(() => new ProviderRegistry([ALL_PROVIDERS[0]!, ALL_PROVIDERS[0]!], () => DEPS)).toThrow('registered twice');
  });
});
