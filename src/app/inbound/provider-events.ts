import type { Discount } from '../../domain/discount';
import { newId } from '../../domain/ids';
import type { Invoice } from '../../domain/invoice';
import { canMovePayment } from '../../domain/payment-lifecycle';
import { Payment, PaymentStatus, refundStateOf } from '../../domain/payment';
import type { EventType } from '../../domain/event-catalogue';
import type { Subscription } from '../../domain/subscription';
import type { ObservedSubscription } from '../../domain/subscription-lifecycle';
import type { Clock } from '../../ports/clock.port';
import type {
  ProviderEvent,
  ProviderInvoiceState,
  ProviderPaymentState,
  ProviderRefundState,
} from '../../ports/provider-adapter.port';
import type { Repositories } from '../../ports/store.port';
import { systemContext } from '../call-context';
import { EventOrigin, ForeignOrUnknownObject } from './event-origin';
import { applyNativeEntitlement } from './native-entitlements';
import { drafts } from '../engine/event-drafts';
import type { ProviderConnection, ProviderGateway } from '../providers/provider-gateway';
import { applySubscriptionState, ChangeSource } from '../engine/subscription-changes';
import { handleOf } from '../engine/subscription-handle';

type Of<K extends ProviderEvent['kind']> = Extract<ProviderEvent, { kind: K }>;

/** The payment statuses consumers hear about when a payment reaches them. */
const PAYMENT_EVENTS: Partial<Record<PaymentStatus, EventType>> = {
  SUCCEEDED: 'billing.payment.succeeded',
  FAILED: 'billing.payment.failed',
};

export { ForeignOrUnknownObject } from './event-origin';
export type { EventOrigin } from './event-origin';

/**
 * Turns normalized provider events into state changes and billing events, in the caller's transaction. A late,
 * duplicate or out-of-order event never regresses state: the state machine refuses it, and where a refusal means
 * order is in doubt the provider's current state is fetched and applied instead. Returns a note for the inbox.
 */
export class ProviderEventApplier {
  constructor(
    private readonly gateway: ProviderGateway,
    private readonly clock: Clock,
  ) {}

  async apply(repos: Repositories, origin: EventOrigin, event: ProviderEvent): Promise<string> {
    const source: ChangeSource = {
      actor: `provider:${origin.provider}`,
      correlationId: origin.correlationId,
      providerEventId: event.providerEventId,
    };
    switch (event.kind) {
      case 'subscription':
        return this.subscriptionEvent(repos, origin, event, source);
      case 'payment':
        return this.applyPayment(repos, origin, event.payment, source);
      case 'invoice':
        return this.applyInvoice(repos, origin, event.invoice, event.outcome, source);
      case 'refund':
        return this.applyRefund(repos, origin, event.refund, event.outcome, source);
      case 'entitlement':
        return applyNativeEntitlement(repos, origin, event.action, event.entitlement, source, this.clock.now());
      case 'discount':
        return this.applyDiscount(repos, origin, event.discount, source);
      case 'changed':
        return this.fetchAndApply(repos, origin, event, source);
    }
  }

  /**
   * Notify-only: the provider says an object changed without saying how (or its signature does not cover what it
   * says). Its current state is fetched and applied through the same paths as a webhook's state.
   */
  private async fetchAndApply(
    repos: Repositories,
    origin: EventOrigin,
    event: Of<'changed'>,
    source: ChangeSource,
  ): Promise<string> {
    if (event.object === 'subscription') {
      const subscription = await this.subscriptionOf(repos, origin, event.ref || undefined, event.orderId);
      return this.reconcile(repos, origin, subscription, source, 'notified');
    }
    const connection = await this.gateway.connect(
      repos,
      origin.storefront,
      origin.provider,
      systemContext(source.correlationId),
    );
    if (event.object === 'payment') {
      const payment = await connection.operation('getPayment')(connection.ctx, event.ref);
      return this.applyPayment(repos, origin, { ...payment, orderId: payment.orderId ?? event.orderId }, source);
    }
    const refund = await connection.operation('getRefund')(connection.ctx, event.ref);
    if (refund.status === 'PENDING') return `refund ${refund.ref} still pending at the provider`;
    return this.applyRefund(repos, origin, refund, refund.status === 'SUCCEEDED' ? 'succeeded' : 'failed', source);
  }

