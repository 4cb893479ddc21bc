import { BindingSpec, checkBinding } from '../../src/domain/binding-rules';
import { isCountry } from '../../src/domain/countries';
import type { Violation } from '../../src/domain/errors';
import type { ProviderModule } from '../../src/ports/provider-adapter.port';
import { preflightCheckout } from './checkout-checks';
import { createAzotteOperations } from './operations';
import { LANGUAGE } from './validation';
import { PROJECT_LABEL } from './wire';
import { azotteWebhooks } from './webhooks';

/** Azotte storefront binding: C2A base URL (or project + environment), tenant (x-tn), storefront URN, secrets. */
const BINDING: BindingSpec = {
  config: {
    base_url: { url: true },
    project: {},
    environment: { values: ['sandbox', 'production'] },
    tenant: {},
    storefront_urn: {},
    // A stored customer's claimedRegion when the customer has no country; its language (README 15).
    claimed_country: {},
    claimed_language: {},
  },
  secrets: ['api_key', 'webhook_secret', 'webhook_secret_previous'],
  // `{project}.azotte.com`, `{project}.sandbox.azotte.com` and the older api.* hosts (shared/providers).
  hosts: ['*.azotte.com', 'api.azotte.cloud', 'api.preview.azotte.cloud'],
};

/**
 * Azotte (C2A API). Plans map to bundles (each plan needs a `bundleUrn`); checkout is server-to-server with a stored
 * payment method; entitlements are Azotte's own; webhooks carry signed state, ordered per customer (README).
 */
export const azotte: ProviderModule = {
  id: 'azotte',
  binding: BINDING,
  validateBinding: (config, secretRefs) => [
    ...checkBinding(BINDING, config, secretRefs),
    ...required(config, secretRefs),
  ],
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
  create: (deps) => ({
    operations: createAzotteOperations({ transport: deps.http, clock: deps.clock }),
    // createCheckout runs the same checks again before its first call.
    preflight: { checkout: preflightCheckout },
    webhooks: azotteWebhooks,
  }),
};

/** What every C2A call needs (x-tn, storefrontUrn, x-api-key, a base URL) and the claimedRegion shapes. */
function required(config: Record<string, string>, secretRefs: Record<string, string>): Violation[] {
  const violations: Violation[] = [];
  if (!config.tenant) violations.push({ field: 'provider_config.tenant', rule: 'is required (sent as x-tn)' });
  if (!config.storefront_urn) {
    violations.push({ field: 'provider_config.storefront_urn', rule: 'is required (every offer names it)' });
  }
  if (!secretRefs.api_key) violations.push({ field: 'secret_refs.api_key', rule: 'is required (sent as x-api-key)' });
  if (!config.base_url && !config.project) {
    violations.push({ field: 'provider_config.base_url', rule: 'is required unless project (and environment) is set' });
  } else if (!config.base_url && !PROJECT_LABEL.test(config.project!)) {
    violations.push({ field: 'provider_config.project', rule: 'must be a DNS label (lower-case letters, digits, -)' });
  }
  if (config.claimed_country !== undefined && !isCountry(config.claimed_country)) {
    violations.push({
      field: 'provider_config.claimed_country',
      rule: 'must be an ISO 3166-1 alpha-2 code in upper case, like DE',
    });
  }
  if (config.claimed_language !== undefined && !LANGUAGE.test(config.claimed_language)) {
    violations.push({
      field: 'provider_config.claimed_language',
      rule: 'must be an ISO 639-1 code in lower case, like de',
    });
  }
  return violations;
}
