import { type CheckoutSession, isFinalCheckout } from '../../domain/checkout-session';
import type { Customer } from '../../domain/customer';
import { failedPrecondition, invalidArgument, notFound } from '../../domain/errors';
import { newId } from '../../domain/ids';
import { Money, MoneyInput, resolveMoney } from '../../domain/money';
import type { Payment } from '../../domain/payment';
import type { Plan } from '../../domain/plan';
import type { Storefront } from '../../domain/storefront';
import type { Subscription } from '../../domain/subscription';
import { Validator } from '../../domain/validation';
import type { Clock } from '../../ports/clock.port';
import type { CheckoutRequest, ProviderCheckout } from '../../ports/provider-adapter.port';
import type { Repositories, StorefrontReads, UnitOfWork } from '../../ports/store.port';
import type { CallContext } from '../call-context';
import { CHECKOUT_POLL, nextCheckoutPoll } from '../engine/checkout-polling';
import { hasTrials, notSupported, requireVariant, trialsUnsupported } from '../providers/provider-capabilities';
import type { ProviderConnection, ProviderGateway } from '../providers/provider-gateway';
import { effectOf, recordEffect } from './pending-effects';
import { customerDetails, sellablePlan, termsOf, URL_RULE } from './subscription-lookup';
import { recordNewSubscription } from '../engine/subscription-creation';
import { followProviderRef } from '../engine/subscription-handle';

export interface CheckoutInput {
  storefrontId: string;
  customerId: string;
  mode: 'subscription' | 'payment';
  planId: string;
  quantity: number;
  amount?: MoneyInput;
  description: string;
  successUrl: string;
  cancelUrl: string;
  /**
   * `hosted` (the provider's page) or `embedded` (a session the caller's page mounts with the provider's SDK); unset,
   * the provider's own kind of checkout (its hosted page, or a server-to-server charge).
   */
  uiMode?: 'hosted' | 'embedded';
  promotionCode?: string;
  /** A stored payment method at the provider, for server-to-server checkouts. */
  paymentMethodRef?: string;
}

export interface CheckoutResult {
  /** Our record of the checkout (`cs_…`), which GetCheckoutSession follows. */
  session: CheckoutSession;
  subscription?: Subscription;
  payment?: Payment;
}

/** When a provider does not say how long its checkout stays open, the reconciler asks about it after a day. */
const UNKNOWN_CHECKOUT_VALIDITY_MS = 24 * 3_600_000;

/**
 * Sells a plan (subscription mode) or an amount (payment mode) through the storefront's current provider, which the
 * new subscription is pinned to. Every local check passes before the provider is called; the order id is recorded
 * first, so every attempt of one idempotency key sells the same order and the provider never opens a second one.
 */
export class CheckoutUseCases {
  constructor(
    private readonly uow: UnitOfWork,
    private readonly gateway: ProviderGateway,
    private readonly clock: Clock,
    private readonly storefronts: StorefrontReads = uow.reads.storefronts,
  ) {}

