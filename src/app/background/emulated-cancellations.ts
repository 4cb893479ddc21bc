import type { Logger } from 'pino';
import type { Storefront } from '../../domain/storefront';
import { isTerminal, Subscription } from '../../domain/subscription';
import type { Clock } from '../../ports/clock.port';
import type { ActorContext, Repositories, ScheduledAction, UnitOfWork } from '../../ports/store.port';
import {
  CANCEL_AT_PERIOD_END,
  cancellationDue,
  PROVIDER_CANCEL_SENT_AT,
  PROVIDER_CANCELED_AT,
  providerCanceledAt,
  providerCancelSentAt,
} from '../engine/emulated-cancellation';
import type { ProviderEventApplier } from '../inbound/provider-events';
import {
  LATE_RENEWAL_SETTLED_AT,
  LateRenewal,
  lateRenewalAgain,
  lateRenewalOf,
  noteOf,
  recordLateRenewal,
  refundLateRenewal,
  unsettledLateRenewal,
} from './late-cancellation-renewal';
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
    if (!seen) return 'done';
    // Ended meanwhile (past our period end the provider's own cancellation is no longer held): a late renewal this
    // job found after telling the provider is still refunded or reported.
    const noted = unsettledLateRenewal(action.payload);
    if (isTerminal(seen.status) && noted && providerCancelSentAt(action.payload)) {
      return this.settleAfterEnd(seen, action, noted, signal);
    }
    if (isTerminal(seen.status) || !seen.cancelAtPeriodEnd) return 'done';
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
    // An earlier run found a renewal and ended before recording it (its refund failed, say): refunded now.
    else if (noted) renewal = await this.renewalNoted(connection, seen, action, noted);
    return this.uow.transaction(async (repos): Promise<ActionOutcome> => {
      const locked = (await repos.subscriptions.get(seen.id, { forUpdate: true }))!;
      const source = { actor: ACTOR, correlationId: action.id };
      if (isTerminal(locked.status) && renewal) {
        // Ended meanwhile by the provider's cancellation: the renewal found is recorded all the same.
        await this.recordRenewal(repos, storefront, connection, locked, renewal, source);
        return 'done';
      }
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
      if (renewal) await this.recordRenewal(repos, storefront, connection, subscription, renewal, source);
      return 'done';
    });
  }

  /**
   * A late renewal noted by an earlier run that ended before recording it, on a subscription that ended since: its
   * charge refunded where the provider can (the same refund id, so never twice), and recorded.
   */
  private async settleAfterEnd(
    seen: Subscription,
    action: ScheduledAction,
    noted: { paymentRef?: string },
    signal: AbortSignal,
  ): Promise<ActionOutcome> {
    const reads = this.uow.reads;
    const storefront = (await reads.storefronts.get(seen.storefrontId))!;
    const connection = await this.gateway.connect(reads, storefront, seen.provider, {
      signal,
      idempotencyKey: action.id,
    });
    const renewal = await this.renewalNoted(connection, seen, action, noted);
    return this.uow.transaction(async (repos): Promise<ActionOutcome> => {
      const locked = (await repos.subscriptions.get(seen.id, { forUpdate: true }))!;
      const source = { actor: ACTOR, correlationId: action.id };
      await this.recordRenewal(repos, storefront, connection, locked, renewal, source);
      return 'done';
    });
  }

  /** The late renewal an earlier run noted, as the provider shows it now, refunded where it can be (same refund id). */
  private async renewalNoted(
    connection: ProviderConnection,
    seen: Subscription,
    action: ScheduledAction,
    noted: { paymentRef?: string },
  ): Promise<LateRenewal> {
    const fresh = await connection.operation('getSubscription')(connection.ctx, await handleOf(this.uow.reads, seen));
    const renewal = lateRenewalAgain(fresh, seen.currentPeriodEnd, noted);
    return refundLateRenewal(connection, seen, renewal, action.id);
  }

  /** Records a late renewal, and marks it settled on the scheduled cancellation in the same transaction. */
  private async recordRenewal(
    repos: Repositories,
    storefront: Storefront,
    connection: ProviderConnection,
    subscription: Subscription,
    renewal: LateRenewal,
    source: ActorContext,
  ): Promise<void> {
    const origin = {
      provider: subscription.provider,
      storefront,
      correlationId: source.correlationId,
      features: connection.provider.features,
    };
    await recordLateRenewal(repos, this.applier, origin, subscription, renewal, source, this.logger);
    await repos.scheduledActions.annotate(CANCEL_AT_PERIOD_END, subscription.id, {
      [LATE_RENEWAL_SETTLED_AT]: this.clock.now().toISOString(),
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
    if (renewal) await this.note(seen, renewal);
    if (!canceled) {
      const reason = typeof action.payload.reason === 'string' ? action.payload.reason : '';
      const outcome = await connection.operation('cancelSubscription')(connection.ctx, handle, {
        atPeriodEnd: false,
        reason,
      });
      // `accepted`: the provider confirms later (its webhook is held); the run at period end asks it again.
      if (outcome.kind === 'applied') {
        if (end && !renewal) {
          renewal = lateRenewalOf(outcome.state, end);
          if (renewal) await this.note(seen, renewal);
        }
        if (outcome.state.status === 'CANCELED') canceled = outcome.state;
      }
    }
    if (renewal) renewal = await refundLateRenewal(connection, seen, renewal, action.id);
    return { renewal, canceledAt: canceled && (canceled.canceledAt ?? this.clock.now()).toISOString() };
  }

  /** Notes a late renewal on the scheduled cancellation before its refund is asked for (see LATE_RENEWAL). */
  private async note(seen: Subscription, renewal: LateRenewal): Promise<void> {
    await this.uow.transaction((repos) =>
      repos.scheduledActions.annotate(CANCEL_AT_PERIOD_END, seen.id, noteOf(renewal)),
    );
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
