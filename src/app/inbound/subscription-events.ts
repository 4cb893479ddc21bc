import { askProvider, reportAgrees, type ObservedSubscription } from '../../domain/subscription-lifecycle';
import type { Subscription } from '../../domain/subscription';
import type { Clock } from '../../ports/clock.port';
import type { ProviderEvent, ProviderInvoiceState, ProviderSubscriptionState } from '../../ports/provider-adapter.port';
import type { ActorContext, Repositories } from '../../ports/store.port';
import { drafts } from '../engine/event-drafts';
import { applySubscriptionState, takenFrom } from '../engine/subscription-changes';
import { followProviderRef } from '../engine/subscription-handle';
import { EventOrigin, ForeignOrUnknownObject } from './event-origin';
import { InvoiceOutcome, PaymentEvents } from './payment-events';
import { planOf, rememberCustomerRef, subscriptionOf } from './object-lookup';
import { adoptSubscription } from './subscription-adoption';
import { byTime, reportedState, type ReportedSubscription } from './reported-subscription';
import { alongWith, AskedFirst, SubscriptionAnswers } from './subscription-answers';

type Of<K extends ProviderEvent['kind']> = Extract<ProviderEvent, { kind: K }>;

/**
 * Subscription webhooks, and the fetch-and-apply every other path falls back to when order is in doubt. The state
 * a report carries decides the transition; a refused one means the provider's current state is asked for.
 */
export class SubscriptionEvents {
  /** The subscription's payments and invoices, which a fetched state may show along with it. */
  readonly payments: PaymentEvents;

  constructor(private readonly clock: Clock) {
    this.payments = new PaymentEvents(clock, this);
  }

  async apply(
    repos: Repositories,
    origin: EventOrigin,
    event: Of<'subscription'>,
    source: ActorContext,
    answers: SubscriptionAnswers,
  ): Promise<string> {
    const state = event.subscription;
    let subscription: Subscription;
    try {
      subscription = await subscriptionOf(repos, origin, state.ref, state.orderId, state.previousRef);
    } catch (error) {
      // One we did not create (made at the provider) may still be our customer's: adopted when it qualifies.
      if (!(error instanceof ForeignOrUnknownObject)) throw error;
      const observedAt = state.observedAt ?? event.occurredAt;
      const adopted = await adoptSubscription(repos, origin, state, observedAt, source, this.clock.now());
      if (adopted) return adopted;
      throw error;
    }
    await rememberCustomerRef(repos, subscription, origin.provider, state.customerRef);
    const observed = await reportedState(repos, origin, subscription, event);
    const outcome = await this.observe(repos, origin, subscription, observed, source, answers);
    if (event.hint !== 'trial_will_end' || state.status !== 'TRIALING') return outcome;
    // The trial reminder changes no state but is news to consumers; it carries the subscription as it now is.
    const current = (await repos.subscriptions.get(subscription.id))!;
    await repos.outbox.append(
      drafts.subscription('billing.subscription.trial_will_end', origin.storefront, current, source.providerEventId),
      source,
    );
    return `${outcome}; trial_will_end`;
  }
  /**
   * Applies an observed state; when the state machine refuses it, or its time cannot be ordered against the state
   * held, order is in doubt: the provider decides. A report in doubt whose provider did not answer when asked is
   * ordered by its time, as ties were before, rather than held back until it answers.
   */
  private async observe(
    repos: Repositories,
    origin: EventOrigin,
    subscription: Subscription,
    reported: ReportedSubscription,
    source: ActorContext,
    answers: SubscriptionAnswers,
  ): Promise<string> {
    const apply = async (observed: ObservedSubscription) =>
      (
        await applySubscriptionState(
          repos,
          origin.storefront,
          subscription,
          observed,
          source,
          this.clock.now(),
          origin.features,
        )
      ).result;
    const unanswered = answers.unansweredWhy?.(subscription);
    const result = await apply(unanswered === undefined ? reported : byTime(reported));
    if (result.outcome === 'in_doubt' && (await this.providerAgrees(repos, origin, subscription, reported, answers))) {
      return `${result.reason}; the provider's current state agrees: ${(await apply(byTime(reported))).outcome}`;
    }
    if (askProvider(result)) {
      return this.reconcile(repos, origin, subscription, source, result.reason, answers);
    }
    if (unanswered === undefined) return result.outcome;
    const doubt = `not to be ordered by time against the state held, provider did not answer (${unanswered})`;
    return `${doubt}; applied by time: ${result.outcome}`;
  }
  /**
   * Whether a report in doubt says what the provider's current state says (`reportAgrees`): then it is applied as
   * reported, so a pause, resume and pause sent in sequence within one second each reach consumers, where applying
   * the fetched state would fold them into one. Not when the answer may be older than the row (it changed after the
   * provider was asked), or when either names another reference than ours (a re-issued subscription).
   */
  private async providerAgrees(
    repos: Repositories,
    origin: EventOrigin,
    subscription: Subscription,
    reported: ReportedSubscription,
    answers: SubscriptionAnswers,
  ): Promise<boolean> {
    if (reported.ref !== subscription.providerRef || !answers.askedOfThisVersion?.(subscription)) return false;
    const fresh = await answers.stateOf(subscription);
    // Payments and invoices the answer shows are recorded by applying it (applyFetched), not skipped here.
    if (!fresh || fresh.ref !== subscription.providerRef || fresh.payments?.length || fresh.invoices?.length) {
      return false;
    }
    const latest = takenFrom(origin.features, {
      ...fresh,
      planId: await planOf(repos, origin, subscription, fresh.planRef),
    });
    return reportAgrees(subscription, reported, latest);
  }

