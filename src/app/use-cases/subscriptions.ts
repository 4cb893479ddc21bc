import type { Customer } from '../../domain/customer';
import { failedPrecondition, invalidArgument, notFound } from '../../domain/errors';
import { newId } from '../../domain/ids';
import { Money, MoneyInput, resolveMoney } from '../../domain/money';
import type { Payment } from '../../domain/payment';
import type { Plan } from '../../domain/plan';
import type { Storefront } from '../../domain/storefront';
import { isTerminal, Subscription, SubscriptionStatus } from '../../domain/subscription';
import type { UsageRecord } from '../../domain/usage';
import { Validator } from '../../domain/validation';
import type { Clock } from '../../ports/clock.port';
import type {
  ProviderCheckout,
  ProviderOperations,
  ProviderSubscriptionState,
} from '../../ports/provider-adapter.port';
import type { Repositories, UnitOfWork } from '../../ports/store.port';
import type { CallContext } from '../call-context';
import { pageOf, readPage } from './pagination';
import type { ProviderConnection, ProviderGateway } from '../providers/provider-gateway';
import { applySubscriptionState } from '../engine/subscription-changes';
import { drafts } from '../engine/event-drafts';
import { effectOf, recordEffect, resuming } from './pending-effects';

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
}

export interface CheckoutResult {
  session: { id: string; url: string; expireTime?: Date };
  subscription?: Subscription;
  payment?: Payment;
}

const URL_RULE = /^https?:\/\/\S+$/;

/** When a provider does not say how long its checkout stays open, the reconciler asks about it after a day. */
const UNKNOWN_CHECKOUT_VALIDITY_MS = 24 * 3_600_000;

function expiryOf(checkout: ProviderCheckout, now: Date): Date {
  return checkout.expireTime ?? new Date(now.getTime() + UNKNOWN_CHECKOUT_VALIDITY_MS);
}

/**
 * Sells and manages subscriptions. Checkout pins a new subscription to the storefront's current provider; every
 * later call goes to that pinned provider. Provider calls happen before our transaction: when the provider fails,
 * nothing is written, and a retry with the same idempotency key reaches the same provider object.
 */