  /** A discount the provider applied (a campaign, a promotion code): news for consumers, keyed by its subscription. */
  private async applyDiscount(
    repos: Repositories,
    origin: EventOrigin,
    discount: Of<'discount'>['discount'],
    source: ChangeSource,
  ): Promise<string> {
    const subscription = await this.subscriptionOf(repos, origin, discount.subscriptionRef, undefined);
    const applied: Discount = {
      code: discount.code,
      description: discount.description,
      amountOff: discount.amountOff,
      percentOffBasisPoints: discount.percentOffBasisPoints,
      cycles: discount.cycles,
      subscriptionId: subscription.id,
      customerId: subscription.customerId,
    };
    await repos.outbox.append(
      drafts.discount(origin.storefront, subscription.provider, applied, source.providerEventId),
      source,
    );
    await repos.audit.record({
      ...source,
      action: 'DiscountApplied',
      resourceType: 'subscription',
      resourceId: subscription.id,
      storefrontId: subscription.storefrontId,
      details: {
        code: discount.code,
        description: discount.description,
        amount_off_minor: discount.amountOff?.amountMinor.toString(),
        currency: discount.amountOff?.currency,
        percent_off_basis_points: discount.percentOffBasisPoints,
        cycles: discount.cycles,
      },
    });
    return `discount ${discount.code} applied to ${subscription.id}`;
  }

  private async subscriptionEvent(
    repos: Repositories,
    origin: EventOrigin,
    event: Of<'subscription'>,
    source: ChangeSource,
  ): Promise<string> {
    const state = event.subscription;
    const subscription = await this.subscriptionOf(repos, origin, state.ref, state.orderId);
    await this.rememberCustomerRef(repos, subscription, origin.provider, state.customerRef);
    const observed: ObservedSubscription = {
      ...state,
      planId: await this.planOf(repos, origin, subscription, state.planRef),
      observedAt: state.observedAt ?? event.occurredAt,
    };
    const outcome = await this.observe(repos, origin, subscription, observed, source);
    if (event.hint !== 'trial_will_end' || state.status !== 'TRIALING') return outcome;
    // The trial reminder changes no state but is news to consumers; it carries the subscription as it now is.
    const current = (await repos.subscriptions.get(subscription.id))!;
    await repos.outbox.append(
      drafts.subscription('billing.subscription.trial_will_end', origin.storefront, current, source.providerEventId),
      source,
    );
    return `${outcome}; trial_will_end`;
  }

