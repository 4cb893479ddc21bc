import type { Logger } from 'pino';
import { isTerminal, Subscription } from '../../domain/subscription';
import type { Clock } from '../../ports/clock.port';
import type { Repositories, ScheduledAction, UnitOfWork } from '../../ports/store.port';
import {
  CANCEL_AT_PERIOD_END,
  cancellationDue,
  PROVIDER_CANCEL_SENT_AT,
  PROVIDER_CANCELED_AT,
  providerCanceledAt,
  providerCancelSentAt,
} from '../engine/emulated-cancellation';
import type { ProviderEventApplier } from '../inbound/provider-events';
import { LateRenewal, lateRenewalOf, recordLateRenewal, refundLateRenewal } from './late-cancellation-renewal';
import { applyOwnChange } from '../engine/subscription-changes';
import { handleOf } from '../engine/subscription-handle';
import type { ProviderConnection, ProviderGateway } from '../providers/provider-gateway';
import type { ActionOutcome, Scheduler } from './scheduler';

const ACTOR = 'system:scheduler';

/**
 * Runs the cancellations scheduled at period end for providers that cannot schedule them (features
 * `cancelAtPeriodEnd: emulated`). Just before the boundary it cancels at the provider (so no renewal is charged) and
 * moves itself to the period end, when it ends ours: access lasts the period paid for, and the provider's
 * cancellation webhook meanwhile is held (holdUntilPeriodEnd). Before the provider is called, a marker is committed
 * under the subscription's lock, so a revoke is either before it (nothing is sent) or refused after it. A subscription
 * that ended meanwhile, or whose cancellation was revoked, is left alone. The provider call carries the action id as
 * its idempotency, so a run repeated after a crash never cancels twice. A run that comes late and finds the provider
 * already renewed ends ours at once (at our period end), and refunds the renewal charge where the provider can
 * refund, else reports it (late-cancellation-renewal); the renewal itself was never applied (withholdRenewal).
 */
export class EmulatedCancellations {
  constructor(
    private readonly uow: UnitOfWork,
    private readonly gateway: ProviderGateway,
    private readonly clock: Clock,
    private readonly logger: Pick<Logger, 'warn'>,
    /** Records a renewal charge found when the run came late (as a payment of the subscription, and its refund). */
    private readonly applier: ProviderEventApplier,
  ) {}

  register(scheduler: Scheduler): void {
    scheduler.register(CANCEL_AT_PERIOD_END, (action, signal) => this.run(action, signal));
  }

  private async run(action: ScheduledAction, signal: AbortSignal): Promise<ActionOutcome> {
    const reads = this.uow.reads;
    const seen = await reads.subscriptions.get(action.subjectId);
    if (!seen || isTerminal(seen.status) || !seen.cancelAtPeriodEnd) return 'done';
    const now = this.clock.now();
    let canceledAt = providerCanceledAt(action.payload);
    // Once the provider ended it, ours ends exactly at the period end; otherwise the provider is told just before.
    const due = seen.currentPeriodEnd
      ? canceledAt
        ? seen.currentPeriodEnd
        : cancellationDue(seen.currentPeriodEnd, now)
      : now;
    if (due > now) {
      // The period end moved since this was scheduled (a longer plan): wait for the new one.
      await this.uow.transaction((repos) => this.moveTo(repos, seen, due, action.payload));
      return 'done';
    }
    const storefront = (await reads.storefronts.get(seen.storefrontId))!;
    const connection = await this.gateway.connect(reads, storefront, seen.provider, {
      signal,
      idempotencyKey: action.id,
    });
    let renewal: LateRenewal | undefined;
    if (!canceledAt) {
      const marked = await this.markSent(seen);
      if (!marked) return 'done';
      canceledAt = providerCanceledAt(marked.payload);
    }
    if (!canceledAt) ({ renewal, canceledAt } = await this.cancelAtProvider(connection, seen, action));
    return this.uow.transaction(async (repos): Promise<ActionOutcome> => {
      const locked = (await repos.subscriptions.get(seen.id, { forUpdate: true }))!;
      if (isTerminal(locked.status) || !locked.cancelAtPeriodEnd) return 'done';
      const at = this.clock.now();
      const periodEnd = locked.currentPeriodEnd;
      if (!renewal && periodEnd && periodEnd > at) {
        // Told ahead of the boundary: ours ends at the period end, by this action moved there.
        const pending = await repos.scheduledActions.pending(CANCEL_AT_PERIOD_END, seen.id);
        const told = canceledAt ? { [PROVIDER_CANCELED_AT]: canceledAt } : {};
        await this.moveTo(repos, locked, periodEnd, { ...pending?.payload, ...told });
        return 'done';
      }
      const source = { actor: ACTOR, correlationId: action.id };
      // Access ends with the period that was paid for, not when the provider's cancellation webhook arrives.
      const { subscription } = await applyOwnChange(
        repos,
        storefront,
        locked,
        { status: 'CANCELED', canceledAt: at, endedAt: periodEnd ?? at },
        source,
        at,
        connection.provider.features.entitlements,
      );
      if (renewal) {
        const origin = {
          provider: seen.provider,
          storefront,
          correlationId: action.id,
          features: connection.provider.features,
        };
        await recordLateRenewal(repos, this.applier, origin, subscription, renewal, source, this.logger);
      }
      return 'done';
    });
  }