  /**
   * Applies the provider's current state of a locked subscription, as `answers` has it: asked before the lock, so no
   * row lock is held across a provider call.
   */
  async reconcile(
    repos: Repositories,
    origin: EventOrigin,
    subscription: Subscription,
    source: ActorContext,
    why: string,
    answers: SubscriptionAnswers,
  ): Promise<string> {
    const fresh = await answers.stateOf(subscription);
    if (!fresh) return `${why}; provider has no state yet`;
    return `${why}; ${await this.applyFetched(repos, origin, subscription, fresh, source, answers)}`;
  }

  /**
   * Applies a subscription state fetched from the provider to the locked row (webhook reconcile and every sweep
   * alike): first the state, through the state machine (a state older than what webhooks brought meanwhile is stale
   * and changes nothing), then the payments and invoices the provider showed with it, each recorded once. The state
   * goes first so a renewal seen only by this fetch is `renewed` once (the paid invoice then finds the period already
   * there) and a first payment finds its subscription active, not INCOMPLETE (which would apply it again). Whatever
   * else is in doubt is answered by `answers` (the caller asked it before locking).
   */
  async applyFetched(
    repos: Repositories,
    origin: EventOrigin,
    locked: Subscription,
    fresh: ProviderSubscriptionState,
    source: ActorContext,
    answers: SubscriptionAnswers = AskedFirst.of(),
  ): Promise<string> {
    const current = await followProviderRef(repos, locked, fresh.ref);
    const known = alongWith(answers, current.id, fresh);
    const now = this.clock.now();
    const { result } = await applySubscriptionState(
      repos,
      origin.storefront,
      current,
      { ...fresh, planId: await planOf(repos, origin, current, fresh.planRef), observedAt: fresh.observedAt ?? now },
      source,
      now,
      origin.features,
    );
    const notes = [
      result.outcome === 'refused' ? `provider state refused: ${result.reason}` : `reconciled: ${result.outcome}`,
    ];
    // Payments before invoices, so an invoice finds its payment to link.
    for (const payment of fresh.payments ?? []) {
      const state = {
        ...payment,
        subscriptionRef: payment.subscriptionRef ?? fresh.ref,
        orderId: payment.orderId ?? current.id,
      };
      notes.push(await ignoringForeign(() => this.payments.applyPayment(repos, origin, state, source, known)));
    }
    for (const invoice of fresh.invoices ?? []) {
      const state = {
        ...invoice,
        subscriptionRef: invoice.subscriptionRef ?? fresh.ref,
        orderId: invoice.orderId ?? current.id,
      };
      notes.push(
        await ignoringForeign(() =>
          this.payments.applyInvoice(
            repos,
            origin,
            state,
            INVOICE_OUTCOMES[invoice.status] ?? 'recorded',
            source,
            known,
          ),
        ),
      );
    }
    return notes.join('; ');
  }
}

/** What a fetched invoice's status means; OPEN and VOID have no outcome of their own (VOID emits `voided`). */
const INVOICE_OUTCOMES: Partial<Record<ProviderInvoiceState['status'], InvoiceOutcome>> = {
  PAID: 'paid',
  FAILED: 'payment_failed',
  REFUNDED: 'refunded',
};

/** A payment or invoice the fetch showed that belongs to no subscription of this storefront is noted, not applied. */
async function ignoringForeign(apply: () => Promise<string>): Promise<string> {
  try {
    return await apply();
  } catch (error) {
    if (error instanceof ForeignOrUnknownObject) return `ignored: ${error.message}`;
    throw error;
  }
}
