import type { StorefrontUseCases, StorefrontView } from '../../app/use-cases/storefronts';
import { toBindingMessage, toStorefrontMessage } from '../../contract/storefront-mapping';
import type { StorefrontServiceService } from '../../gen/billing/v1/storefront';
import * as pb from '../../gen/billing/v1/storefront';
import { Handlers, mutation, query } from '../rpc-wrapper';

const message = (view: StorefrontView) => toStorefrontMessage(view.storefront, view.capabilities);
/** CreateStorefront, UpdateStorefront and SwitchProvider all answer the storefront. */
const oneStorefront = (view: StorefrontView): pb.CreateStorefrontResponse => ({ storefront: message(view) });

export function storefrontHandlers(storefronts: StorefrontUseCases): Handlers<StorefrontServiceService> {
  return {
    createStorefront: mutation(
      (req: pb.CreateStorefrontRequest, ctx) =>
        storefronts.create(
          {
            storefrontId: req.storefrontId,
            tenantId: req.tenantId,
            name: req.name,
            country: req.country,
            defaultCurrency: req.defaultCurrency,
            provider: req.provider,
            providerConfig: req.providerConfig,
            secretRefs: req.secretRefs,
          },
          ctx,
        ),
      oneStorefront,
    ),
    getStorefront: query(async (req: pb.GetStorefrontRequest): Promise<pb.GetStorefrontResponse> => ({
      storefront: message(await storefronts.get(req.storefrontId)),
    })),
    listStorefronts: query(async (req: pb.ListStorefrontsRequest): Promise<pb.ListStorefrontsResponse> => {
      const page = await storefronts.list({ tenantId: req.tenantId }, req.pageSize, req.pageToken);
      return { storefronts: page.items.map(message), nextPageToken: page.nextPageToken };
    }),
    updateStorefront: mutation(
      (req: pb.UpdateStorefrontRequest, ctx) =>
        storefronts.update(
          {
            storefrontId: req.storefrontId,
            name: req.name,
            country: req.country,
            defaultCurrency: req.defaultCurrency,
            providerConfig: req.replaceProviderConfig ? req.providerConfig : undefined,
            secretRefs: req.replaceSecretRefs ? req.secretRefs : undefined,
            expectedVersion: Number(req.expectedVersion),
          },
          ctx,
        ),
      oneStorefront,
    ),
    switchProvider: mutation(
      (req: pb.SwitchProviderRequest, ctx) =>
        storefronts.switchProvider(
          {
            storefrontId: req.storefrontId,
            provider: req.provider,
            providerConfig: req.providerConfig,
            secretRefs: req.secretRefs,
            reason: req.reason,
          },
          ctx,
        ),
      oneStorefront,
    ),
    listProviderBindings: query(
      async (req: pb.ListProviderBindingsRequest): Promise<pb.ListProviderBindingsResponse> => ({
        bindings: (await storefronts.listBindings(req.storefrontId)).map(toBindingMessage),
      }),
    ),
  };
}
