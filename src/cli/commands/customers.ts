import {
  CreateCustomerResponse,
  type Customer,
  GetCustomerResponse,
  ListCustomersResponse,
} from '../../gen/billing/v1/customer';
import type { CommandGroup } from '../command';
import { type Output, printFields, printJson, printTable, time } from '../output';
import { fetchPages, printNextPage, readPaging } from '../paging';

export const customers: CommandGroup = {
  async create({ client, flags, out }) {
    const request = {
      storefrontId: flags.required('storefront'),
      email: flags.required('email'),
      name: flags.required('name'),
      country: flags.optional('country'),
      phone: flags.optional('phone'),
      externalRef: flags.optional('external-ref'),
    };
    flags.done(2);
    const response = await client.api.customers.createCustomer(request);
    if (out.json) return printJson(out, CreateCustomerResponse.toJSON(response));
    printCustomer(out, response.customer!, {
      created: response.created ? 'yes' : 'no (an existing customer with this email)',
    });
  },

  async get({ client, flags, out }) {
    const customerId = flags.operand(2, 'customer id');
    flags.done(3);
    const response = await client.api.customers.getCustomer({ customerId });
    if (out.json) return printJson(out, GetCustomerResponse.toJSON(response));
    printCustomer(out, response.customer!, { 'created at': time(response.customer!.createTime) });
  },

  async list({ client, flags, out }) {
    const storefrontId = flags.required('storefront');
    const email = flags.optional('email');
    const externalRef = flags.optional('external-ref');
    const paging = readPaging(flags);
    flags.done(2);
    const page = await fetchPages(paging, out, async (pageSize, pageToken) => {
      const request = { storefrontId, email, externalRef, pageSize, pageToken };
      const r = await client.api.customers.listCustomers(request);
      return { items: r.customers, nextPageToken: r.nextPageToken };
    });
    if (out.json) {
      return printJson(out, ListCustomersResponse.toJSON({ customers: page.items, nextPageToken: page.nextPageToken }));
    }
    printTable(
      out,
      ['ID', 'EMAIL', 'NAME', 'COUNTRY', 'CREATED'],
      page.items.map((c) => [c.id, c.email, c.name, c.country, time(c.createTime) ?? '']),
    );
    printNextPage(out, page.nextPageToken);
  },
};

function printCustomer(out: Output, c: Customer, more: Record<string, string | undefined>): void {
  printFields(out, {
    id: c.id,
    storefront: c.storefrontId,
    email: c.email,
    name: c.name,
    phone: c.phone,
    country: c.country,
    'external ref': c.externalRef,
    ...Object.fromEntries(Object.entries(c.providerRefs).map(([provider, ref]) => [`${provider} ref`, ref])),
    ...more,
  });
}
