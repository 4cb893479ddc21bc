import { BindingSpec, checkBinding } from '../../src/domain/binding-rules';
import type { ProviderModule } from '../../src/ports/provider-adapter.port';

/** Paytiko storefront binding: the per-merchant base URL, API user, and the webhook secretKey. */
const BINDING: BindingSpec = {
  config: { base_url: { url: true }, allowed_webhook_ips: {} },
  secrets: ['username', 'password', 'webhook_secret', 'webhook_secret_previous'],
  // Paytiko issues a core URL per merchant; one outside these goes through PROVIDER_HOST_ALLOWLIST.
  hosts: ['core.paytiko.com', 'uat-core.paytiko.com', 'qa-core.paytiko.com'],
  webhookIpAllowlist: 'allowed_webhook_ips',
};

/**
 * Paytiko. Prices travel inline (plans need no Paytiko reference); it has no cancel at period end, so we emulate
 * it; its signature covers only the order id, so webhooks are notifications. Operations arrive with a later issue.
 */
export const paytiko: ProviderModule = {
  id: 'paytiko',
  binding: BINDING,
  validateBinding: (config, secretRefs) => checkBinding(BINDING, config, secretRefs),
  webhookSecretNames: { current: 'webhook_secret', previous: 'webhook_secret_previous' },
  features: {
    pricing: { by: 'inline' },
    checkout: 'hosted',
    checkoutVariants: [],
    cancelAtPeriodEnd: 'emulated',
    entitlements: 'derived',
    webhooks: 'notification',
    renewals: ['provider'],
  },
};
