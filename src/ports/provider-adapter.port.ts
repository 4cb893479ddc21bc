import type { Violation } from '../domain/errors';

/** How a provider supports one of our operations. */
export type CapabilitySupport = 'NATIVE' | 'EMULATED';

/** An operation (named after its RPC, e.g. "PauseSubscription") and how the provider supports it. */
export interface ProviderCapability {
  operation: string;
  support: CapabilitySupport;
}

/**
 * What the core needs from a provider adapter. Each `adapters/<provider>/index.ts` exports one factory returning
 * this. The operations themselves (checkout, cancel, webhooks, ...) join this port with the subscription engine.
 */
export interface ProviderAdapter {
  /** Stable provider id used in bindings, pins and events: "subotiz", "paytiko", "azotte". */
  readonly id: string;
  /** Operations this adapter supports today. Anything absent answers UNIMPLEMENTED. */
  readonly capabilities: readonly ProviderCapability[];
  /**
   * The name of the per-plan reference this provider needs (Subotiz `price_id`, Azotte `bundleUrn`), or undefined
   * when prices travel inline (Paytiko). SwitchProvider refuses while an active plan lacks it.
   */
  readonly planReference?: string;
  /** Rules for a storefront binding's non-secret config and secret references. Empty when valid. */
  validateBinding(config: Record<string, string>, secretRefs: Record<string, string>): Violation[];
}

/** Builds an adapter; it validates its own options at start-up. */
export type ProviderAdapterFactory = () => ProviderAdapter;