  /** Records a payment as the provider reports it (webhook or fetch); settled payments never move back. */
  async applyPayment(
    repos: Repositories,
    origin: EventOrigin,
    state: ProviderPaymentState,
    source: ChangeSource,
  ): Promise<string> {
    const now = this.clock.now();
    const storefrontId = origin.storefront.id;
    let payment = await repos.payments.findByProviderRef(storefrontId, origin.provider, state.ref, { forUpdate: true });
    if (!payment && state.orderId?.startsWith('pay_')) {
      payment = await repos.payments.get(state.orderId, { forUpdate: true, storefrontId });
    }
    // Not found by its reference here, yet the reference is taken: it is another storefront's payment.
    if (!payment?.providerRef && (await repos.payments.providerRefInUse(origin.provider, state.ref))) {
      throw new ForeignOrUnknownObject('payment', `${origin.provider}:${state.ref}`);
    }
    // A known payment names its subscription; a new one is found by the provider's references. Either way the
    // subscription is locked after the payment, as everywhere a payment and its subscription are both locked.
    const subscription = payment
      ? payment.subscriptionId
        ? await repos.subscriptions.get(payment.subscriptionId, { forUpdate: true })
        : undefined
      : await this.subscriptionOf(repos, origin, state.subscriptionRef, state.orderId);
    const before = payment?.status;
    if (!payment) {
      payment = {
        id: newId('pay'),
        storefrontId: subscription!.storefrontId,
        customerId: subscription!.customerId,
        subscriptionId: subscription!.id,
        kind: state.kind,
        provider: origin.provider,
        providerRef: state.ref,
        amount: state.amount,
        status: state.status,
        refundState: 'NONE',
        refundedMinor: 0n,
        failure: state.failure,
        createdAt: now,
        updatedAt: now,
      };
      await repos.payments.insert(payment);
    } else if (payment.status === state.status && payment.providerRef) {
      return `payment ${payment.id} unchanged`;
    } else if (canMovePayment(payment.status, state.status)) {
      payment = {
        ...payment,
        providerRef: payment.providerRef ?? state.ref,
        status: state.status,
        failure: state.failure ?? payment.failure,
        updatedAt: now,
      };
      await repos.payments.update(payment);
    } else {
      return `payment ${payment.id} stays ${payment.status} (reported ${state.status})`;
    }
    const type = payment.status === before ? undefined : PAYMENT_EVENTS[payment.status];
    if (type) {
      await repos.outbox.append(drafts.payment(type, origin.storefront, payment, source.providerEventId), source);
    }
    // A first payment that succeeded while we still hold the subscription INCOMPLETE: its activation event may be
    // late or lost, so ask the provider.
    if (subscription?.status === 'INCOMPLETE' && payment.status === 'SUCCEEDED') {
      await this.reconcile(repos, origin, subscription, source);
    }
    return `payment ${payment.id} ${payment.status}`;
  }

  /** Records an invoice as the provider reports it (webhook or fetch); a paid one may renew the subscription. */
  async applyInvoice(
    repos: Repositories,
    origin: EventOrigin,
    state: ProviderInvoiceState,
    outcome: Of<'invoice'>['outcome'],
    source: ChangeSource,
  ): Promise<string> {
    const now = this.clock.now();
    const subscription = await this.subscriptionOf(repos, origin, state.subscriptionRef, state.orderId);
    const existing = await repos.invoices.findByProviderRef(subscription.id, state.ref, { forUpdate: true });
    const invoice: Invoice = {
      id: existing?.id ?? newId('inv'),
      subscriptionId: subscription.id,
      customerId: subscription.customerId,
      amount: state.amount,
      type: state.type,
      status: state.status,
      cycleIndex: state.cycleIndex,
      periodStart: state.periodStart,
      periodEnd: state.periodEnd,
      providerRef: state.ref,
      createdAt: existing?.createdAt ?? now,
      updatedAt: now,
    };
    if (existing && existing.status === invoice.status) return `invoice ${existing.id} unchanged`;
    if (existing) await repos.invoices.update(invoice);
    else await repos.invoices.insert(invoice);
    if (state.paymentRef) {
      const payment = await repos.payments.findByProviderRef(origin.storefront.id, origin.provider, state.paymentRef, {
        forUpdate: true,
      });
      if (payment && payment.invoiceId !== invoice.id) {
        await repos.payments.update({ ...payment, invoiceId: invoice.id, updatedAt: now });
      }
    }
    const type =
      outcome === 'paid'
        ? 'billing.invoice.paid'
        : outcome === 'payment_failed'
          ? 'billing.invoice.payment_failed'
          : undefined;
    if (type) {
      await repos.outbox.append(
        drafts.invoice(type, origin.storefront, subscription, invoice, source.providerEventId),
        source,
      );
    }
    if (outcome === 'paid' && invoice.type !== 'TRIAL') await this.renew(repos, origin, subscription, invoice, source);
    return `invoice ${invoice.id} ${invoice.status}`;
  }

