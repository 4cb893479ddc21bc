import { BindingSpec, checkBinding } from '../../src/domain/binding-rules';
import type { ProviderModule } from '../../src/ports/provider-adapter.port';

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

/**
 * Azotte (C2A API). Plans map to bundles (each plan needs a `bundleUrn`); checkout is server-to-server with a stored
 * payment method; entitlements are Azotte's own. Operations arrive with a later issue (no `create` yet: every call
 * answers UNIMPLEMENTED naming the operation).
 */
export const azotte: ProviderModule = {
  id: 'azotte',
  binding: BINDING,
  validateBinding: (config, secretRefs) => checkBinding(BINDING, config, secretRefs),
  webhookSecretNames: { current: 'webhook_secret', previous: 'webhook_secret_previous' },
  features: {
    pricing: { by: 'reference', referenceName: 'bundleUrn' },
    checkout: 'server_to_server',
    checkoutVariants: ['promotion_code'],
    cancelAtPeriodEnd: 'native',
    trials: 'native',
    entitlements: 'native',
    webhooks: 'state',
    renewals: ['provider'],
  },
};
