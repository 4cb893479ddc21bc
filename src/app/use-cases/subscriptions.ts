import { failedPrecondition, invalidArgument } from '../../domain/errors';
import type { Storefront } from '../../domain/storefront';
import { isTerminal, Subscription, SubscriptionStatus } from '../../domain/subscription';
import { Validator } from '../../domain/validation';
import type { Clock } from '../../ports/clock.port';
import type {
  MutationOutcome,
  ProviderCallContext,
  ProviderOperations,
  ProviderSubscriptionState,
  SubscriptionHandle,
} from '../../ports/provider-adapter.port';
import type { Repositories, UnitOfWork } from '../../ports/store.port';
import type { CallContext } from '../call-context';
import {
  CANCEL_AT_PERIOD_END,
  latestCancellation,
  cancellationDue,
  providerCanceledAt,
  providerCancelSentAt,
} from '../engine/emulated-cancellation';
import { applyOwnChange, applySubscriptionState } from '../engine/subscription-changes';
import { followProviderRef } from '../engine/subscription-handle';
import type { ProviderGateway } from '../providers/provider-gateway';
import { pageOf, readPage } from './pagination';
import { effectOf, recordEffect, resuming } from './pending-effects';
import {
  handleOf,
  loadSubscription,
  requireProviderRef,
  sellablePlan,
  storefrontOf,
  termsOf,
} from './subscription-lookup';

type Mutation =
  | 'cancelSubscription'
  | 'revokeCancellation'
  | 'pauseSubscription'
  | 'resumeSubscription'
  | 'changePlan'
  | 'updateQuantity';

/**
 * Reads and changes subscriptions. Every change goes to the provider the subscription is pinned to; what the
 * provider answers is applied through the state machine: its new state now (`applied`), or nothing until its
 * webhook confirms (`accepted`, e.g. a plan change that waits for its proration charge).
 */
export class SubscriptionUseCases {
  constructor(
    private readonly uow: UnitOfWork,
    private readonly gateway: ProviderGateway,
    private readonly clock: Clock,
    /** Where `get` reads (a cache that drops changed subscriptions); else the store. Changes always read the store. */
    private readonly reads: { get(id: string): Promise<Subscription | undefined> } = uow.reads.subscriptions,
  ) {}

  get(subscriptionId: string): Promise<Subscription> {
    return loadSubscription({ subscriptions: this.reads }, subscriptionId);
  }

  async list(
    filter: { storefrontId: string; customerId: string; statuses: SubscriptionStatus[] },
    pageSize: number,
    pageToken: string,
  ) {
    if (!filter.storefrontId && !filter.customerId) {
      throw invalidArgument([{ field: 'storefront_id', rule: 'storefront_id or customer_id is required' }]);
    }
    const page = readPage(pageSize, pageToken);
    const items = await this.uow.reads.subscriptions.list(
      {
        storefrontId: filter.storefrontId || undefined,
        customerId: filter.customerId || undefined,
        statuses: filter.statuses,
      },
      { size: page.size + 1, afterId: page.after },
    );
    return pageOf(items, page, (s) => s.id);
  }

  async cancel(input: { subscriptionId: string; atPeriodEnd: boolean; reason: string }, ctx: CallContext) {
    new Validator().maxLength('reason', input.reason, 500).check();
    const current = await loadSubscription(this.uow.reads, input.subscriptionId);
    const emulated = input.atPeriodEnd && this.gateway.features(current.provider)?.cancelAtPeriodEnd === 'emulated';
    // A retry of a cancellation that may have happened resumes it, whatever our copy says by now.
    if (!resuming(ctx, 'cancelSubscription')) {
      if (isTerminal(current.status))
        throw failedPrecondition(`subscription '${current.id}' is already ${current.status}`);
      // Emulated: asked again, it re-schedules an action that ran out of attempts (emulatedCancellation).
      if (input.atPeriodEnd && current.cancelAtPeriodEnd && !emulated) return current;
    }
    if (emulated) return this.emulatedCancellation(current, true, ctx, input.reason);
    return this.providerChange(current, ctx, {
      operation: 'cancelSubscription',
      run: (op, c, handle) => op(c, handle, { atPeriodEnd: input.atPeriodEnd, reason: input.reason }),
      done: (state) => isTerminal(state.status) || (input.atPeriodEnd && state.cancelAtPeriodEnd === true),
    });
  }

