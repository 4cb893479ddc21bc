import * as grpc from '@grpc/grpc-js';
import { randomBytes, randomInt } from 'node:crypto';
import {
  type AzotteBundle,
  type AzotteCampaign,
  type AzotteEmulator,
  type AzotteEmulatorTenant,
  startAzotteEmulator,
} from '../../adapters/azotte/emulator';
import { type EmulatorMount, type EmulatorServer, startEmulatorServer } from '../../adapters/kit/emulator/server';
import type { CatalogServiceClient, CreatePlanRequest } from '../../src/gen/billing/v1/catalog';
import { IntervalUnit } from '../../src/gen/billing/v1/common';
import type { CustomerServiceClient } from '../../src/gen/billing/v1/customer';
import { EntitlementServiceClient } from '../../src/gen/billing/v1/entitlement';
import { PaymentServiceClient } from '../../src/gen/billing/v1/payment';
import type { StorefrontServiceClient } from '../../src/gen/billing/v1/storefront';
import {
  type CheckoutSession,
  CheckoutSessionStatus,
  type CreateCheckoutSessionRequest,
  type CreateCheckoutSessionResponse,
  type Subscription,
  SubscriptionStatus,
} from '../../src/gen/billing/v1/subscription';
import { type ClockAndFaultControls, clockAndFaultControls, emulatorControl } from './emulator-control';
import { eventually } from './eventually';
import { envSecretRefs, storefrontRequest, subscriptionCheckout } from './fixtures';
import { type SubscriptionReads, subscriptionReads } from './paytiko-world';
import { call, type TestService } from './test-service';

/*
 * The one Azotte test support, shaped like paytiko-world.ts: a tenant (x-tn) with a fresh api key and webhook
 * secret, the emulator on a port of its own (mounted at /azotte, as the wire contract's base_url is), a catalog of
 * two bundles and a campaign, our storefront bound to it with plans naming the bundles, a customer, and the
 * emulator's controls. Checkouts are server-to-server with a stored test card (`pm.test.visa` unless told otherwise).
 */

/** Where the world's emulator is mounted: the wire contract's `http://127.0.0.1:<port>/azotte`. */
const MOUNT = '/azotte';

/** The world's Azotte storefront, bundles and campaign (item 42). Amounts are milpieces = major units × 100. */
export const AZOTTE_STOREFRONT_URN = 'st.00.001';
export const AZOTTE_BASIC_BUNDLE: AzotteBundle = {
  storefrontUrn: AZOTTE_STOREFRONT_URN,
  bundleUrn: 'bn.00.1',
  sku: 'BASIC-M',
  name: 'Basic monthly',
  amountMilpieces: 999n,
  currency: 'EUR',
  period: { unit: 'Month', count: 1 },
  trialDays: 0,
  entitlements: ['basic'],
};
export const AZOTTE_PRO_BUNDLE: AzotteBundle = {
  storefrontUrn: AZOTTE_STOREFRONT_URN,
  bundleUrn: 'bn.00.2',
  sku: 'PRO-M',
  name: 'Pro monthly',
  amountMilpieces: 1999n,
  currency: 'EUR',
  period: { unit: 'Month', count: 1 },
  trialDays: 0,
  entitlements: ['basic', 'pro'],
};
export const AZOTTE_CAMPAIGN: AzotteCampaign = {
  campaignCode: 'WELCOME',
  promotionCode: 'WELCOME10',
  description: '10 % off the first 3 cycles',
  percentOffBasisPoints: 1000,
  cycles: 3,
};

/** The test cards every customer of a `test_cards` tenant has (item 45). */
export const TEST_CARDS = {
  visa: 'pm.test.visa',
  visa3ds: 'pm.test.visa_3ds',
  declined: 'pm.test.declined',
} as const;

