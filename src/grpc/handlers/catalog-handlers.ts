import type { CatalogUseCases } from '../../app/catalog';
import { fromMoneyMessage } from '../../contract/money-mapping';
import { fromIntervalUnitMessage, toPlanMessage } from '../../contract/plan-mapping';
import type { CatalogServiceService } from '../../gen/billing/v1/catalog';
import * as pb from '../../gen/billing/v1/catalog';
import { Handlers, mutation, query } from '../rpc-wrapper';

export function catalogHandlers(catalog: CatalogUseCases): Handlers<CatalogServiceService> {
  return {
    createPlan: mutation(async (req: pb.CreatePlanRequest, ctx): Promise<pb.CreatePlanResponse> => {
      const plan = await catalog.create(
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
      );
      return { plan: toPlanMessage(plan) };
    }),
    getPlan: query(async (req: pb.GetPlanRequest): Promise<pb.GetPlanResponse> => ({
      plan: toPlanMessage(await catalog.get(req.planId)),
    })),
    listPlans: query(async (req: pb.ListPlansRequest): Promise<pb.ListPlansResponse> => {
      const page = await catalog.list(req.storefrontId, req.includeArchived, req.pageSize, req.pageToken);
      return { plans: page.items.map(toPlanMessage), nextPageToken: page.nextPageToken };
    }),
    archivePlan: mutation(async (req: pb.ArchivePlanRequest, ctx): Promise<pb.ArchivePlanResponse> => ({
      plan: toPlanMessage(await catalog.archive(req.planId, ctx)),
    })),
    setPlanProviderReference: mutation(
      async (req: pb.SetPlanProviderReferenceRequest, ctx): Promise<pb.SetPlanProviderReferenceResponse> => ({
        plan: toPlanMessage(await catalog.setProviderReference(req.planId, req.provider, req.reference, ctx)),
      }),
    ),
  };
}
