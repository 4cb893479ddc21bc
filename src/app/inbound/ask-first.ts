import type { Subscription } from '../../domain/subscription';
import { transition } from '../../domain/subscription-lifecycle';
import type { Clock } from '../../ports/clock.port';
import type { ProviderEvent, ProviderPaymentState, SubscriptionHandle } from '../../ports/provider-adapter.port';
import type { Repositories } from '../../ports/store.port';
import { systemContext } from '../call-context';
import { handleOf } from '../engine/subscription-handle';
import type { ProviderConnection, ProviderGateway } from '../providers/provider-gateway';
import type { EventOrigin } from './event-origin';
import { touchedSubscriptions } from './gap-catch-up';
import { peekSubscription } from './object-lookup';
import { paymentScope } from './payment-lookup';
import { reportedState } from './reported-subscription';
import { AskedFirst } from './subscription-answers';

type Of<K extends ProviderEvent['kind']> = Extract<ProviderEvent, { kind: K }>;

/**
 * The first half of applying a webhook's events, as a sweep works: everything they will need from the provider, asked
 * with no row locked; the second half then locks and applies what was asked (the stale check keeps the order). A
 * `changed` notification's object is fetched; so is the subscription of a payment that may activate it, of an invoice
 * paid during dunning, and of a report the state machine would refuse or cannot order. Look-ups here lock and write
 * nothing; what they cannot find is left to the second half to refuse.
 */
export class AskFirst {
  constructor(
    private readonly gateway: ProviderGateway,
    private readonly clock: Clock,
  ) {}

  /**
   * `catchUp` (a webhook after a gap in its key's sequence): every subscription the events touch is asked about too,
   * and marked to be brought to that state after the events (ProviderEventApplier.catchUp).
   */
  async ask(
    repos: Repositories,
    origin: EventOrigin,
    events: readonly ProviderEvent[],
    options: { catchUp?: boolean } = {},
  ): Promise<AskedFirst> {
    const asking = new Asking(repos, origin, this.gateway);
    for (const event of events) await this.askFor(asking, event);
    if (options.catchUp) {
      for (const subscription of await touchedSubscriptions(repos, origin, events)) {
        // Only extra: the events need none of these answers (theirs were asked above, and fail the webhook as
        // always). A provider that cannot answer now must not hold back the signed events, nor turn them into a dead
        // letter: that subscription is left as they leave it, and the reconciler's sweep brings its state later.
        const failure = await asking.aboutIfAnswered(subscription);
        if (failure === undefined) asking.asked.catchUp.add(subscription.id);
        else asking.asked.notes.push(`catch-up of ${subscription.id} skipped (provider: ${failure})`);
      }
    }
    return asking.asked;
  }

  private async askFor(asking: Asking, event: ProviderEvent): Promise<void> {
    const { repos, origin } = asking;
    switch (event.kind) {
      case 'changed':
        return this.fetchChanged(asking, event);
      case 'payment':
        return this.askIfActivating(asking, event.payment);
      case 'invoice': {
        const { invoice, outcome } = event;
        if (outcome !== 'paid' || invoice.type === 'TRIAL') return;
        const subscription = await peekSubscription(repos, origin, invoice.subscriptionRef, invoice.orderId);
        if (subscription?.status === 'PAST_DUE' || subscription?.status === 'UNPAID') await asking.about(subscription);
        return;
      }
      case 'subscription': {
        const state = event.subscription;
        const subscription = await peekSubscription(repos, origin, state.ref, state.orderId, state.previousRef);
        if (!subscription) return;
        const judged = transition(
          subscription,
          await reportedState(repos, origin, subscription, event),
          this.clock.now(),
        );
        if (judged.outcome === 'refused') return asking.about(subscription);
        // Only extra: unanswered, the report is ordered by its time, as before ties were in doubt.
        if (judged.outcome === 'in_doubt') return asking.aboutIfInDoubt(subscription);
        return;
      }
      default:
        return;
    }
  }

  private async fetchChanged(asking: Asking, event: Of<'changed'>): Promise<void> {
    const { repos, origin, asked } = asking;
    if (event.object === 'subscription') {
      return asking.about(await peekSubscription(repos, origin, event.ref || undefined, event.orderId));
    }
    const connection = await asking.connection();
    if (event.object === 'payment') {
      const payment = await connection.operation('getPayment')(connection.ctx, event.ref);
      const state = { ...payment, orderId: payment.orderId ?? event.orderId };
      asked.payments.set(event.ref, state);
      return this.askIfActivating(asking, state);
    }
    asked.refunds.set(event.ref, await connection.operation('getRefund')(connection.ctx, event.ref));
  }

  /** A first payment that succeeded finds its subscription INCOMPLETE: the subscription's state decides. */
  private async askIfActivating(asking: Asking, state: ProviderPaymentState): Promise<void> {
    if (state.status !== 'SUCCEEDED') return;
    const { payment, subscription } = await paymentScope(asking.repos, asking.origin, state, false);
    if (payment?.status === 'SUCCEEDED' && payment.providerRef) return;
    if (subscription?.status === 'INCOMPLETE') await asking.about(subscription);
  }
}

/** One webhook's questions: one connection to its provider, each subscription asked about once. */
class Asking {
  readonly asked = new AskedFirst();
  private connected?: Promise<ProviderConnection>;

  constructor(
    readonly repos: Repositories,
    readonly origin: EventOrigin,
    private readonly gateway: ProviderGateway,
  ) {}

  connection(): Promise<ProviderConnection> {
    const { storefront, provider, correlationId, signal } = this.origin;
    const ctx = { ...systemContext(correlationId), ...(signal && { signal }) };
    this.connected ??= this.gateway.connect(this.repos, storefront, provider, ctx);
    return this.connected;
  }

  async about(subscription: Subscription | undefined): Promise<void> {
    if (!subscription || this.asked.has(subscription.id)) return;
    const connection = await this.connection();
    await this.ask(connection, subscription, await handleOf(this.repos, subscription));
  }

  /** `about` for a report in doubt: a provider that does not answer leaves the report to be ordered by its time. */
  async aboutIfInDoubt(subscription: Subscription): Promise<void> {
    const failure = await this.aboutIfAnswered(subscription);
    if (failure !== undefined) this.asked.recordUnanswered(subscription.id, failure);
  }

  /**
   * `about`, for an answer the webhook can do without: undefined when it was asked (or had been), else why the
   * provider did not answer. Only the provider's side is caught; our own reads fail as always.
   */
  async aboutIfAnswered(subscription: Subscription): Promise<string | undefined> {
    if (this.asked.has(subscription.id)) return undefined;
    const handle = await handleOf(this.repos, subscription);
    // Our side (bindings, secrets) fails the webhook as always; only the provider's answer may be missing.
    const connection = await this.connection();
    try {
      await this.ask(connection, subscription, handle);
      return undefined;
    } catch (error) {
      return error instanceof Error ? error.message.slice(0, 200) : 'no answer';
    }
  }

  /** Fetches the subscription from its provider and records the answer beside the version it was asked of. */
  private async ask(connection: ProviderConnection, subscription: Subscription, handle: SubscriptionHandle) {
    const state = await connection.operation('getSubscription')(connection.ctx, handle);
    this.asked.record(subscription.id, state, subscription.version);
  }
}
