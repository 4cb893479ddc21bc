import { integer, optionalString, optionalUrl, requiredString } from '../../kit/emulator/body-readers';
import type { ControlHandler } from '../../kit/emulator/controls';
import { invalidInput } from '../../kit/emulator/errors';
import { route } from '../../kit/emulator/router';
import { MESSAGE_CODE_STATUS } from './answers';
import { bundleInput, campaignInput, objects, storefrontInput } from './catalog-input';
import type { EmulatorContext } from './context';
import { addTestCards } from './payment-methods';
import type { AzotteCatalog, AzotteEmulatorTenant } from './types';

type Handler = ControlHandler<EmulatorContext>;

/** Adds or changes a tenant (item 42, 49); given fields replace, absent ones stay. Secrets are never echoed. */
export function putTenant(ctx: EmulatorContext, input: Partial<AzotteEmulatorTenant> & { tenant: string }) {
  const current = ctx.state.tenants.get(input.tenant);
  const apiKey = input.apiKey ?? current?.apiKey;
  if (!apiKey) throw invalidInput('api_key', 'is required for a new tenant');
  const tenant: AzotteEmulatorTenant = {
    tenant: input.tenant,
    apiKey,
    webhookUrl: input.webhookUrl ?? current?.webhookUrl,
    webhookSecrets: input.webhookSecrets ?? current?.webhookSecrets ?? [],
    testCards: input.testCards ?? current?.testCards ?? false,
  };
  ctx.state.tenants.set(tenant.tenant, tenant);
  if (tenant.testCards) {
    for (const customer of ctx.state.customers.values())
      if (customer.tenant === tenant.tenant) addTestCards(ctx.state, customer);
  }
  return {
    tenant: tenant.tenant,
    webhook_url: tenant.webhookUrl ?? null,
    webhook_secrets: tenant.webhookSecrets.length,
    test_cards: tenant.testCards,
  };
}

const tenants: Handler = ({ ctx, body }) => {
  const secrets = body.webhook_secrets;
  if (secrets !== undefined && (!Array.isArray(secrets) || secrets.some((s) => typeof s !== 'string' || s === ''))) {
    throw invalidInput('webhook_secrets', 'must be an array of secrets, newest first');
  }
  if (body.test_cards !== undefined && typeof body.test_cards !== 'boolean') {
    throw invalidInput('test_cards', 'must be a boolean');
  }
  return putTenant(ctx, {
    tenant: requiredString(body, 'tenant', 128),
    apiKey: optionalString(body, 'api_key', 512),
    webhookUrl: optionalUrl(body, 'webhook_url'),
    webhookSecrets: secrets as string[] | undefined,
    testCards: body.test_cards as boolean | undefined,
  });
};

/** Lays `items` over the catalog, by key: a storefront by its urn, a bundle by its urn, a campaign by its code. */
export function upsertCatalog(catalog: AzotteCatalog, items: Partial<AzotteCatalog>): void {
  const upsert = <T>(list: T[], added: T[] | undefined, key: (t: T) => string) => {
    for (const item of added ?? []) {
      const at = list.findIndex((existing) => key(existing) === key(item));
      if (at >= 0) list[at] = item;
      else list.push(item);
    }
  };
  upsert(catalog.storefronts, items.storefronts, (s) => s.storefrontUrn);
  upsert(catalog.bundles, items.bundles, (b) => b.bundleUrn);
  upsert(catalog.campaigns, items.campaigns, (c) => c.campaignCode);
}

const catalog: Handler = ({ ctx, body }) => {
  const c = ctx.state.catalog;
  upsertCatalog(c, {
    storefronts: objects(body, 'storefronts').map((s, i) => storefrontInput(s, `storefronts[${i}]`)),
    bundles: objects(body, 'bundles').map((b, i) => bundleInput(b, `bundles[${i}]`)),
    campaigns: objects(body, 'campaigns').map((x, i) => campaignInput(x, `campaigns[${i}]`)),
  });
  return { storefronts: c.storefronts.length, bundles: c.bundles.length, campaigns: c.campaigns.length };
};

const processingDelay: Handler = ({ ctx, body }) => {
  ctx.state.processingDelaySeconds = integer(body.seconds, 'seconds', 0, 3600);
  return { seconds: ctx.state.processingDelaySeconds };
};

const messageCodeFault: Handler = ({ ctx, body }) => {
  const code = requiredString(body, 'code', 64);
  if (MESSAGE_CODE_STATUS[code] === undefined)
    throw invalidInput('code', `'${code.slice(0, 64)}' is not a documented messageCode`);
  const count = integer(body.count ?? 1, 'count', 1, 1_000_000);
  const path = optionalString(body, 'path', 2048);
  ctx.messageCodeFaults.arm(code, count, path);
  return { code, status: MESSAGE_CODE_STATUS[code], count, path: path ?? null };
};

// Declared before the kit's own `faults/clear`, which it extends with the messageCode faults.
const clearFaults: Handler = ({ ctx }) => {
  ctx.apiFaults.clear();
  ctx.chargeFailures.clear();
  ctx.messageCodeFaults.clear();
  return { cleared: true };
};

/** Tenants, catalog, processing delay and messageCode faults (items 42, 43, 48). */
export const setupControls = [
  route<Handler>('POST', '/__emulator/tenants', tenants),
  route<Handler>('POST', '/__emulator/catalog', catalog),
  route<Handler>(
    'GET',
    '/__emulator/catalog',
    ({ ctx }) =>
      JSON.parse(
        JSON.stringify(ctx.state.catalog, (_k, v: unknown) => (typeof v === 'bigint' ? Number(v) : v)),
      ) as unknown,
  ),
  route<Handler>('POST', '/__emulator/checkout/processing-delay', processingDelay),
  route<Handler>('POST', '/__emulator/faults/message-code', messageCodeFault),
  route<Handler>('POST', '/__emulator/faults/clear', clearFaults),
];
