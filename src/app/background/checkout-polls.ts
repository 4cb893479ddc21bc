import { isFinalCheckout } from '../../domain/checkout-session';
import type { Clock } from '../../ports/clock.port';
import type { ScheduledAction, UnitOfWork } from '../../ports/store.port';
import { systemContext } from '../call-context';
import { CHECKOUT_POLL, nextCheckoutPoll } from '../engine/checkout-polling';
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
      if (stored.status === 'COMPLETE' && sold?.status === 'INCOMPLETE') await this.catchUp(sold.id, action.id);
      return 'done';
    }
    const now = this.clock.now();
    if (stored.expiresAt && stored.expiresAt <= now) return 'done';
    const { session, subscription } = await this.sessions.get(stored.id, { ...systemContext(action.id), signal });
    if (session.status === 'COMPLETE' && subscription?.status === 'INCOMPLETE') {
      await this.catchUp(subscription.id, action.id);
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

  /** Fetches the subscription the completed checkout created and applies it, as its webhook would have. */
  private async catchUp(subscriptionId: string, correlationId: string): Promise<void> {
    await this.uow.transaction(async (repos) => {
      const locked = await repos.subscriptions.get(subscriptionId, { forUpdate: true });
      if (locked?.status !== 'INCOMPLETE') return;
      const storefront = (await repos.storefronts.get(locked.storefrontId))!;
      const features = this.gateway.features(locked.provider);
      if (!features) return;
      await this.applier.reconcile(
        repos,
        { provider: locked.provider, storefront, correlationId, features },
        locked,
        { actor: ACTOR, correlationId },
        'checkout complete',
      );
    });
  }
}
