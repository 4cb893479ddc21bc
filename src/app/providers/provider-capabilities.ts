import {
  OPERATION_RPC,
  ProviderAdapter,
  ProviderCapability,
  ProviderOperations,
} from '../../ports/provider-adapter.port';

/** What an adapter can do, derived from the operations it implements (plus those we emulate on top). */
export function capabilitiesOf(adapter: ProviderAdapter): ProviderCapability[] {
  const seen = new Set<string>();
  const capabilities: ProviderCapability[] = [];
  for (const [operation, rpc] of Object.entries(OPERATION_RPC) as [keyof ProviderOperations, string][]) {
    if (!adapter.operations?.[operation] || seen.has(rpc)) continue;
    seen.add(rpc);
    capabilities.push({ operation: rpc, support: 'NATIVE' });
  }
  for (const rpc of adapter.emulated ?? []) {
    if (!seen.has(rpc)) capabilities.push({ operation: rpc, support: 'EMULATED' });
  }
  return capabilities;
}
