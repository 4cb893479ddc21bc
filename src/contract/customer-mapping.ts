import type { Address, Customer } from '../domain/customer';
import type { Address as AddressMessage } from '../gen/billing/v1/common';
import type { Customer as CustomerMessage } from '../gen/billing/v1/customer';

export function toCustomerMessage(customer: Customer): CustomerMessage {
  return {
    id: customer.id,
    storefrontId: customer.storefrontId,
    externalRef: customer.externalRef,
    email: customer.email,
    name: customer.name,
    phone: customer.phone,
    country: customer.country,
    address: customer.address,
    providerRefs: customer.providerRefs,
    createTime: customer.createdAt,
    updateTime: customer.updatedAt,
    version: BigInt(customer.version),
  };
}

/** Proto and domain addresses have the same shape; an absent message stays absent. */
export function fromAddressMessage(message: AddressMessage | undefined): Address | undefined {
  return message ? { ...message } : undefined;
}