  async revokeCancellation(subscriptionId: string, ctx: CallContext) {
    const current = await loadSubscription(this.uow.reads, subscriptionId);
    const resumed = resuming(ctx, 'revokeCancellation');
    if (!resumed && (!current.cancelAtPeriodEnd || isTerminal(current.status))) {
      throw failedPrecondition(`subscription '${current.id}' has no scheduled cancellation to revoke`);
    }
    if (this.gateway.features(current.provider)?.cancelAtPeriodEnd === 'emulated') {
      return this.emulatedCancellation(current, false, ctx);
    }
    return this.providerChange(current, ctx, {
      operation: 'revokeCancellation',
      run: (op, c, handle) => op(c, handle),
      done: (state) => state.cancelAtPeriodEnd === false,
    });
  }

  async pause(subscriptionId: string, resumeAt: Date | undefined, ctx: CallContext) {
    const current = await loadSubscription(this.uow.reads, subscriptionId);
    return this.providerChange(current, ctx, {
      operation: 'pauseSubscription',
      run: (op, c, handle) => op(c, handle, resumeAt),
    });
  }

  async resume(subscriptionId: string, ctx: CallContext) {
    const current = await loadSubscription(this.uow.reads, subscriptionId);
    return this.providerChange(current, ctx, {
      operation: 'resumeSubscription',
      run: (op, c, handle) => op(c, handle),
      done: (state) => state.status !== 'PAUSED',
    });
  }

  async changePlan(subscriptionId: string, planId: string, ctx: CallContext) {
    new Validator().required('plan_id', planId).check();
    const current = await loadSubscription(this.uow.reads, subscriptionId);
    const storefront = await storefrontOf(this.uow.reads, current);
    const plan = await sellablePlan(this.uow.reads, this.gateway, storefront, planId, current.provider);
    return this.providerChange(current, ctx, {
      operation: 'changePlan',
      run: (op, c, handle) => op(c, handle, { plan: termsOf(plan, current.provider), quantity: current.quantity }),
      requested: { planId: plan.id },
      storefront,
    });
  }

  async updateQuantity(subscriptionId: string, quantity: number, ctx: CallContext) {
    if (!Number.isInteger(quantity) || quantity < 1 || quantity > 10_000) {
      throw invalidArgument([{ field: 'quantity', rule: 'must be between 1 and 10000' }]);
    }
    const current = await loadSubscription(this.uow.reads, subscriptionId);
    const plan = (await this.uow.reads.plans.get(current.planId))!;
    return this.providerChange(current, ctx, {
      operation: 'updateQuantity',
      run: (op, c, handle) => op(c, handle, { plan: termsOf(plan, current.provider), quantity }),
      requested: { quantity },
    });
  }

  /**
   * Schedules (or revokes) a cancellation the provider cannot schedule itself: the flag and its event are ours, and
   * the scheduler cancels at the provider just before the period ends (src/app/background/emulated-cancellations).
   * Nothing is sent to the provider now; a revoke before then removes the scheduled cancellation.
   */
  private async emulatedCancellation(
    current: Subscription,
    schedule: boolean,
    ctx: CallContext,
    reason = '',
  ): Promise<Subscription> {
    const reads = this.uow.reads;
    const storefront = await storefrontOf(reads, current);
    const connection = await this.gateway.connect(reads, storefront, current.provider, ctx);
    // The provider must be able to cancel at all: that is what the scheduler will ask of it.
    connection.operation('cancelSubscription');
    requireProviderRef(current);
    return this.uow.transaction(async (repos) => {
      const locked = (await repos.subscriptions.get(current.id, { forUpdate: true }))!;
      if (isTerminal(locked.status))
        throw failedPrecondition(`subscription '${locked.id}' is already ${locked.status}`);
      // Whatever its status: one that ran out of attempts after the provider was told still says so.
      const latest = await latestCancellation(repos, locked.id);
      if (locked.cancelAtPeriodEnd === schedule) {
        // Asked again while scheduled: an action that ran out of attempts is scheduled anew, keeping what it knew.
        if (schedule && latest?.status !== 'pending') {
          await this.scheduleCancellation(repos, locked, reason, this.clock.now(), latest?.payload);
        }
        return locked;
      }
      if (!schedule) refuseRevokeOnceTold(locked, latest?.payload);
      if (schedule && !locked.currentPeriodEnd) {
        throw failedPrecondition(`subscription '${locked.id}' has no current period to end`);
      }
      const now = this.clock.now();
      const { subscription } = await applyOwnChange(
        repos,
        storefront,
        locked,
        { status: locked.status, cancelAtPeriodEnd: schedule },
        ctx,
        now,
        connection.provider.features.entitlements,
      );
      if (schedule) await this.scheduleCancellation(repos, locked, reason, now);
      else await repos.scheduledActions.cancel(CANCEL_AT_PERIOD_END, locked.id);
      return subscription;
    }, ctx);
  }

