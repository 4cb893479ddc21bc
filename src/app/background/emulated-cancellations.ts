import type { Logger } from 'pino';
import { isTerminal } from '../../domain/subscription';
import type { Clock } from '../../ports/clock.port';
import type { ScheduledAction, UnitOfWork } from '../../ports/store.port';
import { CANCEL_AT_PERIOD_END, cancellationDue } from '../engine/emulated-cancellation';
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
 * idempotency, so a run repeated after a crash never cancels twice.
 */
export class EmulatedCancellations {
  constructor(
    private readonly uow: UnitOfWork,
    private readonly gateway: ProviderGateway,
    private readonly clock: Clock,
    private readonly logger: Pick<Logger, 'warn'>,
  ) {}

  register(scheduler: Scheduler): void {
    scheduler.register(CANCEL_AT_PERIOD_END, (action, signal) => this.run(action, signal));
  }

  private async run(action: ScheduledAction, signal: AbortSignal): Promise<ActionOutcome> {
    const reads = this.uow.reads;
    const seen = await reads.subscriptions.get(action.subjectId);
    if (!seen || isTerminal(seen.status) || !seen.cancelAtPeriodEnd) return 'done';
    const now = this.clock.now();
    if (seen.currentPeriodEnd && cancellationDue(seen.currentPeriodEnd, now) > now) {
      // The period end moved since this was scheduled (a longer plan, an early renewal): wait for the new one.
      await this.uow.transaction((repos) =>
        repos.scheduledActions.schedule({
          kind: CANCEL_AT_PERIOD_END,
          subjectId: seen.id,
          storefrontId: seen.storefrontId,
          dueAt: cancellationDue(seen.currentPeriodEnd!, now),
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
    const cancel = connection.operation('cancelSubscription');
    const reason = typeof action.payload.reason === 'string' ? action.payload.reason : '';
    const outcome = await cancel(connection.ctx, await handleOf(reads, seen), { atPeriodEnd: false, reason });
    // The provider confirms later by webhook; nothing is changed or emitted before it does.
    if (outcome.kind === 'accepted') return 'done';
    if (seen.currentPeriodEnd && outcome.state.currentPeriodEnd) {
      if (outcome.state.currentPeriodEnd > seen.currentPeriodEnd) {
        // The provider renewed before we cancelled (the action ran late): the new period was charged.
        this.logger.warn(
          { subscription_id: seen.id, provider: seen.provider },
          'emulated cancel at period end ran after the provider renewed; the renewal charge stands',
        );
      }
    }
    return this.uow.transaction(async (repos): Promise<ActionOutcome> => {
      const locked = (await repos.subscriptions.get(seen.id, { forUpdate: true }))!;
      if (isTerminal(locked.status) || !locked.cancelAtPeriodEnd) return 'done';
      const at = this.clock.now();
      // Access ends with the period that was paid for, not when the provider's cancellation webhook arrives.
      await applyOwnChange(
        repos,
        storefront,
        locked,
        { status: 'CANCELED', canceledAt: at, endedAt: locked.currentPeriodEnd ?? at },
        { actor: ACTOR, correlationId: action.id },
        at,
        connection.provider.features.entitlements,
      );
      return 'done';
    });
  }
}
