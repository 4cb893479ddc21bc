import type { CatalogUseCases } from './catalog';
import { systemContext } from '../call-context';
import { hasTrials } from '../providers/provider-capabilities';
import type { ProviderRegistry } from '../providers/provider-registry';
import type { StorefrontUseCases } from './storefronts';

/** The tenant of the demo storefronts; their secret references are `env:BILLING_SECRET_DEMO_…`. */
export const DEMO_TENANT = 'demo';

/** How a demo storefront reaches its provider's in-process emulator. */
export interface DemoBinding {
  config: Record<string, string>;
  secretRefs: Record<string, string>;
}

/**
 * The embedded default's demo data: one storefront per registered provider (`demo-<provider>`) with two plans
 * that carry a reference for every provider, so a newcomer can also try SwitchProvider. Storefronts are created
 * once; on later starts only a demo binding is pointed at where its emulator listens now.
 */
export async function seedDemo(
  registry: ProviderRegistry,
  storefronts: StorefrontUseCases,
  catalog: CatalogUseCases,
  bindings: Record<string, DemoBinding> = {},
): Promise<string[]> {
  const ctx = systemContext('demo-seed');
  const created: string[] = [];
  for (const provider of registry.ids()) {
    const storefrontId = `demo-${provider}`;
    const binding = bindings[provider] ?? { config: {}, secretRefs: {} };
    const existing = await storefronts.get(storefrontId).then(
      (view) => view.storefront,
      () => undefined,
    );
    if (existing) {
      const current = existing.binding;
      const same =
        JSON.stringify([current.config, current.secretRefs]) === JSON.stringify([binding.config, binding.secretRefs]);
      if (current.provider === provider && !same) {
        await storefronts.update(
          { storefrontId, providerConfig: binding.config, secretRefs: binding.secretRefs, expectedVersion: 0 },
          ctx,
        );
      }
      continue;
    }
    await storefronts.create(
      {
        storefrontId,
        tenantId: DEMO_TENANT,
        name: `Demo store on ${provider}`,
        country: 'DE',
        defaultCurrency: 'EUR',
        provider,
        providerConfig: binding.config,
        secretRefs: binding.secretRefs,
      },
      ctx,
    );
    const refs = (plan: string) => Object.fromEntries(registry.ids().map((p) => [p, `demo_${p}_${plan}`]));
    await catalog.create(
      {
        storefrontId,
        name: 'Basic monthly',
        price: { currency: 'EUR', amountMinor: 999n, amountDecimal: '' },
        interval: { unit: 'MONTH', count: 1 },
        trialDays: 0,
        featureKeys: ['basic'],
        providerRefs: refs('basic'),
      },
      ctx,
    );
    await catalog.create(
      {
        storefrontId,
        name: 'Pro yearly',
        price: { currency: 'EUR', amountMinor: 9900n, amountDecimal: '' },
        interval: { unit: 'YEAR', count: 1 },
        // The demo's trial only where the provider runs trials: elsewhere a trial plan could not be sold.
        trialDays: hasTrials(registry.find(provider)!.features) ? 14 : 0,
        featureKeys: ['basic', 'pro'],
        providerRefs: refs('pro'),
      },
      ctx,
    );
    created.push(storefrontId);
  }
  return created;
}
