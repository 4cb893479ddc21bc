import { invalidArgument } from '../../domain/errors';
import { newId } from '../../domain/ids';
import type { UsageRecord } from '../../domain/usage';
import type { Clock } from '../../ports/clock.port';
import type { UnitOfWork } from '../../ports/store.port';
import type { CallContext } from '../call-context';
import type { ProviderGateway } from '../providers/provider-gateway';
import { handleOf, loadSubscription, requireProviderRef, storefrontOf } from './subscription-lookup';

/** Metered usage: recorded at the pinned provider and kept here, read back per period (where it meters usage). */
export class UsageUseCases {
  constructor(
    private readonly uow: UnitOfWork,
    private readonly gateway: ProviderGateway,
    private readonly clock: Clock,
  ) {}

  async recordUsage(input: { subscriptionId: string; quantity: bigint; timestamp?: Date }, ctx: CallContext) {
    if (input.quantity < 1n) throw invalidArgument([{ field: 'quantity', rule: 'must be at least 1' }]);
    const reads = this.uow.reads;
    const subscription = await loadSubscription(reads, input.subscriptionId);
    const now = this.clock.now();
    const timestamp = input.timestamp ?? now;
    if (timestamp.getTime() > now.getTime() + 300_000) {
      throw invalidArgument([{ field: 'timestamp', rule: 'must not be in the future' }]);
    }
    const storefront = await storefrontOf(reads, subscription);
    const connection = await this.gateway.connect(reads, storefront, subscription.provider, ctx);
    const record = connection.operation('recordUsage');
    requireProviderRef(subscription);
    const recorded = await record(connection.ctx, await handleOf(reads, subscription), {
      quantity: input.quantity,
      timestamp,
    });
    const usage: UsageRecord = {
      id: newId('use'),
      subscriptionId: subscription.id,
      quantity: input.quantity,
      occurredAt: timestamp,
      providerRef: recorded.ref,
      createdAt: now,
    };
    // The provider's record id identifies the usage: a replayed call stores (and returns) the first record.
    return this.uow.transaction(async (repos) => {
      const stored = await repos.usage.insert(usage, `${connection.provider.id}:${recorded.ref}`);
      if (stored.id === usage.id) {
        await repos.audit.record({
          ...ctx,
          action: 'RecordUsage',
          resourceType: 'usage',
          resourceId: usage.id,
          storefrontId: subscription.storefrontId,
          details: { quantity: usage.quantity.toString() },
        });
      }
      return stored;
    }, ctx);
  }

  async getUsage(input: { subscriptionId: string; periodStart?: Date; periodEnd?: Date }) {
    const subscription = await loadSubscription(this.uow.reads, input.subscriptionId);
    // Usage is kept here, but only for providers that meter it: elsewhere there is none to read, and an empty
    // answer would claim a capability the storefront's list denies (and that RecordUsage refuses).
    this.gateway.requireOperation(subscription.provider, 'getUsage', subscription.storefrontId);
    const start = input.periodStart ?? subscription.currentPeriodStart;
    const end = input.periodEnd ?? (input.periodStart ? undefined : subscription.currentPeriodEnd);
    if (start && end && end <= start)
      throw invalidArgument([{ field: 'period_end', rule: 'must be after period_start' }]);
    const records = await this.uow.reads.usage.list(subscription.id, { start, end });
    return { totalQuantity: records.reduce((sum, r) => sum + r.quantity, 0n), records };
  }
}
