import {
  capabilitySupportToJSON,
  CreateStorefrontResponse,
  GetStorefrontResponse,
  ListProviderBindingsResponse,
  ListStorefrontsResponse,
  type Storefront,
  SwitchProviderResponse,
} from '../../gen/billing/v1/storefront';
import type { CommandGroup } from '../command';
import { enumName, type Output, printFields, printJson, printTable, time } from '../output';
import { fetchPages, printNextPage, readPaging } from '../paging';

export const storefronts: CommandGroup = {
  async list({ client, flags, out }) {
    const tenantId = flags.optional('tenant');
    const paging = readPaging(flags);
    flags.done(2);
    const page = await fetchPages(paging, out, async (pageSize, pageToken) => {
      const r = await client.api.storefronts.listStorefronts({ tenantId, pageSize, pageToken });
      return { items: r.storefronts, nextPageToken: r.nextPageToken };
    });
    if (out.json) {
      return printJson(
        out,
        ListStorefrontsResponse.toJSON({ storefronts: page.items, nextPageToken: page.nextPageToken }),
      );
    }
    printTable(
      out,
      ['ID', 'TENANT', 'PROVIDER', 'COUNTRY', 'CURRENCY', 'NAME'],
      page.items.map((s) => [s.id, s.tenantId, s.binding?.provider ?? '', s.country, s.defaultCurrency, s.name]),
    );
    printNextPage(out, page.nextPageToken);
  },

  async get({ client, flags, out }) {
    const storefrontId = flags.operand(2, 'storefront id');
    flags.done(3);
    const response = await client.api.storefronts.getStorefront({ storefrontId });
    if (out.json) return printJson(out, GetStorefrontResponse.toJSON(response));
    printStorefront(out, response.storefront!);
  },

  async create({ client, flags, out }) {
    const request = {
      storefrontId: flags.required('id'),
      name: flags.required('name'),
      tenantId: flags.required('tenant'),
      country: flags.required('country'),
      defaultCurrency: flags.required('currency'),
      provider: flags.required('provider'),
      providerConfig: flags.pairs('config'),
      secretRefs: flags.pairs('secret'),
    };
    flags.done(2);
    const response = await client.api.storefronts.createStorefront(request);
    if (out.json) return printJson(out, CreateStorefrontResponse.toJSON(response));
    printStorefront(out, response.storefront!);
  },

  /** A refused switch (a plan the new provider cannot sell) is FAILED_PRECONDITION naming the plans: exit 1. */
  async switch({ client, flags, out }) {
    const request = {
      storefrontId: flags.operand(2, 'storefront id'),
      provider: flags.required('provider'),
      providerConfig: flags.pairs('config'),
      secretRefs: flags.pairs('secret'),
      // The service records why in the binding history, so it asks for a reason; asking here saves a round trip.
      reason: flags.required('reason'),
    };
    flags.done(3);
    const response = await client.api.storefronts.switchProvider(request);
    if (out.json) return printJson(out, SwitchProviderResponse.toJSON(response));
    printStorefront(out, response.storefront!);
  },

  async bindings({ client, flags, out }) {
    const storefrontId = flags.operand(2, 'storefront id');
    flags.done(3);
    const response = await client.api.storefronts.listProviderBindings({ storefrontId });
    if (out.json) return printJson(out, ListProviderBindingsResponse.toJSON(response));
    printTable(
      out,
      ['PROVIDER', 'VALID FROM', 'VALID UNTIL', 'ACTOR', 'REASON'],
      response.bindings.map((b) => [
        b.provider,
        time(b.validFrom) ?? '',
        time(b.validUntil) ?? 'current',
        b.actor,
        b.reason,
      ]),
    );
  },
};

/** The storefront, its binding (config and secret names, never secrets) and what its provider supports. */
function printStorefront(out: Output, s: Storefront): void {
  const binding = s.binding;
  printFields(out, {
    id: s.id,
    name: s.name,
    tenant: s.tenantId,
    country: s.country,
    currency: s.defaultCurrency,
    provider: binding?.provider,
    'bound since': time(binding?.validFrom),
    'bound by': binding && [binding.actor, binding.reason].filter(Boolean).join(': '),
    ...prefixed('config.', binding?.config),
    ...prefixed('secret.', binding?.secretRefs),
    version: s.version.toString(),
  });
  out.line('');
  printTable(
    out,
    ['OPERATION', 'VARIANT', 'SUPPORT'],
    s.capabilities.map((c) => {
      // `Rpc.variant` names a variant of an RPC (CancelSubscription.at_period_end).
      const [operation = '', variant = ''] = c.operation.split('.', 2);
      return [operation, variant, enumName(capabilitySupportToJSON(c.support), 'CAPABILITY_SUPPORT_')];
    }),
  );
}

function prefixed(prefix: string, entries: Record<string, string> | undefined): Record<string, string> {
  return Object.fromEntries(Object.entries(entries ?? {}).map(([k, v]) => [`${prefix}${k}`, v]));
}
