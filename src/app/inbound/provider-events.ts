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
import { drafts } from '../engine/event-drafts';
import type { ProviderGateway } from '../providers/provider-gateway';
import { AskFirst } from './ask-first';
import type { EventOrigin } from './event-origin';
import { applyNativeEntitlement } from './native-entitlements';
import { recordProviderAudit } from './provider-audit';
import { subscriptionOf } from './object-lookup';
import type { InvoiceOutcome, PaymentEvents } from './payment-events';
import type { AskedFirst, SubscriptionAnswers } from './subscription-answers';
import { SubscriptionEvents } from './subscription-events';
import { recordChange } from '../engine/record-change';

export { ForeignOrUnknownObject } from './event-origin';
export type { EventOrigin } from './event-origin';

type Of<K extends ProviderEvent['kind']> = Extract<ProviderEvent, { kind: K }>;

/**
 * Turns normalized provider events into state changes and billing events, in the caller's transaction. A late,
 * duplicate or out-of-order event never regresses state: the state machine refuses it, and where a refusal means
 * order is in doubt the provider's current state — asked before anything was locked (askFirst) — is applied
 * instead. Returns a note for the inbox.
 */
export class ProviderEventApplier {
  private readonly subscriptions: SubscriptionEvents;
  private readonly payments: PaymentEvents;
  private readonly asking: AskFirst;

  constructor(
    gateway: ProviderGateway,
    private readonly clock: Clock,
  ) {
    this.subscriptions = new SubscriptionEvents(clock);
    this.payments = this.subscriptions.payments;
    this.asking = new AskFirst(gateway, clock);
  }

  /**
   * What `events` need from the provider, asked with no row locked; `apply` each of them with it afterwards. With
   * `catchUp` (after a gap) also the state of every subscription they touch, for `catchUp` after them.
   */
  askFirst(
    repos: Repositories,
    origin: EventOrigin,
    events: readonly ProviderEvent[],
    options: { catchUp?: boolean } = {},
  ): Promise<AskedFirst> {
    return this.asking.ask(repos, origin, events, options);
  }

  /**
   * After a gap, once the events are applied: each subscription they touch is brought to the provider's state asked
   * first, through the state machine, so what the missing webhooks would have changed is applied too (once).
   */
  async catchUp(
    repos: Repositories,
    origin: EventOrigin,
    asked: AskedFirst,
    providerEventId: string,
  ): Promise<string[]> {
    const source: ActorContext = {
      actor: `provider:${origin.provider}`,
      correlationId: origin.correlationId,
      providerEventId,
    };
    const notes: string[] = [...asked.notes];
    for (const id of asked.catchUp) {
      const locked = await repos.subscriptions.get(id, { forUpdate: true, storefrontId: origin.storefront.id });
      if (!locked) continue;
      notes.push(await this.subscriptions.reconcile(repos, origin, locked, source, `caught up ${id}`, asked));
    }
    return notes;
  }

  async apply(repos: Repositories, origin: EventOrigin, event: ProviderEvent, asked: AskedFirst): Promise<string> {
    const source: ActorContext = {
      actor: `provider:${origin.provider}`,
      correlationId: origin.correlationId,
      providerEventId: event.providerEventId,
    };
    switch (event.kind) {
      case 'subscription':
        return this.subscriptions.apply(repos, origin, event, source, asked);
      case 'payment':
        return this.payments.applyPayment(repos, origin, event.payment, source, asked);
      case 'invoice':
        return this.payments.applyInvoice(repos, origin, event.invoice, event.outcome, source, asked);
      case 'refund':
        return this.payments.applyRefund(repos, origin, event.refund, event.outcome, source);
      case 'entitlement':
        return applyNativeEntitlement(repos, origin, event.action, event.entitlement, source, this.clock.now());
      case 'discount':
        return this.applyDiscount(repos, origin, event.discount, source);
      case 'audit':
        return recordProviderAudit(repos, origin, event.record, source);
      case 'changed':
        return this.applyChanged(repos, origin, event, source, asked);
    }
  }

  /** See PaymentEvents (sweeps and the scheduler apply what they fetched through these). */
  applyPayment(
    repos: Repositories,
    origin: EventOrigin,
    state: ProviderPaymentState,
    source: ActorContext,
    answers: SubscriptionAnswers,
  ) {
    return this.payments.applyPayment(repos, origin, state, source, answers);
  }

  applyInvoice(
    repos: Repositories,
    origin: EventOrigin,
    state: ProviderInvoiceState,
    outcome: InvoiceOutcome,
    source: ActorContext,
    answers: SubscriptionAnswers,
  ) {
    return this.payments.applyInvoice(repos, origin, state, outcome, source, answers);
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

  /** Applies the provider's current state of a locked subscription, as `answers` has it. */
  reconcile(
    repos: Repositories,
    origin: EventOrigin,
    subscription: Subscription,
    source: ActorContext,
    why: string,
    answers: SubscriptionAnswers,
  ) {
    return this.subscriptions.reconcile(repos, origin, subscription, source, why, answers);
  }

  /**
   * Notify-only: the provider says an object changed without saying how (or its signature does not cover what it
   * says). Its current state, fetched by askFirst, is applied through the same paths as a webhook's state.
   */
  private async applyChanged(
    repos: Repositories,
    origin: EventOrigin,
    event: Of<'changed'>,
    source: ActorContext,
    asked: AskedFirst,
  ): Promise<string> {
    if (event.object === 'subscription') {
      const subscription = await subscriptionOf(repos, origin, event.ref || undefined, event.orderId);
      return this.subscriptions.reconcile(repos, origin, subscription, source, 'notified', asked);
    }
    if (event.object === 'payment') {
      return this.applyPayment(repos, origin, answered(asked.payments, event.ref), source, asked);
    }
    const refund = answered(asked.refunds, event.ref);
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

/** What askFirst fetched for a notification (it fetches every notified payment and refund). */
function answered<T>(states: ReadonlyMap<string, T>, ref: string): T {
  const state = states.get(ref);
  if (!state) throw new Error(`'${ref}' was not asked of the provider before it was applied`);
  return state;
}
