import type { CustomerUseCases } from '../../app/use-cases/customers';
import { fromAddressMessage, toCustomerMessage } from '../../contract/customer-mapping';
import type { CustomerServiceService } from '../../gen/billing/v1/customer';
import * as pb from '../../gen/billing/v1/customer';
import { Handlers, mutation, query } from '../rpc-wrapper';

export function customerHandlers(customers: CustomerUseCases): Handlers<CustomerServiceService> {
  return {
    createCustomer: mutation(
      (req: pb.CreateCustomerRequest, ctx) =>
        customers.create(
          {
            storefrontId: req.storefrontId,
            externalRef: req.externalRef,
            email: req.email,
            name: req.name,
            phone: req.phone,
            country: req.country,
            address: fromAddressMessage(req.address),
          },
          ctx,
        ),
      ({ customer, created }): pb.CreateCustomerResponse => ({ customer: toCustomerMessage(customer), created }),
      // No provider is told of a new customer (that happens at its first checkout): the insert is the whole effect.
      { claimsKeyAtCommit: true },
    ),
    getCustomer: query(async (req: pb.GetCustomerRequest): Promise<pb.GetCustomerResponse> => ({
      customer: toCustomerMessage(await customers.get(req.customerId)),
    })),
    updateCustomer: mutation(
      (req: pb.UpdateCustomerRequest, ctx) =>
        customers.update(
          {
            customerId: req.customerId,
            externalRef: req.externalRef,
            email: req.email,
            name: req.name,
            phone: req.phone,
            country: req.country,
            address: fromAddressMessage(req.address),
          },
          ctx,
        ),
      (customer): pb.UpdateCustomerResponse => ({ customer: toCustomerMessage(customer) }),
    ),
    listCustomers: query(async (req: pb.ListCustomersRequest): Promise<pb.ListCustomersResponse> => {
      const page = await customers.list(
        { storefrontId: req.storefrontId, email: req.email, externalRef: req.externalRef },
        req.pageSize,
        req.pageToken,
      );
      return { customers: page.items.map(toCustomerMessage), nextPageToken: page.nextPageToken };
    }),
  };
}
