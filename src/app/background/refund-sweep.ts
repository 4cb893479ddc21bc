import { notFound } from '../../domain/errors';
import type { ProviderRefundState } from '../../ports/provider-adapter.port';
import type { ProviderConnection } from '../providers/provider-gateway';
import { connectSweep, NEVER, Sweep, SweepDeps } from './sweep';

/**
 * Refunds still PENDING a while after they were requested (or last asked about): settled from the provider's
 * refund, with the same events its webhook would have brought.
 */
export class RefundSweep implements Sweep {
  readonly kind = 'refund';

  constructor(
    private readonly deps: SweepDeps,
    /** A refund pending this long since requested or last asked about is asked about. */
    private readonly checkAfterMs: number,
  ) {}

  due(now: Date, limit: number): Promise<string[]> {
    return this.deps.uow.reads.refunds.listDueForReconciliation(this.checkedBefore(now), limit);
  }

  postpone(id: string): Promise<void> {
    return this.deps.uow.reads.refunds.markChecked(id, this.deps.clock.now());
  }

  park(id: string): Promise<void> {
    return this.deps.uow.reads.refunds.markChecked(id, NEVER);
  }

  async settle(id: string, now: Date, signal?: AbortSignal): Promise<string> {
    const { uow, clock } = this.deps;
    const seen = await uow.reads.refunds.get(id);
    if (!seen || seen.status !== 'PENDING') return 'settled meanwhile';
    const payment = await uow.reads.payments.get(seen.paymentId);
    if (!payment) throw notFound('payment', seen.paymentId);
    const link = await connectSweep(this.deps, uow.reads, payment.storefrontId, payment.provider, signal);
    const state = await this.ask(link.connection, seen.providerRef);

    return uow.transaction(async (repos) => {
      // Payment before refund: the order a refund webhook locks them in.
      await repos.payments.get(payment.id, { forUpdate: true });
      const refund = await repos.refunds.lockDueForReconciliation(id, this.checkedBefore(now));
      if (!refund) return 'settled meanwhile, or taken by another replica';
      if (!state || state.status === 'PENDING') {
        await repos.refunds.markChecked(id, clock.now());
        return state ? 'still pending at the provider' : 'the provider cannot tell';
      }
      const outcome = state.status === 'SUCCEEDED' ? 'succeeded' : 'failed';
      return this.deps.applier.applyRefund(repos, link.origin, state, outcome, link.source);
    });
  }

  /** Every provider call this sweep makes, before any lock. */
  private async ask(
    connection: ProviderConnection,
    refundRef: string | undefined,
  ): Promise<ProviderRefundState | undefined> {
    const getRefund = connection.optional('getRefund');
    return refundRef && getRefund ? getRefund(connection.ctx, refundRef) : undefined;
  }

  private checkedBefore(now: Date): Date {
    return new Date(now.getTime() - this.checkAfterMs);
  }
}