/** A tenant (x-tn) with a fresh api key and webhook secret, found in no log (the binding reads them from env). */
export function azotteTenant(webhookUrl?: string): AzotteEmulatorTenant {
  return {
    tenant: `tn-${randomBytes(4).toString('hex')}`,
    apiKey: `ak_${randomBytes(12).toString('hex')}`,
    webhookUrl,
    webhookSecrets: [`whsec_${randomBytes(12).toString('hex')}`],
    testCards: true,
  };
}

/** Where a storefront is and how it is bound. */
export interface AzotteStorefrontOptions {
  storefrontId: string;
  /** Default `tenant-a`. */
  tenantId?: string;
  /** Binding settings laid over the default ones. */
  providerConfig?: Record<string, string>;
}

/**
 * An Azotte binding of a storefront to `tenant` on `emulator`: its settings, and references to the tenant's api key
 * and webhook secret, set in this process's environment under our tenant's own prefix and the storefront's name.
 */
export function azotteBinding(
  emulator: Pick<AzotteEmulator, 'url'>,
  tenant: AzotteEmulatorTenant,
  options: AzotteStorefrontOptions,
): { providerConfig: Record<string, string>; secretRefs: Record<string, string> } {
  const secretRefs = envSecretRefs('azotte', options, {
    api_key: tenant.apiKey,
    webhook_secret: tenant.webhookSecrets[0]!,
  });
  return {
    providerConfig: {
      base_url: emulator.url,
      tenant: tenant.tenant,
      storefront_urn: AZOTTE_STOREFRONT_URN,
      claimed_country: 'DE',
      claimed_language: 'de',
      ...options.providerConfig,
    },
    secretRefs,
  };
}

/** CreateStorefront of a storefront bound to `tenant` on `emulator`. */
export async function createAzotteStorefront(
  storefronts: StorefrontServiceClient,
  emulator: Pick<AzotteEmulator, 'url'>,
  tenant: AzotteEmulatorTenant,
  options: AzotteStorefrontOptions,
): Promise<void> {
  const request = storefrontRequest(options.storefrontId, {
    tenantId: options.tenantId ?? 'tenant-a',
    provider: 'azotte',
    ...azotteBinding(emulator, tenant, options),
  });
  await call(storefronts, storefronts.createStorefront, request);
}

/** What a plan of an Azotte storefront is made of. */
export interface AzottePlanSpec {
  name?: string;
  /** Decimal text in EUR (default the bundle's price). */
  price?: string;
  featureKeys?: string[];
  /** Default the basic bundle. */
  bundle?: AzotteBundle;
}

const INTERVAL: Record<AzotteBundle['period']['unit'], IntervalUnit> = {
  Day: IntervalUnit.INTERVAL_UNIT_DAY,
  Week: IntervalUnit.INTERVAL_UNIT_WEEK,
  Month: IntervalUnit.INTERVAL_UNIT_MONTH,
  Year: IntervalUnit.INTERVAL_UNIT_YEAR,
};

/** A CreatePlan request for `spec.bundle` (default: 'Basic monthly', EUR 9.99 a month, grants `basic`). */
export function azottePlanRequest(storefrontId: string, spec: AzottePlanSpec = {}): CreatePlanRequest {
  const bundle = spec.bundle ?? AZOTTE_BASIC_BUNDLE;
  return {
    storefrontId,
    name: spec.name ?? bundle.name,
    price: {
      currencyCode: bundle.currency,
      amountMinor: 0n,
      // Milpieces are major × 100, so EUR minor units equal them (README item 11).
      amountDecimal: spec.price ?? (Number(bundle.amountMilpieces) / 100).toFixed(2),
    },
    interval: { unit: INTERVAL[bundle.period.unit], count: bundle.period.count },
    trialDays: bundle.trialDays,
    featureKeys: spec.featureKeys ?? bundle.entitlements,
    providerRefs: { azotte: bundle.bundleUrn },
  };
}

