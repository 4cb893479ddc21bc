import { isFinalCheckout } from '../../domain/checkout-session';
import type { Clock } from '../../ports/clock.port';
import type { ScheduledAction, UnitOfWork } from '../../ports/store.port';
import { systemContext } from '../call-context';
import { CHECKOUT_POLL, nextCheckoutPoll } from '../engine/checkout-polling';
import { handleOf } from '../engine/subscription-handle';
import type { ProviderEventApplier } from '../inbound/provider-events';
import type { ProviderGateway } from '../providers/provider-gateway';
import type { CheckoutSessionUseCases } from '../use-cases/checkout-sessions';
import type { ActionOutcome, Scheduler } from './scheduler';

const ACTOR = 'system:scheduler';

/**
 * Follows checkouts the provider answers later (server-to-server: processing, maybe a 3-D Secure step), honouring its
 * Retry-After, until they are final or expire (the reconciler's checkout sweep takes expired ones). A completed one
 * whose subscription is still INCOMPLETE is caught up at once: its webhooks may lag. Waiting is not failing: a poll
 * that finds the checkout still in progress moves its action instead of counting an attempt.
 */
export class CheckoutPolls {
  constructor(
    private readonly uow: UnitOfWork,
    private readonly gateway: ProviderGateway,
    private readonly sessions: CheckoutSessionUseCases,
    private readonly applier: ProviderEventApplier,
    private readonly clock: Clock,
  ) {}

  register(scheduler: Scheduler): void {
    scheduler.register(CHECKOUT_POLL, (action, signal) => this.run(action, signal));
  }

  private async run(action: ScheduledAction, signal: AbortSignal): Promise<ActionOutcome> {
    const stored = await this.uow.reads.checkoutSessions.get(action.subjectId);
    if (!stored) return 'done';
    if (isFinalCheckout(stored.status)) {
      // Complete on the provider's first answer: its subscription is caught up in case the webhook never comes.
      const sold = stored.subscriptionId ? await this.uow.reads.subscriptions.get(stored.subscriptionId) : undefined;
      if (stored.status === 'COMPLETE' && sold?.status === 'INCOMPLETE') await this.catchUp(sold.id, action.id, signal);
      return 'done';
    }
    const now = this.clock.now();
    if (stored.expiresAt && stored.expiresAt <= now) return 'done';
    const { session, subscription } = await this.sessions.get(stored.id, { ...systemContext(action.id), signal });
    if (session.status === 'COMPLETE' && subscription?.status === 'INCOMPLETE') {
      await this.catchUp(subscription.id, action.id, signal);
      return 'done';
    }
    if (isFinalCheckout(session.status)) return 'done';
    await this.uow.transaction((repos) =>
      repos.scheduledActions.schedule({
        kind: CHECKOUT_POLL,
        subjectId: session.id,
        storefrontId: session.storefrontId,
        dueAt: nextCheckoutPoll(session, now),
      }),
    );
    return 'done';
  }

  /**
   * Fetches the subscription the completed checkout created and applies it, as its webhook would have: asked
   * first, then locked and applied (a webhook that came meanwhile makes this stale or unchanged).
   */
  private async catchUp(subscriptionId: string, correlationId: string, signal: AbortSignal): Promise<void> {
    const reads = this.uow.reads;
    const seen = await reads.subscriptions.get(subscriptionId);
    const storefront = seen && (await reads.storefronts.get(seen.storefrontId));
    if (seen?.status !== 'INCOMPLETE' || !storefront) return;
    const connection = await this.gateway.connect(reads, storefront, seen.provider, {
      ...systemContext(correlationId),
      signal,
    });
    const fresh = await connection.operation('getSubscription')(connection.ctx, await handleOf(reads, seen));
    if (!fresh) return;
    await this.uow.transaction(async (repos) => {
      const locked = await repos.subscriptions.get(subscriptionId, { forUpdate: true });
      if (locked?.status !== 'INCOMPLETE') return;
      const origin = { provider: locked.provider, storefront, correlationId, features: connection.provider.features };
      await this.applier.applyFetched(repos, origin, locked, fresh, { actor: ACTOR, correlationId });
    });
  }
}
