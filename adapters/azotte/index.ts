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
  // `{project}.azotte.com`, `{project}.sandbox.azotte.com` and the older api.* hosts (shared/providers).
  hosts: ['*.azotte.com', 'api.azotte.cloud', 'api.preview.azotte.cloud'],
};

/** Azotte (C2A API). Plans map to bundles, so each plan needs a `bundleUrn`. Operations arrive with a later issue. */
export const azotte: ProviderAdapterFactory = (): ProviderAdapter => ({
  id: 'azotte',
  planReference: 'bundleUrn',
  binding: BINDING,
  validateBinding: (config, secretRefs) => checkBinding(BINDING, config, secretRefs),
});
