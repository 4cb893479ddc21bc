import { BindingSpec, checkBinding } from '../../src/domain/binding-rules';
import type { Violation } from '../../src/domain/errors';
import type { ProviderModule } from '../../src/ports/provider-adapter.port';
import { preflightCheckout } from './checkout-checks';
import { createPaytikoOperations } from './operations';
import { isProcessorKey, parseEmitterQueue } from './validation';
import { paytikoWebhooks } from './webhooks';

/** Paytiko storefront binding: the per-merchant base URL, processor key, API user, and the webhook secretKey. */
const BINDING: BindingSpec = {
  config: {
    base_url: { url: true },
    // The merchant's processor, named on every Create Customer (a canonical UUID).
    processor_key: {},
    allowed_webhook_ips: {},
    // The checkout's and portal's returnToWebsiteLink when a request names none (our page, any host).
    return_url: { customerUrl: true },
    // Sandbox testing only: outcomes Paytiko's sandbox gives the renewal charges of every new membership.
    test_charge_emitter_queue: {},
  },
  secrets: ['username', 'password', 'webhook_secret', 'webhook_secret_previous'],
  // Paytiko issues a core URL per merchant; one outside these goes through PROVIDER_HOST_ALLOWLIST.
  hosts: ['core.paytiko.com', 'uat-core.paytiko.com', 'qa-core.paytiko.com'],
  webhookIpAllowlist: 'allowed_webhook_ips',
};

/**
 * Paytiko memberships. Prices travel inline (plans need no Paytiko reference); it has no cancel at period end, so the
 * core emulates it; its signature covers only the order id, so webhooks are notifications (README).
 */
export const paytiko: ProviderModule = {
  id: 'paytiko',
  binding: BINDING,
  validateBinding: (config, secretRefs) => [
    ...checkBinding(BINDING, config, secretRefs),
    ...required(config, secretRefs),
  ],
  webhookSecretNames: { current: 'webhook_secret', previous: 'webhook_secret_previous' },
  features: {
    pricing: { by: 'inline' },
    checkout: 'hosted',
    checkoutVariants: [],
    cancelAtPeriodEnd: 'emulated',
    entitlements: 'derived',
    webhooks: 'notification',
    renewals: ['provider'],
    // No trial field on a membership: the first charge is the checkout's, so a plan with trial days is refused.
    trials: 'none',
  },
  create: (deps) => ({
    operations: createPaytikoOperations({ transport: deps.http, clock: deps.clock }),
    // createCheckout runs the same checks again before its first call.
    preflight: { checkout: preflightCheckout },
    webhooks: paytikoWebhooks,
  }),
};

/** What every Paytiko call needs: the processor key (Create Customer) and the API user (auth). */
function required(config: Record<string, string>, secretRefs: Record<string, string>): Violation[] {
  const violations: Violation[] = [];
  if (!config.processor_key) {
    violations.push({ field: 'provider_config.processor_key', rule: 'is required (every Create Customer names it)' });
  } else if (!isProcessorKey(config.processor_key)) {
    violations.push({
      field: 'provider_config.processor_key',
      rule: 'must be a canonical UUID (8-4-4-4-12 hex digits), not the nil UUID',
    });
  }
  for (const name of ['username', 'password']) {
    if (!secretRefs[name]) {
      violations.push({
        field: `secret_refs.${name}`,
        rule: 'is required (Paytiko’s auth takes userName and password)',
      });
    }
  }
  const queue = parseEmitterQueue(config.test_charge_emitter_queue);
  if ('error' in queue) violations.push({ field: 'provider_config.test_charge_emitter_queue', rule: queue.error });
  return violations;
}
