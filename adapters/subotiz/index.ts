import { BindingSpec, checkBinding } from '../../src/domain/binding-rules';
import type { Violation } from '../../src/domain/errors';
import type { ProviderModule } from '../../src/ports/provider-adapter.port';
import { createSubotizOperations } from './operations';
import { subotizWebhooks } from './webhooks';

/** Who may charge renewals: Subotiz itself, or us with Create Trade (Flow 4); the binding's `renewals` picks one. */
const RENEWALS = ['provider', 'merchant'] as const;

/** Subotiz storefront binding: API base URL, auth mode (Bearer key or Hub-* signature), merchant, webhook secrets. */
const BINDING: BindingSpec = {
  config: {
    base_url: { url: true },
    auth_mode: { values: ['bearer', 'hub_signature'] },
    sub_merchant_id: {},
    webhook_tolerance_seconds: { integer: { min: 30, max: 3600 } },
    allowed_webhook_ips: {},
    // The Checkout Session's return_url / cancel_url when a request names none (our pages, any host).
    // Who charges renewals: Subotiz (`provider`, default) or our scheduler with Create Trade (`merchant`, Flow 4).
    renewals: { values: RENEWALS },
    return_url: { customerUrl: true },
    cancel_url: { customerUrl: true },
  },
  secrets: ['api_key', 'access_no', 'access_secret', 'webhook_secret', 'webhook_secret_previous'],
  // Production, sandbox and the staging host of the quick-start (shared/providers/subotiz-research.md).
  hosts: ['api.subotiz.com', 'api.sandbox.subotiz.com', 'api.stg.subotiz.com'],
  webhookIpAllowlist: 'allowed_webhook_ips',
};

/** Subotiz: hosted checkout of a price, subscriptions, usage, trades, refunds, invoices, portal, signed webhooks. */
export const subotiz: ProviderModule = {
  id: 'subotiz',
  binding: BINDING,
  validateBinding: (config, secretRefs) => [
    ...checkBinding(BINDING, config, secretRefs),
    ...required(config, secretRefs),
  ],
  webhookSecretNames: { current: 'webhook_secret', previous: 'webhook_secret_previous' },
  features: {
    pricing: { by: 'reference', referenceName: 'price_id' },
    checkout: 'hosted',
    // Flow 2 (embedded: the SDK mounts the session) and Flow 3 (payment-only: `mode: payment`, no line items).
    checkoutVariants: ['embedded', 'payment'],
    cancelAtPeriodEnd: 'native',
    trials: 'native',
    entitlements: 'derived',
    webhooks: 'state',
    renewals: RENEWALS,
  },
  create: (deps) => ({
    operations: createSubotizOperations({ clock: () => deps.clock.now(), transport: deps.http }),
    webhooks: subotizWebhooks,
  }),
};

/** The Checkout Session's required `sub_merchant_id` and `access_no` (skill: Checkout Session key parameters). */
function required(config: Record<string, string>, secretRefs: Record<string, string>): Violation[] {
  const violations: Violation[] = [];
  if (!config.sub_merchant_id) {
    violations.push({
      field: 'provider_config.sub_merchant_id',
      rule: 'is required (every Checkout Session names it)',
    });
  }
  if (!secretRefs.access_no) {
    violations.push({ field: 'secret_refs.access_no', rule: 'is required (every Checkout Session names it)' });
  }
  return violations;
}