/** CreatePlan of `spec`; the plan's id. */
export async function createAzottePlan(
  catalog: CatalogServiceClient,
  storefrontId: string,
  spec?: AzottePlanSpec,
): Promise<string> {
  return (await call(catalog, catalog.createPlan, azottePlanRequest(storefrontId, spec))).plan!.id;
}

/** CreateCustomer with a fresh email and phone (both unique per Azotte tenant); the customer's id. */
export async function createAzotteCustomer(
  customers: CustomerServiceClient,
  storefrontId: string,
  spec: { externalRef?: string; name?: string; country?: string } = {},
): Promise<string> {
  const { customer } = await call(customers, customers.createCustomer, {
    storefrontId,
    externalRef: spec.externalRef ?? `user-${randomBytes(3).toString('hex')}`,
    email: `ada+${randomBytes(4).toString('hex')}@example.com`,
    name: spec.name ?? 'Ada Lovelace',
    phone: `+49151${String(randomInt(10_000_000, 99_999_999))}`,
    country: spec.country ?? 'DE',
    address: undefined,
  });
  return customer!.id;
}

/** One webhook the emulator sent (or tried to), as `GET /__emulator/webhooks` lists it. */
export type AzotteWebhookSummary = Record<string, unknown> & { event_id?: string; type?: string };

/** One dead letter (item 44). */
export interface AzotteDeadLetter {
  event_id: string;
  type: string;
  customer_urn: string | null;
  sequence: number | null;
  attempts: number;
  last_error: string | null;
  dead_at: string | null;
}

/** What a test does to the emulator (its `/__emulator/…` controls), and what it reads of it. */
export interface AzotteControls extends ClockAndFaultControls {
  /** Calls an `/__emulator/…` control and returns its JSON. */
  control<T = Record<string, unknown>>(path: string, body?: unknown, method?: string): Promise<T>;
  /** Checkout processing delay in seconds (control 43). */
  processingDelay(seconds: number): Promise<void>;
  /** Answers the 3-D Secure step `threeDIdentifier` (control 46). */
  decide3ds(threeDIdentifier: string, outcome: 'pass' | 'fail'): Promise<void>;
  /** Every webhook the emulator made, oldest first. */
  webhookLog(): Promise<AzotteWebhookSummary[]>;
  /** One webhook with its attempts and payload. */
  webhook(eventId: string): Promise<Record<string, unknown>>;
  dlq(): Promise<AzotteDeadLetter[]>;
  replayDlq(eventIds?: string[]): Promise<string[]>;
  /** A grant Azotte makes outside bundles; the entitlement (wire JSON, `entitlementUrn` …). */
  grantEntitlement(grant: {
    customerUrn: string;
    featureKey: string;
    orderIdentifier?: string;
    activeUntil?: Date;
  }): Promise<Record<string, unknown>>;
  revokeEntitlement(entitlementUrn: string): Promise<void>;
  triggerCampaign(customerUrn: string, orderIdentifier: string, campaignCode?: string): Promise<void>;
  /** A subscription made in another channel (e.g. an app store); its wire JSON (`orderIdentifier` …). */
  otherChannelSubscription(customerUrn: string, bundleUrn?: string, channel?: string): Promise<Record<string, unknown>>;
  /** The subscription as the emulator keeps it (debug read, wire JSON plus what only the emulator keeps). */
  storedSubscription(orderIdentifier: string): Promise<Record<string, unknown> & { state: string }>;
}