  async createCheckout(input: CheckoutInput, ctx: CallContext): Promise<CheckoutResult> {
    const v = new Validator().required('storefront_id', input.storefrontId).required('customer_id', input.customerId);
    if (input.mode === 'subscription') {
      v.required('plan_id', input.planId);
      if (!Number.isInteger(input.quantity) || input.quantity < 0 || input.quantity > 10_000) {
        v.add('quantity', 'must be between 1 and 10000 (0 means 1)');
      }
    }
    if (input.successUrl && !URL_RULE.test(input.successUrl)) v.add('success_url', 'must be an http(s) URL');
    if (input.cancelUrl && !URL_RULE.test(input.cancelUrl)) v.add('cancel_url', 'must be an http(s) URL');
    v.maxLength('description', input.description, 500).check();
    const amount = input.mode === 'payment' ? positive(resolveMoney(input.amount, 'amount'), 'amount') : undefined;

    const reads = this.uow.reads;
    const storefront = await this.storefronts.get(input.storefrontId);
    if (!storefront) throw notFound('storefront', input.storefrontId, 'storefront_id');
    const customer = await reads.customers.get(input.customerId);
    if (!customer || customer.storefrontId !== storefront.id)
      throw notFound('customer', input.customerId, 'customer_id');
    const provider = storefront.binding.provider;
    const plan =
      input.mode === 'subscription'
        ? await sellablePlan(reads, this.gateway, storefront, input.planId, provider)
        : undefined;
    const connection = await this.gateway.connect(reads, storefront, provider, ctx);
    this.checkVariant(connection, input, storefront.id);
    if (plan && plan.trialDays > 0 && !hasTrials(connection.provider.features)) {
      throw trialsUnsupported([plan], provider, storefront.id);
    }
    const createCheckout = connection.operation('createCheckout');
    const request: CheckoutRequest = {
      orderId: '',
      mode: input.mode,
      uiMode: input.uiMode ?? 'hosted',
      customer: { ...customerDetails(customer, provider), providerRef: customer.providerRefs[provider] },
      plan: plan ? termsOf(plan, provider) : undefined,
      quantity: input.quantity || 1,
      amount,
      description: input.description || undefined,
      successUrl: input.successUrl || undefined,
      cancelUrl: input.cancelUrl || undefined,
      promotionCode: input.promotionCode || undefined,
      paymentMethodRef: input.paymentMethodRef || undefined,
    };
    // The provider's own rules last among the local checks: a checkout it would refuse creates no customer there,
    // records no order and sends nothing.
    connection.preflight.checkout?.(connection.ctx, request);
    const customerRef = await this.customerAtProvider(connection, customer);
    const prefix = input.mode === 'subscription' ? 'sub' : 'pay';
    // The order id is recorded before the provider is asked, so every attempt of one key sells the same order. A
    // resumed checkout goes out again with the same order and idempotency: the provider answers with the session it
    // opened, and opens no second one (a session cannot be looked up by order before it completes).
    const { effect, resumed } = effectOf(ctx, 'createCheckout', () => ({ subjectId: newId(prefix) }));
    if (!resumed) await recordEffect(ctx, effect);
    const orderId = effect.subjectId;
    const checkout = await createCheckout(connection.ctx, {
      ...request,
      orderId,
      customer: { ...request.customer, providerRef: customerRef },
    });
    // Every attempt of one key sends the same order, so a provider replaying its first answer names that order too.
    // Another of our orders means the provider replayed an earlier request under this key (a key reused for another
    // checkout after it was freed): that session is someone else's, and adopting it would hand it to this caller.
    if (checkout.orderId !== orderId && checkout.orderId.startsWith(`${prefix}_`)) {
      throw failedPrecondition(
        `idempotency-key: the provider answered for another order (${checkout.orderId}); use a new key for a new checkout`,
      );
    }
    if (plan) return this.recordCheckout(storefront, customer.id, plan, input.quantity || 1, orderId, checkout, ctx);
    return this.recordPaymentCheckout(storefront, customer.id, provider, orderId, amount!, checkout, ctx);
  }

  /** Variants the provider lacks are refused before anything is sent; so is a server-to-server checkout without a card. */
  private checkVariant(connection: ProviderConnection, input: CheckoutInput, storefrontId: string): void {
    const provider = connection.provider;
    if (input.mode === 'payment') requireVariant(provider, 'CreateCheckoutSession.payment', storefrontId);
    if (input.uiMode === 'embedded') requireVariant(provider, 'CreateCheckoutSession.embedded', storefrontId);
    // A hosted page asked for by name is a variant like any other; unnamed, the provider's own kind of checkout runs.
    if (input.uiMode === 'hosted' && provider.features.checkout !== 'hosted') {
      throw notSupported('CreateCheckoutSession.hosted', provider.id, storefrontId);
    }
    if (input.promotionCode) requireVariant(provider, 'CreateCheckoutSession.promotion_code', storefrontId);
    if (provider.features.checkout === 'server_to_server' && !input.paymentMethodRef) {
      throw invalidArgument([
        {
          field: 'payment_method_ref',
          rule: `is required: storefront '${storefrontId}' charges a stored payment method (server-to-server checkout)`,
        },
      ]);
    }
  }

  /**
   * The customer's reference at the connected provider: known already, created now where the provider has
   * customers of their own (remembered for next time), or none where checkout creates them.
   */
  private async customerAtProvider(connection: ProviderConnection, customer: Customer): Promise<string | undefined> {
    const provider = connection.provider.id;
    const known = customer.providerRefs[provider];
    const ensure = connection.optional('ensureCustomer');
    if (known || !ensure) return known;
    const ref = await ensure(connection.ctx, customerDetails(customer, provider));
    await this.uow.transaction(async (repos) => {
      const current = await repos.customers.get(customer.id, { forUpdate: true });
      if (current && !current.providerRefs[provider]) {
        await repos.customers.update({ ...current, providerRefs: { ...current.providerRefs, [provider]: ref } });
      }
    });
    return ref;
  }

  private async recordCheckout(
    storefront: Storefront,
    customerId: string,
    plan: Plan,
    quantity: number,
    id: string,
    checkout: ProviderCheckout,
    ctx: CallContext,
  ): Promise<CheckoutResult> {
    const now = this.clock.now();
    const subscription: Subscription = {
      id,
      storefrontId: storefront.id,
      customerId,
      planId: plan.id,
      quantity,
      provider: storefront.binding.provider,
      status: 'INCOMPLETE',
      cancelAtPeriodEnd: false,
      checkoutSessionRef: checkout.sessionRef,
      checkoutUrl: redirectOf(checkout),
      checkoutExpiresAt: expiryOf(checkout, now),
      version: 1,
      createdAt: now,
      updatedAt: now,
    };
    const opened = sessionOf(checkout, storefront.id, subscription.provider, { subscriptionId: id }, now);
    return this.uow.transaction(async (repos) => {
      const ref = await adoptableRef(repos, subscription.provider, checkout.subscriptionRef);
      subscription.providerRef = ref;
      const created = await recordNewSubscription(repos, storefront, subscription, ctx, {
        action: 'CreateCheckoutSession',
        details: { plan_id: plan.id, provider: subscription.provider },
      });
      const session = await recordSession(repos, opened);
      if (created) return { session, subscription };
      const recorded = (await repos.subscriptions.get(id, { forUpdate: true }))!;
      // A replayed checkout of a provider that names its subscription at once: remembered if the first did not.
      return { session, subscription: ref ? await followProviderRef(repos, recorded, ref) : recorded };
    }, ctx);
  }

