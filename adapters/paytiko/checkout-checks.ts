import { DomainError, failedPrecondition, invalidArgument } from '../../src/domain/errors';
import type { CheckoutRequest, ProviderCallContext } from '../../src/ports/provider-adapter.port';
import { credentialsOf } from './auth';
import { changeIdOf, writeMetadata } from './mapping';
import {
  checkReturnLink,
  customerBody,
  membershipTerms,
  parseEmitterQueue,
  requireKey,
  requireWebhookUrl,
  trialRefused,
  Violations,
} from './validation';
import { CUSTOMER_KEY_PREFIX } from './wire';

/**
 * Everything a checkout sends, built and checked before any call. Pure (no I/O): the preflight runs it before the
 * core writes or sends anything, and createCheckout runs the very same function before its calls.
 */
export interface CheckedCheckout {
  webhookUrl: string;
  emitterQueue?: { transactionStatus: string; description: string }[];
  /** returnToWebsiteLink: the request's success_url, else the binding's return_url. cancel_url is not sent. */
  returnLink?: string;
  metadata: string;
  terms: ReturnType<typeof membershipTerms>;
  /** Paytiko's key when it knows the customer already, else the Create Customer body to send. */
  customer: { key: string } | { body: Record<string, unknown> };
}

/**
 * While the core asks before choosing the order id (`orderId` ''), the checks run with one as long as the id it will
 * choose (`sub_` + a 26-character ULID), so the orderId and metadata length rules judge what will be sent.
 */
const ORDER_ID_STAND_IN = `sub_${'0'.repeat(26)}`;

/** The preflight: every rule of `checkCheckout`, before the order id is chosen. */
export function preflightCheckout(ctx: ProviderCallContext, request: CheckoutRequest): void {
  checkCheckout(ctx, { ...request, orderId: request.orderId || ORDER_ID_STAND_IN });
}

/**
 * FAILED_PRECONDITION for what the storefront's configuration or Paytiko cannot do (payment mode, embedded, trials,
 * binding without base_url/credentials/processor_key, our webhook URL, the test queue); otherwise INVALID_ARGUMENT
 * naming every bad field of the request at once (customer, plan terms, return links).
 */
export function checkCheckout(ctx: ProviderCallContext, request: CheckoutRequest): CheckedCheckout {
  if (request.mode !== 'subscription') {
    throw failedPrecondition('Paytiko sells memberships only: a payment-mode checkout is not supported');
  }
  if (request.uiMode !== 'hosted') {
    throw failedPrecondition('Paytiko offers a hosted checkout page only: an embedded checkout is not supported');
  }
  const plan = request.plan;
  if (!plan) throw invalidArgument([{ field: 'plan_id', rule: 'is required for a subscription checkout' }]);
  if (plan.trialDays > 0) throw trialRefused(plan);
  credentialsOf(ctx);
  const webhookUrl = requireWebhookUrl(ctx.webhookUrl);
  const emitter = parseEmitterQueue(ctx.config.test_charge_emitter_queue);
  if ('error' in emitter) {
    throw failedPrecondition(
      `storefront '${ctx.storefrontId}': provider_config.test_charge_emitter_queue ${emitter.error}`,
    );
  }
  const known = request.customer.providerRef;
  const customerKey = known ? requireKey(known, CUSTOMER_KEY_PREFIX, `customer '${request.customer.id}'`) : undefined;
  const processorKey = customerKey ? undefined : requireProcessorKey(ctx);

  // Every INVALID_ARGUMENT rule below is collected, so the caller learns all of them at once.
  const v = new Violations();
  // Paytiko has one return link; cancel_url is not sent, so no rule of Paytiko's applies to it.
  checkReturnLink(request.successUrl, 'success_url', v);
  if (!request.successUrl) checkReturnLink(ctx.config.return_url, 'provider_config.return_url', v);
  let body: Record<string, unknown> | undefined;
  if (processorKey !== undefined) body = collect(v, () => customerBody(request.customer, processorKey));
  const metadata = writeMetadata({
    subscription_id: request.orderId,
    plan_id: plan.id,
    change: changeIdOf(ctx.idempotencyKey, 'createCheckout'),
  });
  const terms = membershipTerms({ plan, quantity: request.quantity ?? 1, orderId: request.orderId, metadata }, v);
  return {
    webhookUrl,
    emitterQueue: emitter.queue,
    returnLink: request.successUrl || ctx.config.return_url || undefined,
    metadata,
    terms,
    customer: customerKey ? { key: customerKey } : { body: body! },
  };
}

/** The merchant's processor, named on every Create Customer: the binding must have one. */
export function requireProcessorKey(ctx: ProviderCallContext): string {
  const key = ctx.config.processor_key;
  if (!key) throw failedPrecondition(`storefront '${ctx.storefrontId}': the Paytiko binding has no processor_key`);
  return key;
}

/** Runs `check`; its INVALID_ARGUMENT violations join `v` instead of ending the checks. */
function collect<T>(v: Violations, check: () => T): T | undefined {
  try {
    return check();
  } catch (error) {
    if (!(error instanceof DomainError) || error.code !== 'INVALID_ARGUMENT') throw error;
    v.list.push(...error.violations);
    return undefined;
  }
}
