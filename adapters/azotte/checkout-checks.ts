import { formatDecimal } from '../../src/domain/money';
import { failedPrecondition, invalidArgument } from '../../src/domain/errors';
import { Validator } from '../../src/domain/validation';
import type { CheckoutRequest, PlanTerms, ProviderCallContext } from '../../src/ports/provider-adapter.port';
import { toMilpieces } from './amounts';
import { checkCustomer, checkPaymentMethodRef, checkPromotionCode, claimedRegion } from './validation';
import { baseUrlOf, requiredConfig } from './wire';

/** Everything a checkout sends, checked before any call (the preflight, and createCheckout again). */
export interface CheckedCheckout {
  bundleUrn: string;
  milpieces: bigint;
  paymentMethodRef: string;
  promotionCode?: string;
}

/** The preflight: pure, no I/O; the same rules createCheckout runs before its first call. */
export function preflightCheckout(ctx: ProviderCallContext, request: CheckoutRequest): void {
  checkCheckout(ctx, request);
}

/**
 * FAILED_PRECONDITION for what the binding or Azotte cannot do (payment mode, a plan without a bundleUrn, a price
 * milpieces cannot carry, quantity ≠ 1); otherwise INVALID_ARGUMENT naming every bad field of ours at once.
 */
export function checkCheckout(ctx: ProviderCallContext, request: CheckoutRequest): CheckedCheckout {
  if (request.mode !== 'subscription') {
    throw failedPrecondition('Azotte sells bundles (subscriptions) only: a payment-mode checkout is not supported');
  }
  const plan = request.plan;
  if (!plan) throw invalidArgument([{ field: 'plan_id', rule: 'is required for a subscription checkout' }]);
  checkBinding(ctx);
  const { bundleUrn, milpieces } = bundleTerms(ctx, plan, request.quantity ?? 1);
  const v = new Validator();
  checkPaymentMethodRef(request.paymentMethodRef, v);
  checkPromotionCode(request.promotionCode, v);
  // A customer Azotte already has is not stored again: its rules were met (or are Azotte's to keep) then.
  if (!request.customer.providerRef) checkCustomer(request.customer, v);
  v.check();
  if (!request.customer.providerRef) claimedRegion(ctx, request.customer.country);
  return {
    bundleUrn,
    milpieces,
    paymentMethodRef: request.paymentMethodRef!,
    promotionCode: request.promotionCode || undefined,
  };
}

/** What every call needs from the binding (README: Binding). */
export function checkBinding(ctx: ProviderCallContext): void {
  baseUrlOf(ctx);
  requiredConfig(ctx, 'tenant');
  requiredConfig(ctx, 'storefront_urn');
  if (!ctx.secrets.api_key) {
    throw failedPrecondition(`storefront '${ctx.storefrontId}': the Azotte binding has no api_key`);
  }
}

/** The plan's bundle and its price in milpieces (README 11, 21); one of a bundle per subscription. */
export function bundleTerms(
  ctx: ProviderCallContext,
  plan: PlanTerms,
  quantity: number,
): { bundleUrn: string; milpieces: bigint } {
  if (quantity !== 1) {
    throw failedPrecondition(`Azotte sells one bundle per subscription: quantity ${quantity} is not supported`);
  }
  if (!plan.ref) {
    throw failedPrecondition(`storefront '${ctx.storefrontId}': plan '${plan.id}' has no Azotte bundleUrn`);
  }
  const milpieces = toMilpieces(plan.price.amountMinor, plan.price.currency);
  if (milpieces === undefined) {
    throw failedPrecondition(
      `plan '${plan.id}' price ${formatDecimal(plan.price.amountMinor, plan.price.currency)} ${plan.price.currency} cannot be sent to Azotte: its amounts carry 2 decimals of the major unit`,
    );
  }
  return { bundleUrn: plan.ref, milpieces };
}