export function azotteControls(emulator: Pick<AzotteEmulator, 'url'>): AzotteControls {
  const controls: AzotteControls = {
    control: <T>(path: string, body?: unknown, method?: string) => emulatorControl<T>(emulator.url, path, body, method),
    ...clockAndFaultControls(emulator.url),
    async processingDelay(seconds) {
      await controls.control('/checkout/processing-delay', { seconds });
    },
    async decide3ds(threeDIdentifier, outcome) {
      await controls.control(`/3ds/${encodeURIComponent(threeDIdentifier)}`, { outcome });
    },
    webhookLog: () => controls.control<AzotteWebhookSummary[]>('/webhooks'),
    webhook: (eventId) => controls.control(`/webhooks/${encodeURIComponent(eventId)}`),
    dlq: () => controls.control<AzotteDeadLetter[]>('/dlq'),
    async replayDlq(eventIds) {
      return (await controls.control<{ replayed: string[] }>('/dlq/replay', eventIds ? { event_ids: eventIds } : {}))
        .replayed;
    },
    grantEntitlement: (grant) =>
      controls.control('/entitlements/grant', {
        customer_urn: grant.customerUrn,
        feature_key: grant.featureKey,
        order_identifier: grant.orderIdentifier,
        active_until: grant.activeUntil?.toISOString(),
      }),
    async revokeEntitlement(entitlementUrn) {
      await controls.control('/entitlements/revoke', { entitlement_urn: entitlementUrn });
    },
    async triggerCampaign(customerUrn, orderIdentifier, campaignCode = AZOTTE_CAMPAIGN.campaignCode) {
      await controls.control(`/campaigns/${encodeURIComponent(campaignCode)}/trigger`, {
        customer_urn: customerUrn,
        order_identifier: orderIdentifier,
      });
    },
    otherChannelSubscription: (customerUrn, bundleUrn = AZOTTE_BASIC_BUNDLE.bundleUrn, channel = 'AppStore') =>
      controls.control('/subscriptions', { customer_urn: customerUrn, bundle_urn: bundleUrn, channel }),
    storedSubscription: (orderIdentifier) => controls.control(`/subscriptions/${encodeURIComponent(orderIdentifier)}`),
  };
  return controls;
}