  /**
   * Commits, under the subscription's lock, that the provider is being told to cancel; a revoke is refused from then
   * on. Undefined (nothing is sent) when the cancellation was revoked or the subscription ended meanwhile.
   */
  private markSent(seen: Subscription): Promise<ScheduledAction | undefined> {
    return this.uow.transaction(async (repos) => {
      const locked = await repos.subscriptions.get(seen.id, { forUpdate: true });
      if (!locked || isTerminal(locked.status) || !locked.cancelAtPeriodEnd) return undefined;
      const pending = await repos.scheduledActions.pending(CANCEL_AT_PERIOD_END, seen.id);
      if (!pending || providerCancelSentAt(pending.payload)) return pending;
      const sentAt = this.clock.now().toISOString();
      return repos.scheduledActions.annotate(CANCEL_AT_PERIOD_END, seen.id, { [PROVIDER_CANCEL_SENT_AT]: sentAt });
    });
  }

  /**
   * Cancels at the provider, unless it shows the subscription cancelled already. A renewal it charged first (the run
   * came late) is refunded where it can be. Says when the provider cancelled, when its answer shows it.
   */
  private async cancelAtProvider(
    connection: ProviderConnection,
    seen: Subscription,
    action: ScheduledAction,
  ): Promise<{ renewal?: LateRenewal; canceledAt?: string }> {
    const end = seen.currentPeriodEnd;
    const handle = await handleOf(this.uow.reads, seen);
    // Asked first: a run that comes late may find the provider already renewed (and charged) the next period.
    const fresh = await connection.operation('getSubscription')(connection.ctx, handle);
    let renewal = end ? lateRenewalOf(fresh, end) : undefined;
    let canceled = fresh?.status === 'CANCELED' ? fresh : undefined;
    if (!canceled) {
      const reason = typeof action.payload.reason === 'string' ? action.payload.reason : '';
      const outcome = await connection.operation('cancelSubscription')(connection.ctx, handle, {
        atPeriodEnd: false,
        reason,
      });
      // `accepted`: the provider confirms later (its webhook is held); the run at period end asks it again.
      if (outcome.kind === 'applied') {
        if (end && !renewal) renewal = lateRenewalOf(outcome.state, end);
        if (outcome.state.status === 'CANCELED') canceled = outcome.state;
      }
    }
    if (renewal) renewal = await refundLateRenewal(connection, seen, renewal, action.id);
    return { renewal, canceledAt: canceled && (canceled.canceledAt ?? this.clock.now()).toISOString() };
  }

  private async moveTo(repos: Repositories, subscription: Subscription, dueAt: Date, payload: Record<string, unknown>) {
    await repos.scheduledActions.schedule({
      kind: CANCEL_AT_PERIOD_END,
      subjectId: subscription.id,
      storefrontId: subscription.storefrontId,
      dueAt,
      payload,
    });
  }
}
