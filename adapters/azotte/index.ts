import { BindingSpec, checkBinding } from '../../src/domain/binding-rules';
import type { ProviderAdapter, ProviderAdapterFactory } from '../../src/ports/provider-adapter.port';

/** Azotte storefront binding: C2A base URL (or project + environment), tenant (x-tn), storefront URN, secrets. */
const BINDING: BindingSpec = {
  config: {
    base_url: { url: true },
    project: {},
    environment: { values: ['sandbox', 'production'] },
    tenant: {},
    storefront_urn: {},
  },
  secrets: ['api_key', 'webhook_secret', 'webhook_secret_previous'],
};

/** Azotte (C2A API). Plans map to bundles, so each plan needs a `bundleUrn`. Operations arrive with a later issue. */
export const azotte: ProviderAdapterFactory = (): ProviderAdapter => ({
  id: 'azotte',
  planReference: 'bundleUrn',
  validateBinding: (config, secretRefs) => checkBinding(BINDING, config, secretRefs),
});
