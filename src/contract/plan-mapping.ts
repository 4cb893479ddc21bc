import type { IntervalUnit, Plan } from '../domain/plan';
import { Plan as PlanMessage, PlanStatus } from '../gen/billing/v1/catalog';
import { IntervalUnit as IntervalUnitMessage } from '../gen/billing/v1/common';
import { toMoneyMessage } from './money-mapping';

const UNIT_TO_MESSAGE: Record<IntervalUnit, IntervalUnitMessage> = {
  DAY: IntervalUnitMessage.INTERVAL_UNIT_DAY,
  WEEK: IntervalUnitMessage.INTERVAL_UNIT_WEEK,
  MONTH: IntervalUnitMessage.INTERVAL_UNIT_MONTH,
  YEAR: IntervalUnitMessage.INTERVAL_UNIT_YEAR,
};

export function fromIntervalUnitMessage(unit: IntervalUnitMessage): IntervalUnit | undefined {
  return (Object.keys(UNIT_TO_MESSAGE) as IntervalUnit[]).find((u) => UNIT_TO_MESSAGE[u] === unit);
}

export function toPlanMessage(plan: Plan): PlanMessage {
  return {
    id: plan.id,
    storefrontId: plan.storefrontId,
    name: plan.name,
    price: toMoneyMessage(plan.price),
    interval: { unit: UNIT_TO_MESSAGE[plan.interval.unit], count: plan.interval.count },
    trialDays: plan.trialDays,
    featureKeys: plan.featureKeys,
    providerRefs: plan.providerRefs,
    status: plan.status === 'ACTIVE' ? PlanStatus.PLAN_STATUS_ACTIVE : PlanStatus.PLAN_STATUS_ARCHIVED,
    createTime: plan.createdAt,
    archiveTime: plan.archivedAt,
  };
}