  /** A paid invoice for a later period renews the subscription; one that ends a dunning run needs the provider's word. */
  private async renew(
    repos: Repositories,
    origin: EventOrigin,
    subscription: Subscription,
    invoice: Invoice,
    source: ChangeSource,
  ): Promise<void> {
    if (subscription.status === 'PAST_DUE' || subscription.status === 'UNPAID') {
      await this.reconcile(repos, origin, subscription, source);
      return;
    }
    const later =
      invoice.periodEnd && (!subscription.currentPeriodEnd || invoice.periodEnd > subscription.currentPeriodEnd);
    if (!later || subscription.status === 'INCOMPLETE') return;
    await applySubscriptionState(
      repos,
      origin.storefront,
      subscription,
      {
        ...subscription,
        currentPeriodStart: invoice.periodStart,
        currentPeriodEnd: invoice.periodEnd,
        observedAt: undefined,
      },
      source,
      this.clock.now(),
      origin.features?.entitlements,
    );
  }

  /** Settles a refund exactly once, as the provider reports it (webhook or fetch). */
  async applyRefund(
    repos: Repositories,
    origin: EventOrigin,
    state: ProviderRefundState,
    outcome: 'succeeded' | 'failed',
    source: ChangeSource,
  ): Promise<string> {
    const now = this.clock.now();
    const payment = await repos.payments.findByProviderRef(origin.storefront.id, origin.provider, state.paymentRef, {
      forUpdate: true,
    });
    if (!payment) throw new ForeignOrUnknownObject('payment', `${origin.provider}:${state.paymentRef}`);
    let refund = await repos.refunds.findByProviderRef(payment.id, state.ref, { forUpdate: true });
    if (!refund) {
      // Issued outside this service (e.g. the provider's dashboard): record it like ours.
      refund = {
        id: newId('ref'),
        paymentId: payment.id,
        amount: state.amount,
        reason: state.reason,
        status: 'PENDING',
        providerRef: state.ref,
        createdAt: now,
        updatedAt: now,
      };
      await repos.refunds.insert(refund);
    }
    if (refund.status !== 'PENDING') return `refund ${refund.id} already ${refund.status}`;
    if (outcome === 'failed') {
      refund = { ...refund, status: 'FAILED', failure: state.failure, updatedAt: now };
      await repos.refunds.update(refund);
      await repos.outbox.append(
        drafts.refund('billing.refund.failed', origin.storefront, payment, refund, source.providerEventId),
        source,
      );
      return `refund ${refund.id} FAILED`;
    }
    refund = { ...refund, status: 'SUCCEEDED', updatedAt: now };
    await repos.refunds.update(refund);
    const refundedMinor = payment.refundedMinor + refund.amount.amountMinor;
    const refunded: Payment = {
      ...payment,
      refundedMinor,
      refundState: refundStateOf(payment.amount.amountMinor, refundedMinor),
      updatedAt: now,
    };
    await repos.payments.update(refunded);
    await repos.outbox.append(
      drafts.refund('billing.refund.succeeded', origin.storefront, refunded, refund, source.providerEventId),
      source,
    );
    await repos.outbox.append(
      drafts.payment('billing.payment.refunded', origin.storefront, refunded, source.providerEventId),
      source,
    );
    return `refund ${refund.id} SUCCEEDED`;
  }

  /** Applies an observed state; when the state machine refuses it, order is in doubt: the provider decides. */
  private async observe(
    repos: Repositories,
    origin: EventOrigin,
    subscription: Subscription,
    observed: ObservedSubscription,
    source: ChangeSource,
  ): Promise<string> {
    const { result } = await applySubscriptionState(
      repos,
      origin.storefront,
      subscription,
      observed,
      source,
      this.clock.now(),
      origin.features?.entitlements,
    );
    if (result.outcome === 'refused') return this.reconcile(repos, origin, subscription, source, result.reason);
    return result.outcome;
  }

