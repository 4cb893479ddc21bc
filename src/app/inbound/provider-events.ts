import type { Discount } from '../../domain/discount';
import type { Clock } from '../../ports/clock.port';
import type {
  ProviderEvent,
  ProviderInvoiceState,
  ProviderPaymentState,
  ProviderRefundState,
  ProviderSubscriptionState,
} from '../../ports/provider-adapter.port';
import type { ActorContext, Repositories } from '../../ports/store.port';
import type { Subscription } from '../../domain/subscription';
import { systemContext } from '../call-context';
import { drafts } from '../engine/event-drafts';
import type { ProviderConnection, ProviderGateway } from '../providers/provider-gateway';
import type { EventOrigin } from './event-origin';
import { applyNativeEntitlement } from './native-entitlements';
import { subscriptionOf } from './object-lookup';
import type { InvoiceOutcome, PaymentEvents } from './payment-events';
import { SubscriptionEvents } from './subscription-events';
import { recordChange } from '../engine/record-change';

export { ForeignOrUnknownObject } from './event-origin';
export type { EventOrigin } from './event-origin';

type Of<K extends ProviderEvent['kind']> = Extract<ProviderEvent, { kind: K }>;

/**
 * Turns normalized provider events into state changes and billing events, in the caller's transaction. A late,
 * duplicate or out-of-order event never regresses state: the state machine refuses it, and where a refusal means
 * order is in doubt the provider's current state is fetched and applied instead. Returns a note for the inbox.
 */
export class ProviderEventApplier {
  private readonly subscriptions: SubscriptionEvents;
  private readonly payments: PaymentEvents;

  constructor(
    private readonly gateway: ProviderGateway,
    private readonly clock: Clock,
  ) {
    this.subscriptions = new SubscriptionEvents(gateway, clock);
    this.payments = this.subscriptions.payments;
  }

  async apply(repos: Repositories, origin: EventOrigin, event: ProviderEvent): Promise<string> {
    const source: ActorContext = {
      actor: `provider:${origin.provider}`,
      correlationId: origin.correlationId,
      providerEventId: event.providerEventId,
    };
    switch (event.kind) {
      case 'subscription':
        return this.subscriptions.apply(repos, origin, event, source);
      case 'payment':
        return this.payments.applyPayment(repos, origin, event.payment, source);
      case 'invoice':
        return this.payments.applyInvoice(repos, origin, event.invoice, event.outcome, source);
      case 'refund':
        return this.payments.applyRefund(repos, origin, event.refund, event.outcome, source);
      case 'entitlement':
        return applyNativeEntitlement(repos, origin, event.action, event.entitlement, source, this.clock.now());
      case 'discount':
        return this.applyDiscount(repos, origin, event.discount, source);
      case 'changed':
        return this.fetchAndApply(repos, origin, event, source);
    }
  }

  /** See PaymentEvents (the reconciler applies what it fetched through these). */
  applyPayment(repos: Repositories, origin: EventOrigin, state: ProviderPaymentState, source: ActorContext) {
    return this.payments.applyPayment(repos, origin, state, source);
  }

  applyInvoice(
    repos: Repositories,
    origin: EventOrigin,
    state: ProviderInvoiceState,
    outcome: InvoiceOutcome,
    source: ActorContext,
  ) {
    return this.payments.applyInvoice(repos, origin, state, outcome, source);
  }

  applyRefund(
    repos: Repositories,
    origin: EventOrigin,
    state: ProviderRefundState,
    outcome: 'succeeded' | 'failed',
    source: ActorContext,
  ) {
    return this.payments.applyRefund(repos, origin, state, outcome, source);
  }

  /** See SubscriptionEvents.applyFetched (every sweep applies what it fetched through it). */
  applyFetched(
    repos: Repositories,
    origin: EventOrigin,
    locked: Subscription,
    fresh: ProviderSubscriptionState,
    source: ActorContext,
  ) {
    return this.subscriptions.applyFetched(repos, origin, locked, fresh, source);
  }

  /** Fetches the provider's current state of a subscription and applies it. */
  reconcile(
    repos: Repositories,
    origin: EventOrigin,
    subscription: Subscription,
    source: ActorContext,
    why?: string,
    connected?: ProviderConnection,
  ) {
    return this.subscriptions.reconcile(repos, origin, subscription, source, why, connected);
  }
  /**
   * Notify-only: the provider says an object changed without saying how (or its signature does not cover what it
   * says). Its current state is fetched and applied through the same paths as a webhook's state.
   */
  private async fetchAndApply(
    repos: Repositories,
    origin: EventOrigin,
    event: Of<'changed'>,
    source: ActorContext,
  ): Promise<string> {
    if (event.object === 'subscription') {
      const subscription = await subscriptionOf(repos, origin, event.ref || undefined, event.orderId);
      return this.subscriptions.reconcile(repos, origin, subscription, source, 'notified');
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
    source: ActorContext,
  ): Promise<string> {
    const subscription = await subscriptionOf(repos, origin, discount.subscriptionRef, undefined);
    const applied: Discount = {
      code: discount.code,
      description: discount.description,
      amountOff: discount.amountOff,
      percentOffBasisPoints: discount.percentOffBasisPoints,
      cycles: discount.cycles,
      subscriptionId: subscription.id,
      customerId: subscription.customerId,
    };
    await recordChange(repos, source, {
      events: [drafts.discount(origin.storefront, subscription.provider, applied, source.providerEventId)],
      audit: {
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
      },
    });
    return `discount ${discount.code} applied to ${subscription.id}`;
  }
}