  private async recordPaymentCheckout(
    storefront: Storefront,
    customerId: string,
    provider: string,
    id: string,
    amount: Money,
    checkout: ProviderCheckout,
    ctx: CallContext,
  ): Promise<CheckoutResult> {
    const now = this.clock.now();
    const payment: Payment = {
      id,
      storefrontId: storefront.id,
      customerId,
      kind: 'one_time',
      provider,
      amount,
      status: 'REQUIRES_PAYMENT_METHOD',
      refundState: 'NONE',
      refundedMinor: 0n,
      checkoutSessionRef: checkout.sessionRef,
      checkoutExpiresAt: expiryOf(checkout, now),
      createdAt: now,
      updatedAt: now,
    };
    const opened = sessionOf(checkout, storefront.id, provider, { paymentId: id }, now);
    return this.uow.transaction(async (repos) => {
      const existing = await repos.payments.get(id);
      if (existing) return { session: await recordSession(repos, opened), payment: existing };
      await repos.payments.insert(payment);
      const session = await recordSession(repos, opened);
      await repos.audit.record({
        ...ctx,
        action: 'CreateCheckoutSession',
        resourceType: 'payment',
        resourceId: id,
        storefrontId: storefront.id,
        details: { provider },
      });
      return { session, payment };
    }, ctx);
  }
}

/**
 * The subscription reference a provider named at checkout (it creates the subscription before payment), unless it
 * is already another subscription's (refs colliding across merchant accounts): that one is never claimed, and the
 * reference is learned from the provider's webhooks by our order id instead.
 */
async function adoptableRef(repos: Repositories, provider: string, ref: string | undefined) {
  if (!ref || (await repos.subscriptions.providerRefInUse(provider, ref))) return undefined;
  return ref;
}

function expiryOf(checkout: ProviderCheckout, now: Date): Date {
  return checkout.expireTime ?? new Date(now.getTime() + UNKNOWN_CHECKOUT_VALIDITY_MS);
}

function redirectOf(checkout: ProviderCheckout): string {
  return checkout.nextAction && 'redirectUrl' in checkout.nextAction ? checkout.nextAction.redirectUrl : '';
}

/** Our record of what the provider opened, for the subscription or payment it sells. */
function sessionOf(
  checkout: ProviderCheckout,
  storefrontId: string,
  provider: string,
  sells: { subscriptionId: string } | { paymentId: string },
  now: Date,
): CheckoutSession {
  return {
    id: newId('cs'),
    storefrontId,
    provider,
    providerRef: checkout.sessionRef,
    ...sells,
    status: checkout.status,
    nextAction: checkout.nextAction,
    expiresAt: checkout.expireTime,
    checkAt: checkout.checkAt,
    createdAt: now,
    updatedAt: now,
  };
}

/**
 * Records the session in the checkout's transaction; a replayed checkout finds the one its first attempt recorded.
 * A session the provider is still working on (server-to-server) is polled by the scheduler from then on.
 */
async function recordSession(repos: Repositories, session: CheckoutSession): Promise<CheckoutSession> {
  if (await repos.checkoutSessions.insert(session)) {
    // Hosted pages report by webhook (and the reconciler asks once they expire); anything else is followed now: a
    // charge in progress until it is final, and one already complete in case its webhook never comes.
    if (session.status !== 'OPEN' && !(isFinalCheckout(session.status) && session.status !== 'COMPLETE')) {
      await repos.scheduledActions.schedule({
        kind: CHECKOUT_POLL,
        subjectId: session.id,
        storefrontId: session.storefrontId,
        dueAt: nextCheckoutPoll(session, session.createdAt),
      });
    }
    return session;
  }
  // Not inserted means the provider's ref is recorded already (it is the only other unique key): ours from an earlier
  // attempt of this checkout, or — refs colliding across merchant accounts — someone else's, which is never handed out.
  const recorded = (await repos.checkoutSessions.findByProviderRef(session.provider, session.providerRef))!;
  if (recorded.subscriptionId !== session.subscriptionId || recorded.paymentId !== session.paymentId) {
    throw failedPrecondition(`the provider answered with checkout session '${session.providerRef}' of another order`);
  }
  return recorded;
}

function positive(money: Money, field: string): Money {
  if (money.amountMinor <= 0n) throw invalidArgument([{ field, rule: 'must be greater than zero' }]);
  return money;
}