  /** Fetches the provider's current state of a subscription and applies it. */
  async reconcile(
    repos: Repositories,
    origin: EventOrigin,
    subscription: Subscription,
    source: ChangeSource,
    why = 'order in doubt',
    /** The caller's connection to the pinned provider, when it has one (its deadline then applies). */
    connected?: ProviderConnection,
  ): Promise<string> {
    const connection =
      connected ??
      (await this.gateway.connect(
        repos,
        origin.storefront,
        subscription.provider,
        systemContext(source.correlationId),
      ));
    const fresh = await connection.operation('getSubscription')(connection.ctx, await handleOf(repos, subscription));
    if (!fresh) return `${why}; provider has no state yet`;
    let current = subscription;
    // First sight of the provider's reference, or a new one after the provider replaced the subscription.
    if (current.providerRef !== fresh.ref) {
      current = { ...current, providerRef: fresh.ref };
      await repos.subscriptions.update(current);
    }
    const { result } = await applySubscriptionState(
      repos,
      origin.storefront,
      current,
      {
        ...fresh,
        planId: await this.planOf(repos, origin, current, fresh.planRef),
        observedAt: fresh.observedAt ?? this.clock.now(),
      },
      source,
      this.clock.now(),
      origin.features?.entitlements,
    );
    return result.outcome === 'refused'
      ? `${why}; provider state refused too: ${result.reason}`
      : `reconciled: ${result.outcome}`;
  }

  /**
   * The origin storefront's subscription for a provider reference or our order id (never another storefront's); the
   * reference is remembered on first sight.
   */
  private async subscriptionOf(
    repos: Repositories,
    origin: EventOrigin,
    ref: string | undefined,
    orderId: string | undefined,
  ): Promise<Subscription> {
    const { provider } = origin;
    const storefrontId = origin.storefront.id;
    if (ref) {
      const byRef = await repos.subscriptions.findByProviderRef(storefrontId, provider, ref, { forUpdate: true });
      if (byRef) return byRef;
    }
    const byOrder = orderId?.startsWith('sub_')
      ? await repos.subscriptions.get(orderId, { forUpdate: true, storefrontId })
      : undefined;
    if (!byOrder || byOrder.provider !== provider) {
      throw new ForeignOrUnknownObject('subscription', ref ?? orderId ?? '(no reference)');
    }
    if (ref && !byOrder.providerRef) {
      // The reference belongs to another storefront's subscription: this one must not claim it.
      if (await repos.subscriptions.providerRefInUse(provider, ref))
        throw new ForeignOrUnknownObject('subscription', ref);
      const remembered = { ...byOrder, providerRef: ref };
      await repos.subscriptions.update(remembered);
      return remembered;
    }
    return byOrder;
  }

  /**
   * Our plan for the plan reference a provider reports (a plan changed at the provider, e.g. from its portal).
   * Undefined, so the plan stays, when the reference is absent, still the subscription's plan's, or unknown to us.
   */
  private async planOf(
    repos: Repositories,
    origin: EventOrigin,
    subscription: Subscription,
    planRef: string | undefined,
  ): Promise<string | undefined> {
    if (!planRef) return undefined;
    const plan = await repos.plans.get(subscription.planId);
    if (plan?.providerRefs[origin.provider] === planRef) return undefined;
    return (await repos.plans.findByProviderRef(origin.storefront.id, origin.provider, planRef))?.id;
  }

  private async rememberCustomerRef(
    repos: Repositories,
    subscription: Subscription,
    provider: string,
    customerRef: string | undefined,
  ): Promise<void> {
    if (!customerRef) return;
    const customer = await repos.customers.get(subscription.customerId, { forUpdate: true });
    if (!customer || customer.providerRefs[provider] === customerRef) return;
    await repos.customers.update({ ...customer, providerRefs: { ...customer.providerRefs, [provider]: customerRef } });
  }
}
