import type { CatalogUseCases } from '../../app/use-cases/catalog';
import type { Plan } from '../../domain/plan';
import { fromMoneyMessage } from '../../contract/money-mapping';
import { fromIntervalUnitMessage, toPlanMessage } from '../../contract/plan-mapping';
import type { CatalogServiceService } from '../../gen/billing/v1/catalog';
import * as pb from '../../gen/billing/v1/catalog';
import { Handlers, mutation, query } from '../rpc-wrapper';

/** CreatePlan, ArchivePlan and SetPlanProviderReference all answer the plan. */
const onePlan = (plan: Plan): pb.CreatePlanResponse => ({ plan: toPlanMessage(plan) });

export function catalogHandlers(catalog: CatalogUseCases): Handlers<CatalogServiceService> {
  return {
    createPlan: mutation(
      (req: pb.CreatePlanRequest, ctx) =>
        catalog.create(
          {
            storefrontId: req.storefrontId,
            name: req.name,
            price: fromMoneyMessage(req.price),
            interval: req.interval && { unit: fromIntervalUnitMessage(req.interval.unit), count: req.interval.count },
            trialDays: req.trialDays,
            featureKeys: req.featureKeys,
            providerRefs: req.providerRefs,
          },
          ctx,
        ),
      onePlan,
    ),
    getPlan: query(async (req: pb.GetPlanRequest): Promise<pb.GetPlanResponse> => ({
      plan: toPlanMessage(await catalog.get(req.planId)),
    })),
    listPlans: query(async (req: pb.ListPlansRequest): Promise<pb.ListPlansResponse> => {
      const page = await catalog.list(req.storefrontId, req.includeArchived, req.pageSize, req.pageToken);
      return { plans: page.items.map(toPlanMessage), nextPageToken: page.nextPageToken };
    }),
    archivePlan: mutation((req: pb.ArchivePlanRequest, ctx) => catalog.archive(req.planId, ctx), onePlan),
    setPlanProviderReference: mutation(
      (req: pb.SetPlanProviderReferenceRequest, ctx) =>
        catalog.setProviderReference(req.planId, req.provider, req.reference, ctx),
      onePlan,
    ),
  };
}
