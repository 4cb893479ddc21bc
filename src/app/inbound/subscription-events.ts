import type { ObservedSubscription } from '../../domain/subscription-lifecycle';
import type { Subscription } from '../../domain/subscription';
import type { Clock } from '../../ports/clock.port';
import type { ProviderEvent } from '../../ports/provider-adapter.port';
import type { ActorContext, Repositories } from '../../ports/store.port';
import { systemContext } from '../call-context';
import { drafts } from '../engine/event-drafts';
import { applySubscriptionState } from '../engine/subscription-changes';
import { followProviderRef, handleOf } from '../engine/subscription-handle';
import type { ProviderConnection, ProviderGateway } from '../providers/provider-gateway';
import type { EventOrigin } from './event-origin';
import { planOf, rememberCustomerRef, subscriptionOf } from './object-lookup';

type Of<K extends ProviderEvent['kind']> = Extract<ProviderEvent, { kind: K }>;

/**
 * Subscription webhooks, and the fetch-and-apply every other path falls back to when order is in doubt. The state
 * a report carries decides the transition; a refused one means the provider's current state is asked for.
 */
export class SubscriptionEvents {
  constructor(
    private readonly gateway: ProviderGateway,
    private readonly clock: Clock,
  ) {}

  async apply(
    repos: Repositories,
    origin: EventOrigin,
    event: Of<'subscription'>,
    source: ActorContext,
  ): Promise<string> {
    const state = event.subscription;
    const subscription = await subscriptionOf(repos, origin, state.ref, state.orderId);
    await rememberCustomerRef(repos, subscription, origin.provider, state.customerRef);
    const observed: ObservedSubscription = {
      ...state,
      planId: await planOf(repos, origin, subscription, state.planRef),
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
  /** Applies an observed state; when the state machine refuses it, order is in doubt: the provider decides. */
  private async observe(
    repos: Repositories,
    origin: EventOrigin,
    subscription: Subscription,
    observed: ObservedSubscription,
    source: ActorContext,
  ): Promise<string> {
    const { result } = await applySubscriptionState(
      repos,
      origin.storefront,
      subscription,
      observed,
      source,
      this.clock.now(),
      origin.features,
    );
    if (result.outcome === 'refused') return this.reconcile(repos, origin, subscription, source, result.reason);
    return result.outcome;
  }
  /** Fetches the provider's current state of a subscription and applies it. */
  async reconcile(
    repos: Repositories,
    origin: EventOrigin,
    subscription: Subscription,
    source: ActorContext,
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
    const current = await followProviderRef(repos, subscription, fresh.ref);
    const { result } = await applySubscriptionState(
      repos,
      origin.storefront,
      current,
      {
        ...fresh,
        planId: await planOf(repos, origin, current, fresh.planRef),
        observedAt: fresh.observedAt ?? this.clock.now(),
      },
      source,
      this.clock.now(),
      origin.features,
    );
    return result.outcome === 'refused'
      ? `${why}; provider state refused too: ${result.reason}`
      : `reconciled: ${result.outcome}`;
  }
}
