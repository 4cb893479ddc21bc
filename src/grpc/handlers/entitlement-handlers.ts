import type { EntitlementUseCases } from '../../app/use-cases/entitlements';
import { toEntitlementMessage } from '../../contract/entitlement-mapping';
import type { EntitlementServiceService } from '../../gen/billing/v1/entitlement';
import * as pb from '../../gen/billing/v1/entitlement';
import { Handlers, query } from '../rpc-wrapper';

export function entitlementHandlers(entitlements: EntitlementUseCases): Handlers<EntitlementServiceService> {
  return {
    checkEntitlement: query(async (req: pb.CheckEntitlementRequest): Promise<pb.CheckEntitlementResponse> => {
      const { granted, entitlement } = await entitlements.check(req.customerId, req.featureKey);
      return {
        granted,
        subscriptionId: entitlement?.subscriptionId ?? '',
        activeUntil: entitlement?.activeUntil,
      };
    }),
    listEntitlements: query(async (req: pb.ListEntitlementsRequest): Promise<pb.ListEntitlementsResponse> => ({
      entitlements: (await entitlements.list(req.customerId, req.includeInactive)).map(toEntitlementMessage),
    })),
  };
}
