import { failedPrecondition, unimplemented } from '../../domain/errors';
import {
  OPERATION_RPC,
  ProviderCapability,
  ProviderFeatures,
  ProviderOperations,
} from '../../ports/provider-adapter.port';
import type { LoadedProvider } from './provider-registry';

/** A variant of an operation a caller can ask for, and the feature that makes it possible. */
type Variant =
  'CreateCheckoutSession.embedded' | 'CreateCheckoutSession.payment' | 'CreateCheckoutSession.promotion_code';

const CHECKOUT_VARIANTS: Record<ProviderFeatures['checkoutVariants'][number], Variant> = {
  embedded: 'CreateCheckoutSession.embedded',
  payment: 'CreateCheckoutSession.payment',
  promotion_code: 'CreateCheckoutSession.promotion_code',
};

/** A checkout of a plan with trial days: listed only where the provider runs trials itself. */
const TRIAL_CHECKOUT = 'CreateCheckoutSession.trial';

/**
 * What a provider can do, per operation and variant: derived from the operations its adapter implements and the
 * features its module declares, plus what we emulate on top (cancel at period end by our scheduler).
 */
export function capabilitiesOf(provider: LoadedProvider): ProviderCapability[] {
  // Insertion order is the list's order; a later `set` of the same operation changes how it is supported.
  const capabilities = new Map<string, ProviderCapability['support']>();
  const add = (operation: string, support: ProviderCapability['support']) => {
    if (!capabilities.has(operation)) capabilities.set(operation, support);
  };
  const ops = provider.operations;
  for (const [operation, rpc] of Object.entries(OPERATION_RPC) as [keyof ProviderOperations, string][]) {
    if (ops[operation]) add(rpc, 'NATIVE');
  }
  if (ops.createCheckout) {
    add(
      provider.features.checkout === 'hosted'
        ? 'CreateCheckoutSession.hosted'
        : 'CreateCheckoutSession.server_to_server',
      'NATIVE',
    );
    for (const variant of provider.features.checkoutVariants) add(CHECKOUT_VARIANTS[variant], 'NATIVE');
    // Plans with a trial are sold only where the provider runs trials; elsewhere they are refused, not emulated.
    if (hasTrials(provider.features)) add(TRIAL_CHECKOUT, 'NATIVE');
  }
  if (ops.cancelSubscription) {
    const emulated = provider.features.cancelAtPeriodEnd === 'emulated';
    add('CancelSubscription.at_period_end', emulated ? 'EMULATED' : 'NATIVE');
    // What is revoked then is our scheduled cancellation: the provider is never asked.
    if (emulated) capabilities.set('RevokeCancellation', 'EMULATED');
  }
  return [...capabilities].map(([operation, support]) => ({ operation, support }));
}

/**
 * What the core does about an operation or variant missing from a provider's list: `UNIMPLEMENTED` (notSupported,
 * requireVariant) unless the RPC works without the provider or the gap is refused for a reason of its own.
 */
export type WithoutCapability = 'UNIMPLEMENTED' | 'REFUSED' | 'OUR_RECORDS' | 'PROVIDER_RENEWS';

const WITHOUT: Partial<Record<string, WithoutCapability>> = {
  // A plan with a trial would be sold (and charged) without the trial it promises: FAILED_PRECONDITION (trialsUnsupported).
  [TRIAL_CHECKOUT]: 'REFUSED',
  // The RPC answers from our own records; the provider is asked only where it has the operation (connection.optional):
  // to mirror a customer, refresh an open checkout, or fetch an object a webhook or a sweep names.
  [OPERATION_RPC.ensureCustomer]: 'OUR_RECORDS',
  [OPERATION_RPC.updateCustomer]: 'OUR_RECORDS',
  [OPERATION_RPC.getCheckout]: 'OUR_RECORDS',
  [OPERATION_RPC.getSubscription]: 'OUR_RECORDS',
  [OPERATION_RPC.getPayment]: 'OUR_RECORDS',
  [OPERATION_RPC.getInvoice]: 'OUR_RECORDS',
  [OPERATION_RPC.getRefund]: 'OUR_RECORDS',
  // Not an RPC: without merchant-initiated renewals the provider charges every renewal itself.
  [OPERATION_RPC.chargeRenewal]: 'PROVIDER_RENEWS',
};

/** How an operation missing from a provider's capability list is answered (see WithoutCapability). */
export function withoutCapability(operation: string): WithoutCapability {
  return WITHOUT[operation] ?? 'UNIMPLEMENTED';
}

/** True when the provider runs free trials itself (features `trials: native`). */
export function hasTrials(features: Pick<ProviderFeatures, 'trials'>): boolean {
  return features.trials === 'native';
}

/**
 * FAILED_PRECONDITION for a plan with trial days on a provider without trials: the plan would be sold (or charged)
 * without the trial it promises, so it is refused before anything is written or sent.
 */
export function trialsUnsupported(
  plans: readonly { id: string; name: string; trialDays: number }[],
  provider: string,
  storefrontId: string,
) {
  const named = plans.map((p) => `'${p.name}' (${p.id}, ${p.trialDays}-day trial)`).join(', ');
  return failedPrecondition(
    `provider '${provider}' (storefront '${storefrontId}') has no free trials: plan ${named} cannot be sold there; ` +
      `set trial_days to 0 or use a provider with trials`,
  );
}

/** UNIMPLEMENTED naming storefront, provider and the operation (or variant) it cannot do. */
export function notSupported(operation: string, provider: string, storefrontId: string) {
  return unimplemented(`${operation} is not supported by provider '${provider}' (storefront '${storefrontId}')`);
}

/** Refuses a variant the provider lacks, before any provider call. */
export function requireVariant(provider: LoadedProvider, variant: Variant, storefrontId: string): void {
  const wanted = Object.entries(CHECKOUT_VARIANTS).find(([, v]) => v === variant)?.[0];
  if (!provider.features.checkoutVariants.some((f) => f === wanted)) {
    throw notSupported(variant, provider.id, storefrontId);
  }
}
