import { SUBSCRIPTION_STATUSES, Subscription, SubscriptionStatus } from '../domain/subscription';
import type { UsageRecord } from '../domain/usage';
import * as pb from '../gen/billing/v1/subscription';

export function toSubscriptionStatusMessage(status: SubscriptionStatus): pb.SubscriptionStatus {
  return pb.SubscriptionStatus[`SUBSCRIPTION_STATUS_${status}`];
}

/** The domain status of a proto enum value, or undefined for UNSPECIFIED/unknown values. */
export function fromSubscriptionStatusMessage(value: pb.SubscriptionStatus): SubscriptionStatus | undefined {
  const name = pb.SubscriptionStatus[value]?.replace('SUBSCRIPTION_STATUS_', '');
  return SUBSCRIPTION_STATUSES.find((s) => s === name);
}

export function toSubscriptionMessage(s: Subscription): pb.Subscription {
  return {
    id: s.id,
    storefrontId: s.storefrontId,
    customerId: s.customerId,
    planId: s.planId,
    quantity: s.quantity,
    provider: s.provider,
    providerRef: s.providerRef ?? '',
    status: toSubscriptionStatusMessage(s.status),
    currentPeriodStart: s.currentPeriodStart,
    currentPeriodEnd: s.currentPeriodEnd,
    trialEnd: s.trialEnd,
    cancelAtPeriodEnd: s.cancelAtPeriodEnd,
    canceledAt: s.canceledAt,
    endedAt: s.endedAt,
    version: BigInt(s.version),
    createTime: s.createdAt,
    updateTime: s.updatedAt,
  };
}

export function toUsageRecordMessage(u: UsageRecord): pb.UsageRecord {
  return { id: u.id, subscriptionId: u.subscriptionId, quantity: u.quantity, timestamp: u.occurredAt };
}