  private async scheduleCancellation(
    repos: Repositories,
    subscription: Subscription,
    reason: string,
    now: Date,
    carried: Record<string, unknown> = {},
  ) {
    await repos.scheduledActions.schedule({
      kind: CANCEL_AT_PERIOD_END,
      subjectId: subscription.id,
      storefrontId: subscription.storefrontId,
      dueAt: cancellationDue(subscription.currentPeriodEnd!, now),
      payload: { ...carried, reason: reason || carried.reason || '' },
    });
  }

  /** Runs one provider mutation on a pinned subscription and applies what the provider answers. */
  private async providerChange<K extends Mutation>(
    current: Subscription,
    ctx: CallContext,
    change: {
      operation: K;
      run: (
        op: NonNullable<ProviderOperations[K]>,
        ctx: ProviderCallContext,
        handle: SubscriptionHandle,
      ) => Promise<MutationOutcome>;
      /** What the caller asked for, applied with the provider's state (ChangePlan's plan, UpdateQuantity's quantity). */
      requested?: Partial<Pick<Subscription, 'planId' | 'quantity'>>;
      storefront?: Storefront;
      /** True when the provider's state shows the change was made (asked first when an earlier attempt may have). */
      done?: (state: ProviderSubscriptionState) => boolean;
    },
  ): Promise<Subscription> {
    const reads = this.uow.reads;
    const storefront = change.storefront ?? (await storefrontOf(reads, current));
    const connection = await this.gateway.connect(reads, storefront, current.provider, ctx);
    const op = connection.operation(change.operation);
    requireProviderRef(current);
    const handle = await handleOf(reads, current);
    // Recorded before the provider is asked; a retry after a failure or crash asks the provider what became of it,
    // and only when the change is not there sends it again (with the same provider idempotency, so never twice).
    const { effect, resumed } = effectOf(ctx, change.operation, () => ({ subjectId: current.id }));
    const asked =
      resumed && change.done ? await connection.operation('getSubscription')(connection.ctx, handle) : undefined;
    if (!resumed) await recordEffect(ctx, effect);
    // A state the provider does not date was true when we asked, not when our transaction got the lock.
    const askedAt = this.clock.now();
    const outcome: MutationOutcome =
      asked && change.done?.(asked) ? { kind: 'applied', state: asked } : await change.run(op, connection.ctx, handle);
    return this.uow.transaction(async (repos) => {
      const locked = (await repos.subscriptions.get(current.id, { forUpdate: true }))!;
      if (outcome.kind === 'accepted') {
        // Nothing changes and nothing is emitted until the provider confirms by webhook; the request is on record.
        await repos.audit.record({
          ...ctx,
          action: `${change.operation}:accepted`,
          resourceType: 'subscription',
          resourceId: locked.id,
          storefrontId: locked.storefrontId,
          details: { provider: locked.provider, ...change.requested, note: outcome.note },
        });
        return locked;
      }
      const state = outcome.state;
      const now = this.clock.now();
      // A provider that re-issues the subscription (an upgrade) answers with its new reference.
      const target = await followProviderRef(repos, locked, state.ref);
      const { subscription, result } = await applySubscriptionState(
        repos,
        storefront,
        target,
        { ...state, ...change.requested, observedAt: state.observedAt ?? askedAt },
        ctx,
        now,
        connection.provider.features,
        // Our own immediate cancel is answered CANCELED: that ends it now, whatever was scheduled for period end.
        { ownCancel: change.operation === 'cancelSubscription' },
      );
      if (result.outcome === 'refused')
        throw failedPrecondition(`provider answered with a state we cannot apply: ${result.reason}`);
      return subscription;
    }, ctx);
  }
}

/**
 * A revoke once the provider was told to cancel (our scheduler's marker, committed under this lock before it called
 * the provider) or cancelled on its own: the provider ends it whatever we answer, so the revoke is refused.
 */
function refuseRevokeOnceTold(subscription: Subscription, payload: Record<string, unknown> | undefined): void {
  const canceledAt = providerCanceledAt(payload);
  const sentAt = providerCancelSentAt(payload);
  if (!canceledAt && !sentAt) return;
  const why = canceledAt
    ? `was already cancelled at the provider (${canceledAt})`
    : `is being cancelled: the provider was already told to cancel it (${sentAt})`;
  throw failedPrecondition(
    `subscription '${subscription.id}' ${why}; its cancellation can no longer be revoked: ` +
      `it ends at the end of the paid period`,
  );
}
