import { ALL_PROVIDERS } from '../../adapters';
import { ProviderRegistry } from '../../src/app/providers/provider-registry';
import type { ProviderDeps } from '../../src/ports/provider-adapter.port';

const silent = { info: () => undefined, warn: () => undefined, error: () => undefined, debug: () => undefined };
const DEPS: ProviderDeps = {
  clock: { now: () => new Date() },
  logger: silent,
  http: { send: () => Promise.reject(new Error('no HTTP in this test')) },
};
import { webhookIpRanges } from '../../src/domain/binding-rules';

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
      // Required by every Checkout Session.
      'provider_config.sub_merchant_id',
      'secret_refs.access_no',
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

  /** What each provider's binding requires besides the setting under test. */
  const REQUIRED: Record<string, [Record<string, string>, Record<string, string>]> = {
    subotiz: [{ sub_merchant_id: 'm-1' }, { access_no: 'env:A' }],
    paytiko: [{ processor_key: '3f2a1c9e-8b7d-4e6f-9a1b-2c3d4e5f6a7b' }, { username: 'env:U', password: 'env:P' }],
  };

  it.each(['subotiz', 'paytiko'])('checks %s’s webhook IP allowlist syntax, naming the setting', (id) => {
    const [config, secrets] = REQUIRED[id]!;
    const found = registry.find(id)!;
    const adapter = {
      module: {
        ...found.module,
        validateBinding: (c: Record<string, string>, _s?: Record<string, string>) =>
          found.module.validateBinding!({ ...config, ...c }, secrets),
      },
    };
    expect(adapter.module.binding.webhookIpAllowlist).toBe('allowed_webhook_ips');
    expect(
      adapter.module.validateBinding!({ allowed_webhook_ips: '203.0.113.0/24, 2001:db8::/32, 198.51.100.7' }, {}),
    ).toEqual([]);
    expect(adapter.module.validateBinding!({ allowed_webhook_ips: '' }, {})).toEqual([]);
    for (const bad of ['203.0.113.0/33', 'paytiko.com', '10.0.0.1,,10.0.0.2', '10.0.0.1/8']) {
      expect(adapter.module.validateBinding!({ allowed_webhook_ips: bad }, {})).toEqual([
        { field: 'provider_config.allowed_webhook_ips', rule: expect.stringMatching(/CIDR|empty|host bits|prefix/) },
      ]);
    }
  });

  it('reads the allowlist at ingress: none when unset or blank, an error when a stored value no longer parses', () => {
    const spec = registry.find('paytiko')!.module.binding;
    expect(webhookIpRanges(spec, {})).toBeUndefined();
    expect(webhookIpRanges(spec, { allowed_webhook_ips: ' ' })).toBeUndefined();
    expect(
      webhookIpRanges(registry.find('azotte')!.module.binding, { allowed_webhook_ips: '1.2.3.4' }),
    ).toBeUndefined();
    expect(webhookIpRanges(spec, { allowed_webhook_ips: '1.2.3.4' })).toEqual({
      ranges: [{ version: 4, network: 0x01020304n, prefix: 32 }],
    });
    expect(webhookIpRanges(spec, { allowed_webhook_ips: 'nope' })).toEqual({ error: expect.any(String) });
  });

  it('takes Subotiz’s webhook_tolerance_seconds as an integer from 30 to 3600', () => {
    const found = registry.find('subotiz')!;
    const [config, secrets] = REQUIRED.subotiz!;
    const subotiz = {
      module: {
        validateBinding: (c: Record<string, string>, _s: Record<string, string>) =>
          found.module.validateBinding!({ ...config, ...c }, secrets),
      },
    };
    for (const good of ['30', '300', '3600']) {
      expect(subotiz.module.validateBinding({ webhook_tolerance_seconds: good }, {})).toEqual([]);
    }
    for (const bad of ['29', '3601', '-5', '1e3', '300.5', ' 300', '', 'ten']) {
      expect(subotiz.module.validateBinding({ webhook_tolerance_seconds: bad }, {})).toEqual([
        { field: 'provider_config.webhook_tolerance_seconds', rule: 'must be an integer from 30 to 3600' },
      ]);
    }
  });
});
