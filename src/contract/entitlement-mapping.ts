import type { Entitlement } from '../domain/entitlement';
import type { Entitlement as EntitlementMessage } from '../gen/billing/v1/entitlement';

export function toEntitlementMessage(e: Entitlement): EntitlementMessage {
  return {
    id: e.id,
    customerId: e.customerId,
    featureKey: e.featureKey,
    subscriptionId: e.subscriptionId ?? '',
    activeFrom: e.activeFrom,
    activeUntil: e.activeUntil,
    providerNative: e.providerNative,
  };
}
