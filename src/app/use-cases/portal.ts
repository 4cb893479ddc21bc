import { failedPrecondition, invalidArgument, notFound } from '../../domain/errors';
import type { StorefrontReads, UnitOfWork } from '../../ports/store.port';
import type { CallContext } from '../call-context';
import type { ProviderGateway } from '../providers/provider-gateway';
import { URL_RULE } from './subscription-lookup';

/** The provider's customer portal, where a customer manages their billing. */
export class PortalUseCases {
  constructor(
    private readonly uow: UnitOfWork,
    private readonly gateway: ProviderGateway,
    private readonly storefronts: StorefrontReads = uow.reads.storefronts,
  ) {}

  async createPortalSession(customerId: string, returnUrl: string, ctx: CallContext) {
    if (returnUrl && !URL_RULE.test(returnUrl))
      throw invalidArgument([{ field: 'return_url', rule: 'must be an http(s) URL' }]);
    const reads = this.uow.reads;
    const customer = customerId ? await reads.customers.get(customerId) : undefined;
    if (!customer) throw notFound('customer', customerId, 'customer_id');
    // The portal lives where the customer's billing is: the provider of their latest subscription.
    const latest = await reads.subscriptions.latestOfCustomer(customer.id);
    const storefront = (await this.storefronts.get(customer.storefrontId))!;
    const provider = latest?.provider ?? storefront.binding.provider;
    const connection = await this.gateway.connect(reads, storefront, provider, ctx);
    const open = connection.operation('createPortalSession');
    const customerRef = customer.providerRefs[provider];
    if (!customerRef) {
      throw failedPrecondition(
        `customer '${customer.id}' has no account at '${provider}' yet: complete a checkout first`,
      );
    }
    return open(connection.ctx, customerRef, returnUrl);
  }
}