/** The 3-D Secure step named by a session's next action (`{base_url}/3ds/{threeDIdentifier}`, item 25). */
export function threeDIdentifierOf(session: CheckoutSession): string | undefined {
  const action = session.nextAction;
  const found =
    (action?.redirectUrl && /\/3ds\/([^/?#]+)/.exec(action.redirectUrl)) ||
    (action?.html && /\/3ds\/(3ds_[A-Za-z0-9]+)/.exec(action.html));
  return found ? decodeURIComponent(found[1]!) : undefined;
}

/** An Azotte emulator (own port) bound to a running service: one storefront, two plans, one customer. */
export interface AzotteWorld extends AzotteControls, SubscriptionReads {
  emulator: AzotteEmulator;
  tenant: AzotteEmulatorTenant;
  storefrontId: string;
  /** 'Basic monthly', EUR 9.99, grants `basic` (bundle bn.00.1). */
  planId: string;
  /** 'Pro monthly', EUR 19.99, grants `basic` and `pro` (bundle bn.00.2): the upgrade. */
  proPlanId: string;
  customerId: string;
  payments: PaymentServiceClient;
  entitlements: EntitlementServiceClient;
  /** A plan of the storefront (default: the basic bundle). */
  createPlan(spec?: AzottePlanSpec): Promise<string>;
  /** Another customer of the storefront (fresh email and phone). */
  createCustomer(spec?: { externalRef?: string; name?: string }): Promise<string>;
  /** Our customer's Azotte customerUrn (its provider ref), once a checkout has stored it there. */
  customerUrnOf(customerId?: string): Promise<string>;
  /** A subscription CreateCheckoutSession request for the world's customer and plan, paying with `pm.test.visa`. */
  checkoutRequest(overrides?: Partial<CreateCheckoutSessionRequest>): CreateCheckoutSessionRequest;
  /** CreateCheckoutSession; remembers its session for the 3-D Secure helpers. */
  checkout(overrides?: Partial<CreateCheckoutSessionRequest>): Promise<CreateCheckoutSessionResponse>;
  /** GetCheckoutSession of our subscription's checkout (asks Azotte when its Retry-After has passed). */
  checkoutSession(subscriptionId: string): Promise<CheckoutSession>;
  /** Waits until GetCheckoutSession of our subscription's checkout satisfies `done`. */
  waitForSession(subscriptionId: string, done: (s: CheckoutSession) => boolean): Promise<CheckoutSession>;
  /** Waits for the session's 3-D Secure step (ACTION_REQUIRED, next_action) and passes it. */
  pass3ds(subscriptionId: string): Promise<CheckoutSession>;
  /** Waits for the session's 3-D Secure step and fails it. */
  fail3ds(subscriptionId: string): Promise<CheckoutSession>;
  /** Checkout (pm.test.visa unless overridden), waited for until ACTIVE. */
  activeSubscription(overrides?: Partial<CreateCheckoutSessionRequest>): Promise<Subscription>;
  close(): Promise<void>;
}

export interface AzotteWorldOptions {
  storefrontId?: string;
  tenantId?: string;
  /** Binding settings laid over the world's. */
  providerConfig?: Record<string, string>;
  /**
   * Checkout processing delay in seconds (default 1: decided on the first poll after our CreateCheckoutSession has
   * answered; with 0 the emulator decides right after `offer/checkout`, and its webhooks race our answer).
   */
  processingDelaySeconds?: number;
  /**
   * Holds the emulator's answer to `offer/checkout` until the webhooks that checkout caused have been delivered
   * (and a second more): Azotte's events outrun its answer to our CreateCheckoutSession. Use with
   * `processingDelaySeconds: 0`.
   */
  webhooksBeforeCheckoutAnswer?: boolean;
}

export async function azotteWorld(service: TestService, options: AzotteWorldOptions = {}): Promise<AzotteWorld> {
  const storefrontId = options.storefrontId ?? 'azotte-store';
  const tenant = azotteTenant(`http://127.0.0.1:${service.httpPort}/webhooks/azotte/${storefrontId}`);
  const server = await startEmulatorServer({});
  const mount = options.webhooksBeforeCheckoutAnswer ? holdingCheckoutAnswers(server) : server.mount(MOUNT);
  const emulator = await startAzotteEmulator({
    mount,
    tenants: [tenant],
    catalog: {
      storefronts: [{ storefrontUrn: AZOTTE_STOREFRONT_URN, currency: 'EUR' }],
      bundles: [AZOTTE_BASIC_BUNDLE, AZOTTE_PRO_BUNDLE],
      campaigns: [AZOTTE_CAMPAIGN],
    },
    processingDelaySeconds: options.processingDelaySeconds ?? 1,
  });
  const { storefronts, catalog, customers, subscriptions: subs } = service.clients;
  await createAzotteStorefront(storefronts, emulator, tenant, {
    storefrontId,
    tenantId: options.tenantId,
    providerConfig: options.providerConfig,
  });
  const createPlan = (spec?: AzottePlanSpec) => createAzottePlan(catalog, storefrontId, spec);
  const planId = await createPlan();
  const proPlanId = await createPlan({ bundle: AZOTTE_PRO_BUNDLE });
  const createCustomer = (spec?: { externalRef?: string; name?: string }) =>
    createAzotteCustomer(customers, storefrontId, spec);
  const customerId = await createCustomer({ externalRef: 'user-1' });
  const address = `127.0.0.1:${service.grpcPort}`;
  const payments = new PaymentServiceClient(address, grpc.credentials.createInsecure());
  const entitlements = new EntitlementServiceClient(address, grpc.credentials.createInsecure());
  // The checkout session of each checkout, by our subscription id.
  const sessions = new Map<string, string>();
  const sessionOf = (subscriptionId: string) => {
    const id = sessions.get(subscriptionId);
    if (!id) throw new Error(`no checkout of ${subscriptionId} was opened through this world`);
    return id;
  };
  const decide = async (subscriptionId: string, outcome: 'pass' | 'fail') => {
    const waiting = await world.waitForSession(
      subscriptionId,
      (s) => s.status === CheckoutSessionStatus.CHECKOUT_SESSION_STATUS_ACTION_REQUIRED && !!threeDIdentifierOf(s),
    );
    await world.decide3ds(threeDIdentifierOf(waiting)!, outcome);
    return waiting;
  };

  const world: AzotteWorld = {
    ...azotteControls(emulator),
    ...subscriptionReads(
      () => subs,
      () => payments,
    ),
    emulator,
    tenant,
    storefrontId,
    planId,
    proPlanId,
    customerId,
    payments,
    entitlements,
    createPlan,
    createCustomer,
    async customerUrnOf(id = customerId) {
      const { customer } = await call(customers, customers.getCustomer, { customerId: id });
      const ref = customer?.providerRefs.azotte ?? '';
      if (!ref) throw new Error(`customer ${id} has no Azotte customerUrn yet`);
      return ref;
    },
    checkoutRequest: (overrides = {}) => ({
      ...subscriptionCheckout(storefrontId, customerId, planId),
      paymentMethodRef: TEST_CARDS.visa,
      ...overrides,
    }),
    async checkout(overrides) {
      const answer = await call(subs, subs.createCheckoutSession, world.checkoutRequest(overrides));
      sessions.set(answer.subscription!.id, answer.checkoutSession!.id);
      return answer;
    },
    async checkoutSession(subscriptionId) {
      const request = { checkoutSessionId: sessionOf(subscriptionId) };
      return (await call(subs, subs.getCheckoutSession, request)).checkoutSession!;
    },
    waitForSession: (subscriptionId, done) => eventually(() => world.checkoutSession(subscriptionId), done),
    pass3ds: (subscriptionId) => decide(subscriptionId, 'pass'),
    fail3ds: (subscriptionId) => decide(subscriptionId, 'fail'),
    async activeSubscription(overrides) {
      const id = (await world.checkout(overrides)).subscription!.id;
      // Polling the session moves the checkout on (the scheduler would too, a little later).
      await world.waitForSession(id, (s) => s.status === CheckoutSessionStatus.CHECKOUT_SESSION_STATUS_COMPLETE);
      return world.waitFor(id, (s) => s.status === SubscriptionStatus.SUBSCRIPTION_STATUS_ACTIVE);
    },
    async close() {
      payments.close();
      entitlements.close();
      await emulator.stop();
      await server.close();
    },
  };
  return world;
}

/**
 * The emulator's mount on `server`, where the answer to `POST …/offer/checkout` is written only once every webhook
 * the emulator has made so far is delivered (the emulator decides a checkout and sends its events right after
 * answering, so with no processing delay the events of this very checkout reach our ingress first).
 */
function holdingCheckoutAnswers(server: EmulatorServer): EmulatorMount {
  const mount = server.mount(MOUNT);
  const controls = azotteControls({ url: mount.baseUrl });
  // Events already waited for: an answer waits for new ones (its checkout's), all of them delivered.
  const seen = new Set<string>();
  const delivered = async () => {
    const log = await controls.webhookLog();
    const fresh = log.filter((e) => !seen.has(String(e.event_id)));
    if (fresh.length === 0 || !log.every((e) => e.delivered === true)) return false;
    for (const e of fresh) seen.add(String(e.event_id));
    return true;
  };
  return {
    ...mount,
    attach: (handler) =>
      mount.attach((req, res) => {
        if (req.method !== 'POST' || !(req.url ?? '').endsWith('/offer/checkout')) return handler(req, res);
        const end = res.end.bind(res) as (...args: unknown[]) => typeof res;
        res.end = ((...args: unknown[]) => {
          // Delivered, then a second more: our ingress has taken them, and its worker (polling every 50 ms in
          // tests) has had time to act on them before our CreateCheckoutSession gets Azotte's answer.
          void eventually(delivered, Boolean, 10_000)
            .catch(() => undefined)
            .then(() => new Promise((resolve) => setTimeout(resolve, 1_000)))
            .then(() => end(...args));
          return res;
        }) as typeof res.end;
        return handler(req, res);
      }),
  };
}
