import type { StorefrontUseCases, StorefrontView } from '../../app/storefronts';
import { toBindingMessage, toStorefrontMessage } from '../../contract/storefront-mapping';
import type { StorefrontServiceService } from '../../gen/billing/v1/storefront';
import * as pb from '../../gen/billing/v1/storefront';
import { Handlers, mutation, query } from '../rpc-wrapper';

const message = (view: StorefrontView) => toStorefrontMessage(view.storefront, view.capabilities);

export function storefrontHandlers(storefronts: StorefrontUseCases): Handlers<StorefrontServiceService> {
  return {
    createStorefront: mutation(async (req: pb.CreateStorefrontRequest, ctx): Promise<pb.CreateStorefrontResponse> => {
      const view = await storefronts.create(
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
      );
      return { storefront: message(view) };
    }),
    getStorefront: query(async (req: pb.GetStorefrontRequest): Promise<pb.GetStorefrontResponse> => ({
      storefront: message(await storefronts.get(req.storefrontId)),
    })),
    listStorefronts: query(async (req: pb.ListStorefrontsRequest): Promise<pb.ListStorefrontsResponse> => {
      const page = await storefronts.list({ tenantId: req.tenantId }, req.pageSize, req.pageToken);
      return { storefronts: page.items.map(message), nextPageToken: page.nextPageToken };
    }),
    updateStorefront: mutation(async (req: pb.UpdateStorefrontRequest, ctx): Promise<pb.UpdateStorefrontResponse> => {
      const view = await storefronts.update(
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
      );
      return { storefront: message(view) };
    }),
    switchProvider: mutation(async (req: pb.SwitchProviderRequest, ctx): Promise<pb.SwitchProviderResponse> => {
      const view = await storefronts.switchProvider(
        {
          storefrontId: req.storefrontId,
          provider: req.provider,
          providerConfig: req.providerConfig,
          secretRefs: req.secretRefs,
          reason: req.reason,
        },
        ctx,
      );
      return { storefront: message(view) };
    }),
    listProviderBindings: query(
      async (req: pb.ListProviderBindingsRequest): Promise<pb.ListProviderBindingsResponse> => ({
        bindings: (await storefronts.listBindings(req.storefrontId)).map(toBindingMessage),
      }),
    ),
  };
}
