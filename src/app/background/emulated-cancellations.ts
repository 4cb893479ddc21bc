import type { Logger } from 'pino';
import { isTerminal } from '../../domain/subscription';
import type { Clock } from '../../ports/clock.port';
import type { ScheduledAction, UnitOfWork } from '../../ports/store.port';
import { CANCEL_AT_PERIOD_END, cancellationDue, providerCanceledAt } from '../engine/emulated-cancellation';
import type { ProviderEventApplier } from '../inbound/provider-events';
import { LateRenewal, lateRenewalOf, recordLateRenewal, refundLateRenewal } from './late-cancellation-renewal';
import { applyOwnChange } from '../engine/subscription-changes';
import { handleOf } from '../engine/subscription-handle';
import type { ProviderGateway } from '../providers/provider-gateway';
import type { ActionOutcome, Scheduler } from './scheduler';

const ACTOR = 'system:scheduler';

/**
 * Runs the cancellations scheduled at period end for providers that cannot schedule them (features
 * `cancelAtPeriodEnd: emulated`): just before the boundary it cancels at the provider (so no renewal is charged) and
 * ends the subscription at its period end. A revoke before then removed the action; a subscription that ended
 * meanwhile, or whose cancellation was revoked, is left alone. The provider call carries the action id as its
 * idempotency, so a run repeated after a crash never cancels twice. A run that comes late and finds the provider
 * already renewed still ends ours at our period end, and refunds the renewal charge where the provider can refund,
 * else reports it (late-cancellation-renewal). Where the provider cancelled on its own before our period end (held by
 * holdUntilPeriodEnd), the run only ends ours, at the period end.
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
    const alreadyCanceled = providerCanceledAt(action.payload);
    // Once the provider ended it, ours ends exactly at the period end; otherwise the provider is told just before.
    const due = seen.currentPeriodEnd
      ? alreadyCanceled
        ? seen.currentPeriodEnd
        : cancellationDue(seen.currentPeriodEnd, now)
      : now;
    if (due > now) {
      // The period end moved since this was scheduled (a longer plan, an early renewal): wait for the new one.
      await this.uow.transaction((repos) =>
        repos.scheduledActions.schedule({
          kind: CANCEL_AT_PERIOD_END,
          subjectId: seen.id,
          storefrontId: seen.storefrontId,
          dueAt: due,
          payload: action.payload,
        }),
      );
      return 'done';
    }
    const storefront = (await reads.storefronts.get(seen.storefrontId))!;
    const connection = await this.gateway.connect(reads, storefront, seen.provider, {
      signal,
      idempotencyKey: action.id,
    });
    let renewal: LateRenewal | undefined;
    if (!alreadyCanceled) {
      const handle = await handleOf(reads, seen);
      // Asked first: a run that comes late may find the provider already renewed (and charged) the next period.
      const fresh = await connection.operation('getSubscription')(connection.ctx, handle);
      renewal = seen.currentPeriodEnd ? lateRenewalOf(fresh, seen.currentPeriodEnd) : undefined;
      if (fresh?.status !== 'CANCELED') {
        const reason = typeof action.payload.reason === 'string' ? action.payload.reason : '';
        const outcome = await connection.operation('cancelSubscription')(connection.ctx, handle, {
          atPeriodEnd: false,
          reason,
        });
        // The provider confirms later by webhook; nothing is changed or emitted before it does.
        if (outcome.kind === 'accepted' && !renewal) return 'done';
        if (outcome.kind === 'applied' && seen.currentPeriodEnd && !renewal) {
          renewal = lateRenewalOf(outcome.state, seen.currentPeriodEnd);
        }
      }
      if (renewal) renewal = await refundLateRenewal(connection, seen, renewal, action.id);
    }
    return this.uow.transaction(async (repos): Promise<ActionOutcome> => {
      const locked = (await repos.subscriptions.get(seen.id, { forUpdate: true }))!;
      if (isTerminal(locked.status) || !locked.cancelAtPeriodEnd) return 'done';
      const at = this.clock.now();
      const source = { actor: ACTOR, correlationId: action.id };
      // Access ends with the period that was paid for, not when the provider's cancellation webhook arrives.
      const { subscription } = await applyOwnChange(
        repos,
        storefront,
        locked,
        { status: 'CANCELED', canceledAt: at, endedAt: locked.currentPeriodEnd ?? at },
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
}
