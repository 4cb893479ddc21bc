import { BindingSpec, checkBinding } from '../../src/domain/binding-rules';
import type { ProviderAdapter, ProviderAdapterFactory } from '../../src/ports/provider-adapter.port';

/** Subotiz storefront binding: API base URL, auth mode (Bearer key or Hub-* signature), webhook secrets. */
const BINDING: BindingSpec = {
  config: { base_url: { url: true }, auth_mode: { values: ['bearer', 'hub_signature'] } },
  secrets: ['api_key', 'access_no', 'access_secret', 'webhook_secret', 'webhook_secret_previous'],
};

/** Subotiz. Operations (checkout, subscriptions, refunds, usage, webhooks) arrive with the subscription engine. */
export const subotiz: ProviderAdapterFactory = (): ProviderAdapter => ({
  id: 'subotiz',
  planReference: 'price_id',
  validateBinding: (config, secretRefs) => checkBinding(BINDING, config, secretRefs),
});
