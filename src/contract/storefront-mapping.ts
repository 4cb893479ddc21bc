import type { ProviderBinding, Storefront } from '../domain/storefront';
import {
  CapabilitySupport,
  ProviderBinding as BindingMessage,
  Storefront as StorefrontMessage,
} from '../gen/billing/v1/storefront';
import type { ProviderCapability } from '../ports/provider-adapter.port';

export function toStorefrontMessage(
  storefront: Storefront,
  capabilities: readonly ProviderCapability[] = [],
): StorefrontMessage {
  return {
    id: storefront.id,
    tenantId: storefront.tenantId,
    name: storefront.name,
    country: storefront.country,
    defaultCurrency: storefront.defaultCurrency,
    binding: toBindingMessage(storefront.binding),
    capabilities: capabilities.map((c) => ({
      operation: c.operation,
      support:
        c.support === 'NATIVE'
          ? CapabilitySupport.CAPABILITY_SUPPORT_NATIVE
          : CapabilitySupport.CAPABILITY_SUPPORT_EMULATED,
    })),
    createTime: storefront.createdAt,
    updateTime: storefront.updatedAt,
    version: BigInt(storefront.version),
  };
}

export function toBindingMessage(binding: ProviderBinding): BindingMessage {
  return {
    provider: binding.provider,
    config: binding.config,
    secretRefs: binding.secretRefs,
    validFrom: binding.validFrom,
    validUntil: binding.validUntil,
    actor: binding.actor,
    reason: binding.reason,
  };
}
