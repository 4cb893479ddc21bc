import type { Subscription } from '../../domain/subscription';
import type { ProviderSubscriptionState } from '../../ports/provider-adapter.port';
import type { LiveCheckRules } from '../../ports/store.port';
import { handleOf } from '../engine/subscription-handle';
import type { ProviderConnection } from '../providers/provider-gateway';
import { connectSweep, Sweep, SweepDeps } from './sweep';

export const LIVE_SUBSCRIPTION_KIND = 'live_subscription';

/**
 * Live subscriptions (TRIALING, ACTIVE, PAST_DUE) whose webhooks may have been lost: past their period end plus a
 * grace with no renewal heard of, or not heard of at all for a long while. The provider's current state is applied
 * through the state machine, so a lost renewal, dunning step or cancellation is caught up with its events, once.
 */
export class SubscriptionSweep implements Sweep {
  readonly kind = LIVE_SUBSCRIPTION_KIND;
  private readonly rules: LiveCheckRules;

  constructor(
    private readonly deps: SweepDeps,
    rules: { periodEndGraceMs: number; silenceMs: number },
  ) {
    this.rules = { ...rules, retryAfterMs: deps.settings.recheckAfterMs, failuresKind: LIVE_SUBSCRIPTION_KIND };
  }

  due(now: Date, limit: number): Promise<string[]> {
    return this.deps.uow.reads.liveSubscriptions.listDue(now, this.rules, limit);
  }

  /** The failure row the reconciler records spaces the next try (`retryAfterMs`); nothing to write here. */
  async postpone(): Promise<void> {}

  /** Likewise: the given-up failure row keeps the subscription out of `due`. */
  async park(): Promise<void> {}

  async settle(id: string, _now: Date, signal?: AbortSignal): Promise<string> {
    const { uow, clock } = this.deps;
    const seen = await uow.reads.subscriptions.get(id);
    if (!seen) return 'gone';
    const link = await connectSweep(this.deps, uow.reads, seen.storefrontId, seen.provider, signal);
    const fresh = await this.ask(link.connection, seen);

    return uow.transaction(async (repos) => {
      if (!(await repos.liveSubscriptions.lock(id))) return 'no longer live, or taken by another replica';
      await repos.liveSubscriptions.markChecked(id, clock.now());
      if (!fresh) return 'the provider cannot tell';
      const current = (await repos.subscriptions.get(id))!;
      return this.deps.applier.applyFetched(repos, link.origin, current, fresh, link.source);
    });
  }

  /** Every provider call this sweep makes, before any lock. */
  private async ask(
    connection: ProviderConnection,
    seen: Subscription,
  ): Promise<ProviderSubscriptionState | undefined> {
    return connection.operation('getSubscription')(connection.ctx, await handleOf(this.deps.uow.reads, seen));
  }
}
