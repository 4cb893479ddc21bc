import type { CatalogUseCases } from './catalog';
import { systemContext } from './call-context';
import type { ProviderRegistry } from './provider-registry';
import type { StorefrontUseCases } from './storefronts';

/**
 * The embedded default's demo data: one storefront per registered provider (`demo-<provider>`) with two plans
 * that carry a reference for every provider, so a newcomer can also try SwitchProvider. Runs once; later starts
 * find the storefronts and leave them alone.
 */
export async function seedDemo(
  registry: ProviderRegistry,
  storefronts: StorefrontUseCases,
  catalog: CatalogUseCases,
): Promise<string[]> {
  const ctx = systemContext('demo-seed');
  const created: string[] = [];
  for (const provider of registry.ids()) {
    const storefrontId = `demo-${provider}`;
    const exists = await storefronts.get(storefrontId).then(
      () => true,
      () => false,
    );
    if (exists) continue;
    await storefronts.create(
      {
        storefrontId,
        tenantId: 'demo',
        name: `Demo store on ${provider}`,
        country: 'DE',
        defaultCurrency: 'EUR',
        provider,
        providerConfig: {},
        secretRefs: {},
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
        trialDays: 14,
        featureKeys: ['basic', 'pro'],
        providerRefs: refs('pro'),
      },
      ctx,
    );
    created.push(storefrontId);
  }
  return created;
}