export class SubscriptionUseCases {
  constructor(
    private readonly uow: UnitOfWork,
    private readonly gateway: ProviderGateway,
    private readonly clock: Clock,
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
    const storefront = await reads.storefronts.get(input.storefrontId);
    if (!storefront) throw notFound('storefront', input.storefrontId, 'storefront_id');
    const customer = await reads.customers.get(input.customerId);
    if (!customer || customer.storefrontId !== storefront.id)
      throw notFound('customer', input.customerId, 'customer_id');
    const provider = storefront.binding.provider;
    const plan =
      input.mode === 'subscription' ? await this.sellablePlan(reads, storefront, input.planId, provider) : undefined;
    const connection = await this.gateway.connect(reads, storefront, provider, ctx);
    const createCheckout = connection.operation('createCheckout');
    const customerRef = await this.customerAtProvider(connection, customer);
    const prefix = input.mode === 'subscription' ? 'sub' : 'pay';
    // The order id is recorded before the provider is asked, so every attempt of one key sells the same order. A
    // resumed checkout goes out again with the same order and Request-Id: the provider answers with the session it
    // opened, and opens no second one (a session cannot be looked up by order before it completes).
    const { effect, resumed } = effectOf(ctx, 'createCheckout', () => ({ subjectId: newId(prefix) }));
    if (!resumed) await recordEffect(ctx, effect);
    const orderId = effect.subjectId;
    const checkout = await createCheckout(connection.ctx, {
      orderId,
      mode: input.mode,
      customer: {
        id: customer.id,
        email: customer.email,
        name: customer.name,
        providerRef: customerRef,
      },
      planRef: plan ? plan.providerRefs[provider] : undefined,
      quantity: input.quantity || 1,
      amount,
      description: input.description || undefined,
      successUrl: input.successUrl || undefined,
      cancelUrl: input.cancelUrl || undefined,
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

  async get(subscriptionId: string): Promise<Subscription> {
    return this.load(this.uow.reads, subscriptionId);
  }

  async list(
    filter: { storefrontId: string; customerId: string; statuses: SubscriptionStatus[] },
    pageSize: number,
    pageToken: string,
  ) {
    if (!filter.storefrontId && !filter.customerId) {
      throw invalidArgument([{ field: 'storefront_id', rule: 'storefront_id or customer_id is required' }]);
    }
    const page = readPage(pageSize, pageToken);
    const items = await this.uow.reads.subscriptions.list(
      {
        storefrontId: filter.storefrontId || undefined,
        customerId: filter.customerId || undefined,
        statuses: filter.statuses,
      },
      { size: page.size + 1, afterId: page.after },
    );
    return pageOf(items, page, (s) => s.id);
  }

  async cancel(input: { subscriptionId: string; atPeriodEnd: boolean; reason: string }, ctx: CallContext) {
    new Validator().maxLength('reason', input.reason, 500).check();
    const current = await this.load(this.uow.reads, input.subscriptionId);
    // A retry of a cancellation that may have happened resumes it, whatever our copy says by now.
    if (!resuming(ctx, 'cancelSubscription')) {
      if (isTerminal(current.status))
        throw failedPrecondition(`subscription '${current.id}' is already ${current.status}`);
      if (input.atPeriodEnd && current.cancelAtPeriodEnd) return current;
    }
    return this.providerChange(
      current,
      ctx,
      'cancelSubscription',
      (op, c, ref) => op(c.ctx, ref, { atPeriodEnd: input.atPeriodEnd, reason: input.reason }),
      {},
      undefined,
      (state) => isTerminal(state.status) || (input.atPeriodEnd && state.cancelAtPeriodEnd),
    );
  }

  async revokeCancellation(subscriptionId: string, ctx: CallContext) {
    const current = await this.load(this.uow.reads, subscriptionId);
    const resumed = resuming(ctx, 'revokeCancellation');
    if (!resumed && (!current.cancelAtPeriodEnd || isTerminal(current.status))) {
      throw failedPrecondition(`subscription '${current.id}' has no scheduled cancellation to revoke`);
    }
    return this.providerChange(
      current,
      ctx,
      'revokeCancellation',
      (op, c, ref) => op(c.ctx, ref),
      {},
      undefined,
      (state) => !state.cancelAtPeriodEnd,
    );
  }

  async pause(subscriptionId: string, resumeAt: Date | undefined, ctx: CallContext) {
    const current = await this.load(this.uow.reads, subscriptionId);
    return this.providerChange(current, ctx, 'pauseSubscription', (op, c, ref) => op(c.ctx, ref, resumeAt));
  }

  async resume(subscriptionId: string, ctx: CallContext) {
    const current = await this.load(this.uow.reads, subscriptionId);
    return this.providerChange(
      current,
      ctx,
      'resumeSubscription',
      (op, c, ref) => op(c.ctx, ref),
      {},
      undefined,
      (state) => state.status !== 'PAUSED',
    );
  }

  async changePlan(subscriptionId: string, planId: string, ctx: CallContext) {
    new Validator().required('plan_id', planId).check();
    const current = await this.load(this.uow.reads, subscriptionId);
    const storefront = await this.storefrontOf(current);
    const plan = await this.sellablePlan(this.uow.reads, storefront, planId, current.provider);
    return this.providerChange(
      current,
      ctx,
      'changePlan',
      (op, c, ref) => op(c.ctx, ref, plan.providerRefs[current.provider] ?? plan.id),
      { planId: plan.id },
      storefront,
    );
  }

  async updateQuantity(subscriptionId: string, quantity: number, ctx: CallContext) {
    if (!Number.isInteger(quantity) || quantity < 1 || quantity > 10_000) {
      throw invalidArgument([{ field: 'quantity', rule: 'must be between 1 and 10000' }]);
    }
    const current = await this.load(this.uow.reads, subscriptionId);
    return this.providerChange(current, ctx, 'updateQuantity', (op, c, ref) => op(c.ctx, ref, quantity), { quantity });
  }

  async recordUsage(input: { subscriptionId: string; quantity: bigint; timestamp?: Date }, ctx: CallContext) {
    if (input.quantity < 1n) throw invalidArgument([{ field: 'quantity', rule: 'must be at least 1' }]);
    const subscription = await this.load(this.uow.reads, input.subscriptionId);
    const now = this.clock.now();
    const timestamp = input.timestamp ?? now;
    if (timestamp.getTime() > now.getTime() + 300_000) {
      throw invalidArgument([{ field: 'timestamp', rule: 'must not be in the future' }]);
    }
    const storefront = await this.storefrontOf(subscription);
    const connection = await this.gateway.connect(this.uow.reads, storefront, subscription.provider, ctx);
    const record = connection.operation('recordUsage');
    const ref = requireProviderRef(subscription);
    const recorded = await record(connection.ctx, ref, { quantity: input.quantity, timestamp });
    const usage: UsageRecord = {
      id: newId('use'),
      subscriptionId: subscription.id,
      quantity: input.quantity,
      occurredAt: timestamp,
      providerRef: recorded.ref,
      createdAt: now,
    };
    // The provider's record id identifies the usage: a replayed call stores (and returns) the first record.
    return this.uow.transaction(async (repos) => {
      const stored = await repos.usage.insert(usage, `${connection.adapter.id}:${recorded.ref}`);
      if (stored.id === usage.id) {
        await repos.audit.record({
          ...ctx,
          action: 'RecordUsage',
          resourceType: 'usage',
          resourceId: usage.id,
          storefrontId: subscription.storefrontId,
          details: { quantity: usage.quantity.toString() },
        });
      }
      return stored;
    }, ctx);
  }

  async getUsage(input: { subscriptionId: string; periodStart?: Date; periodEnd?: Date }) {
    const subscription = await this.load(this.uow.reads, input.subscriptionId);
    const start = input.periodStart ?? subscription.currentPeriodStart;
    const end = input.periodEnd ?? (input.periodStart ? undefined : subscription.currentPeriodEnd);
    if (start && end && end <= start)
      throw invalidArgument([{ field: 'period_end', rule: 'must be after period_start' }]);
    const records = await this.uow.reads.usage.list(subscription.id, { start, end });
    return { totalQuantity: records.reduce((sum, r) => sum + r.quantity, 0n), records };
  }

  async createPortalSession(customerId: string, returnUrl: string, ctx: CallContext) {
    if (returnUrl && !URL_RULE.test(returnUrl))
      throw invalidArgument([{ field: 'return_url', rule: 'must be an http(s) URL' }]);
    const reads = this.uow.reads;
    const customer = customerId ? await reads.customers.get(customerId) : undefined;
    if (!customer) throw notFound('customer', customerId, 'customer_id');
    // The portal lives where the customer's billing is: the provider of their latest subscription.
    const latest = await reads.subscriptions.latestOfCustomer(customer.id);
    const storefront = (await reads.storefronts.get(customer.storefrontId))!;
    const provider = latest?.provider ?? storefront.binding.provider;
    const connection = await this.gateway.connect(reads, storefront, provider, ctx);
    const open = connection.operation('createPortalSession');
    const customerRef = customer.providerRefs[provider];
    if (!customerRef) {
      throw failedPrecondition(
        `customer '${customer.id}' has no account at '${provider}' yet: complete a checkout first`,
      );
    }
    return open(connection.ctx, customerRef, returnUrl);
  }

  /**
   * The customer's reference at the connected provider: known already, created now where the provider has
   * customers of their own (remembered for next time), or none where checkout creates them (Subotiz).
   */
  private async customerAtProvider(connection: ProviderConnection, customer: Customer): Promise<string | undefined> {
    const provider = connection.adapter.id;
    const known = customer.providerRefs[provider];
    const ensure = connection.optional('ensureCustomer');
    if (known || !ensure) return known;
    const ref = await ensure(connection.ctx, customer);
    await this.uow.transaction(async (repos) => {
      const current = await repos.customers.get(customer.id, { forUpdate: true });
      if (current && !current.providerRefs[provider]) {
        await repos.customers.update({ ...current, providerRefs: { ...current.providerRefs, [provider]: ref } });
      }
    });
    return ref;
  }

  /** Runs one provider operation on a pinned subscription and applies the state the provider answers with. */
  private async providerChange<
    K extends
      | 'cancelSubscription'
      | 'revokeCancellation'
      | 'pauseSubscription'
      | 'resumeSubscription'
      | 'changePlan'
      | 'updateQuantity',
  >(
    current: Subscription,
    ctx: CallContext,
    operation: K,
    run: (
      op: NonNullable<ProviderOperations[K]>,
      connection: ProviderConnection,
      ref: string,
    ) => Promise<ProviderSubscriptionState>,
    /** What the caller asked for and the provider accepted (ChangePlan's plan, UpdateQuantity's quantity). */
    requested: Partial<Pick<Subscription, 'planId' | 'quantity'>> = {},
    storefront?: Storefront,
    /** True when the provider's state shows the change was made (asked first when an earlier attempt may have). */
    done?: (state: ProviderSubscriptionState) => boolean,
  ): Promise<Subscription> {
    storefront ??= await this.storefrontOf(current);
    const connection = await this.gateway.connect(this.uow.reads, storefront, current.provider, ctx);
    const op = connection.operation(operation);
    const ref = requireProviderRef(current);
    // Recorded before the provider is asked; a retry after a failure or crash asks the provider what became of it,
    // and only when the change is not there sends it again (with the same Request-Id, so never twice).
    const { effect, resumed } = effectOf(ctx, operation, () => ({ subjectId: current.id }));
    const asked = resumed && done ? await connection.operation('getSubscription')(connection.ctx, ref) : undefined;
    if (!resumed) await recordEffect(ctx, effect);
    const state = asked && done?.(asked) ? asked : await run(op, connection, ref);
    return this.uow.transaction(async (repos) => {
      const locked = (await repos.subscriptions.get(current.id, { forUpdate: true }))!;
      const now = this.clock.now();
      const { subscription, result } = await applySubscriptionState(
        repos,
        storefront,
        locked,
        { ...state, ...requested, observedAt: state.observedAt ?? now },
        ctx,
        now,
      );
      if (result.outcome === 'refused')
        throw failedPrecondition(`provider answered with a state we cannot apply: ${result.reason}`);
      return subscription;
    }, ctx);
  }

  /** The storefront a subscription belongs to (it always exists: subscriptions reference it). */
  private async storefrontOf(subscription: Subscription): Promise<Storefront> {
    return (await this.uow.reads.storefronts.get(subscription.storefrontId))!;
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
      checkoutUrl: checkout.url,
      checkoutExpiresAt: expiryOf(checkout, now),
      version: 1,
      createdAt: now,
      updatedAt: now,
    };
    return this.uow.transaction(async (repos) => {
      if (!(await repos.subscriptions.insert(subscription))) {
        return { session: sessionOf(checkout), subscription: (await repos.subscriptions.get(id))! };
      }
      await repos.outbox.append(drafts.subscription('billing.subscription.created', storefront, subscription), ctx);
      await repos.audit.record({
        ...ctx,
        action: 'CreateCheckoutSession',
        resourceType: 'subscription',
        resourceId: id,
        storefrontId: storefront.id,
        details: { plan_id: plan.id, provider: subscription.provider },
      });
      return { session: sessionOf(checkout), subscription };
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
    return this.uow.transaction(async (repos) => {
      const existing = await repos.payments.get(id);
      if (existing) return { session: sessionOf(checkout), payment: existing };
      await repos.payments.insert(payment);
      await repos.audit.record({
        ...ctx,
        action: 'CreateCheckoutSession',
        resourceType: 'payment',
        resourceId: id,
        storefrontId: storefront.id,
        details: { provider },
      });
      return { session: sessionOf(checkout), payment };
    }, ctx);
  }

  /** An active plan of this storefront, with a reference at `provider` when the provider prices by reference. */
  private async sellablePlan(
    repos: Repositories,
    storefront: Storefront,
    planId: string,
    provider: string,
  ): Promise<Plan> {
    const plan = await repos.plans.get(planId);
    if (!plan || plan.storefrontId !== storefront.id) throw notFound('plan', planId, 'plan_id');
    if (plan.status !== 'ACTIVE') throw failedPrecondition(`plan '${plan.id}' is archived`);
    if (this.gateway.needsPlanReference(provider) && !plan.providerRefs[provider]) {
      throw failedPrecondition(
        `plan '${plan.id}' has no reference for provider '${provider}' (SetPlanProviderReference)`,
      );
    }
    return plan;
  }

  private async load(repos: Repositories, id: string): Promise<Subscription> {
    const subscription = id ? await repos.subscriptions.get(id) : undefined;
    if (!subscription) throw notFound('subscription', id, 'subscription_id');
    return subscription;
  }
}

function sessionOf(checkout: ProviderCheckout): CheckoutResult['session'] {
  return { id: checkout.sessionRef, url: checkout.url, expireTime: checkout.expireTime };
}

function requireProviderRef(subscription: Subscription): string {
  if (!subscription.providerRef) {
    throw failedPrecondition(
      `subscription '${subscription.id}' is ${subscription.status}: the provider has not created it yet (checkout not completed)`,
    );
  }
  return subscription.providerRef;
}

function positive(money: Money, field: string): Money {
  if (money.amountMinor <= 0n) throw invalidArgument([{ field, rule: 'must be greater than zero' }]);
  return money;
}
