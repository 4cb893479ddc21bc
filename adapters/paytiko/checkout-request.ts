import { DomainError, failedPrecondition, invalidArgument } from '../../src/domain/errors';
import type { CheckoutRequest, PlanTerms, ProviderCallContext } from '../../src/ports/provider-adapter.port';
import { writeMetadata } from './mapping';
import { changeIdOf } from './change-id';
import {
  checkReturnLink,
  customerBody,
  membershipTerms,
  parseEmitterQueue,
  requireWebhookUrl,
  Violations,
} from './validation';

/** What a checkout sends to Paytiko once every rule of Paytiko's is met. */
export interface PreparedCheckout {
  webhookUrl: string;
  chargeEmitterQueue: { transactionStatus: string; description: string }[] | undefined;
  returnLink: string | undefined;
  metadata: string;
  terms: ReturnType<typeof membershipTerms>;
  quantity: number;
  plan: PlanTerms;
}

/** The binding's processor key, which every Create Customer names. */
export function processorKeyOf(ctx: ProviderCallContext): string {
  const key = ctx.config.processor_key;
  if (!key) throw failedPrecondition(`storefront '${ctx.storefrontId}': the Paytiko binding has no processor_key`);
  return key;
}

/**
 * Every rule Paytiko sets on a checkout, checked before anything is sent for it (the customer too, when Paytiko does
 * not know them yet): INVALID_ARGUMENT naming our fields, FAILED_PRECONDITION for the binding. Pure.
 */
export function prepareCheckout(ctx: ProviderCallContext, request: CheckoutRequest): PreparedCheckout {
  if (request.mode !== 'subscription') {
    throw failedPrecondition('Paytiko sells memberships only: a payment-mode checkout is not supported');
  }
  if (request.uiMode !== 'hosted') {
    throw failedPrecondition('Paytiko offers a hosted checkout page only: an embedded checkout is not supported');
  }
  const plan = request.plan;
  if (!plan) throw invalidArgument([{ field: 'plan_id', rule: 'is required for a subscription checkout' }]);
  if (plan.trialDays > 0) throw trialRefused(plan);
  const webhookUrl = requireWebhookUrl(ctx.webhookUrl);
  const emitter = parseEmitterQueue(ctx.config.test_charge_emitter_queue);
  if ('error' in emitter) {
    throw failedPrecondition(
      `storefront '${ctx.storefrontId}': provider_config.test_charge_emitter_queue ${emitter.error}`,
    );
  }
  const v = new Violations();
  checkReturnLink(request.successUrl, 'success_url', v);
  checkReturnLink(request.cancelUrl, 'cancel_url', v);
  if (!request.successUrl) checkReturnLink(ctx.config.return_url, 'provider_config.return_url', v);
  const metadata = writeMetadata({
    subscription_id: request.orderId,
    plan_id: plan.id,
    change: changeIdOf(ctx.idempotencyKey, 'createCheckout'),
  });
  const quantity = request.quantity ?? 1;
  if (!request.customer.providerRef) {
    try {
      customerBody(request.customer, processorKeyOf(ctx));
    } catch (error) {
      if (!(error instanceof DomainError) || error.code !== 'INVALID_ARGUMENT') throw error;
      v.list.push(...error.violations);
    }
  }
  const terms = membershipTerms({ plan, quantity, orderId: request.orderId, metadata }, v);
  return {
    webhookUrl,
    chargeEmitterQueue: emitter.queue,
    returnLink: request.successUrl || ctx.config.return_url || undefined,
    metadata,
    terms,
    quantity,
    plan,
  };
}

/** Paytiko has no trial field: a plan with trial days is refused, never sold without its trial. */
export function trialRefused(plan: PlanTerms) {
  return failedPrecondition(
    `plan '${plan.id}' has a ${plan.trialDays}-day trial, and Paytiko memberships have no trial: sell it on a provider with trials, or remove the trial`,
  );
}
