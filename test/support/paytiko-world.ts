import * as grpc from '@grpc/grpc-js';
import { randomBytes } from 'node:crypto';
import {
  type PaytikoEmulator,
  type PaytikoEmulatorMerchant,
  startPaytikoEmulator,
} from '../../adapters/paytiko/emulator';
import { type EmulatorMount, type EmulatorServer, startEmulatorServer } from '../../adapters/kit/emulator/server';
import type { CatalogServiceClient, CreatePlanRequest } from '../../src/gen/billing/v1/catalog';
import { IntervalUnit } from '../../src/gen/billing/v1/common';
import type { CreateCustomerRequest, CustomerServiceClient } from '../../src/gen/billing/v1/customer';
import { EntitlementServiceClient } from '../../src/gen/billing/v1/entitlement';
import { Invoice, Payment, PaymentServiceClient } from '../../src/gen/billing/v1/payment';
import type { StorefrontServiceClient } from '../../src/gen/billing/v1/storefront';
import {
  CreateCheckoutSessionRequest,
  CreateCheckoutSessionResponse,
  Subscription,
  SubscriptionServiceClient,
  SubscriptionStatus,
} from '../../src/gen/billing/v1/subscription';
import { type ClockAndFaultControls, clockAndFaultControls, emulatorControl } from './emulator-control';
import { eventually } from './eventually';
import { envSecretRefs, PAYTIKO_CONFIG, storefrontRequest, subscriptionCheckout } from './fixtures';
import type { MembershipView } from './paytiko-emulator-bed';
import { call, TestService } from './test-service';

/*
 * The one Paytiko test support. Its pieces (a merchant, the emulator, a binding with its secrets in this process's
 * env, a storefront with a plan and a customer, the emulator's controls and clock) serve two shapes of test:
 * `paytikoWorld` here (one storefront on an emulator of its own that sees every request), and `paytikoStore` in
 * paytiko-store.ts (several merchants' storefronts on one emulator, a service that restarts, a clock it shares).
 */

/** A merchant with fresh credentials and webhook secretKey, found in no log (the binding reads them from env). */
export function paytikoMerchant(): PaytikoEmulatorMerchant {
  return {
    userName: `api_user_${randomBytes(4).toString('hex')}`,
    password: `pw_${randomBytes(12).toString('hex')}`,
    processorKey: PAYTIKO_CONFIG.processor_key,
    secretKey: `sk_${randomBytes(12).toString('hex')}`,
  };
}

/** The merchant of every `paytikoWorld` of this process. */
export const PAYTIKO_CREDENTIALS = paytikoMerchant();

/** A Paytiko emulator for `merchants`, on a port of its own unless `mount`ed on a shared server. */
export function startPaytiko(merchants: PaytikoEmulatorMerchant[], mount?: EmulatorMount): Promise<PaytikoEmulator> {
  return startPaytikoEmulator({ merchants, mount });
}

/** Calls `emulator`'s `/__emulator/…` control and returns its JSON; throws on a non-2xx. */
export function paytikoControl<T = Record<string, unknown>>(
  emulator: PaytikoEmulator,
  path: string,
  body?: unknown,
  method?: string,
): Promise<T> {
  return emulatorControl<T>(emulator.url, path, body, method);
}

/** Where a storefront is and how it is bound. */
export interface PaytikoStorefrontOptions {
  storefrontId: string;
  /** Default `tenant-a`. */
  tenantId?: string;
  /** Binding settings laid over the default ones (e.g. `test_charge_emitter_queue`, `allowed_webhook_ips`). */
  providerConfig?: Record<string, string>;
}

/**
 * A Paytiko binding of a storefront to `merchant` on `emulator`: its settings, and references to the merchant's
 * API user and webhook secret, set in this process's environment as an operator would, under the tenant's own
 * prefix (`BILLING_SECRET_<TENANT>_…`) and the storefront's name, so that two merchants' secrets never mix.
 */
export function paytikoBinding(
  emulator: PaytikoEmulator,
  merchant: PaytikoEmulatorMerchant,
  options: PaytikoStorefrontOptions,
): { providerConfig: Record<string, string>; secretRefs: Record<string, string> } {
  const secretRefs = envSecretRefs('paytiko', options, {
    username: merchant.userName,
    password: merchant.password,
    webhook_secret: merchant.secretKey,
  });
  return {
    providerConfig: {
      base_url: emulator.url,
      processor_key: merchant.processorKey,
      return_url: 'https://shop.example/thanks',
      ...options.providerConfig,
    },
    secretRefs,
  };
}

/** CreateStorefront of a storefront bound to `merchant` on `emulator`. */
export async function createPaytikoStorefront(
  storefronts: StorefrontServiceClient,
  emulator: PaytikoEmulator,
  merchant: PaytikoEmulatorMerchant,
  options: PaytikoStorefrontOptions,
): Promise<void> {
  const request = storefrontRequest(options.storefrontId, {
    tenantId: options.tenantId ?? 'tenant-a',
    provider: 'paytiko',
    ...paytikoBinding(emulator, merchant, options),
  });
  await call(storefronts, storefronts.createStorefront, request);
}

/** What a plan of a Paytiko storefront is made of. */
export interface PaytikoPlanSpec {
  name?: string;
  /** Decimal text in EUR, e.g. '9.99'. */
  price?: string;
  featureKeys?: string[];
  interval?: { unit: IntervalUnit; count: number };
  trialDays?: number;
}

/** A CreatePlan request (default: 'Basic monthly', EUR 9.99 a month, no trial, grants `basic`). */
export function paytikoPlanRequest(storefrontId: string, spec: PaytikoPlanSpec = {}): CreatePlanRequest {
  return {
    storefrontId,
    name: spec.name ?? 'Basic monthly',
    price: { currencyCode: 'EUR', amountMinor: 0n, amountDecimal: spec.price ?? '9.99' },
    interval: spec.interval ?? { unit: IntervalUnit.INTERVAL_UNIT_MONTH, count: 1 },
    trialDays: spec.trialDays ?? 0,
    featureKeys: spec.featureKeys ?? ['basic'],
    // Paytiko takes prices inline: no provider reference.
    providerRefs: {},
  };
}

/** CreatePlan of `spec`; the plan's id. */
export async function createPaytikoPlan(
  catalog: CatalogServiceClient,
  storefrontId: string,
  spec?: PaytikoPlanSpec,
): Promise<string> {
  return (await call(catalog, catalog.createPlan, paytikoPlanRequest(storefrontId, spec))).plan!.id;
}

/** A customer Paytiko accepts: a first and a last name, an E.164 phone, a country. */
export type PaytikoCustomerSpec = Partial<Omit<CreateCustomerRequest, 'storefrontId' | 'address'>>;

/** CreateCustomer (default: Ada Lovelace, user-1, a fresh email, +4915112345678, DE); the customer's id. */
export async function createPaytikoCustomer(
  customers: CustomerServiceClient,
  storefrontId: string,
  spec: PaytikoCustomerSpec = {},
): Promise<string> {
  const { customer } = await call(customers, customers.createCustomer, {
    storefrontId,
    externalRef: spec.externalRef ?? 'user-1',
    email: spec.email ?? `ada+${randomBytes(3).toString('hex')}@example.com`,
    name: spec.name ?? 'Ada Lovelace',
    phone: spec.phone ?? '+4915112345678',
    country: spec.country ?? 'DE',
    address: undefined,
  });
  return customer!.id;
}

/** Our reads of a subscription and what it was charged, through the clients of the service running now. */
export interface SubscriptionReads {
  subscription(id: string): Promise<Subscription>;
  /** Waits until GetSubscription satisfies `done`. */
  waitFor(id: string, done: (s: Subscription) => boolean): Promise<Subscription>;
  paymentsOf(subscriptionId: string): Promise<Payment[]>;
  invoicesOf(subscriptionId: string): Promise<Invoice[]>;
}

export function subscriptionReads(
  subs: () => SubscriptionServiceClient,
  payments: () => PaymentServiceClient,
): SubscriptionReads {
  const reads: SubscriptionReads = {
    async subscription(id) {
      return (await call(subs(), subs().getSubscription, { subscriptionId: id })).subscription!;
    },
    waitFor: (id, done) => eventually(() => reads.subscription(id), done),
    async paymentsOf(subscriptionId) {
      const request = { storefrontId: '', customerId: '', subscriptionId, pageSize: 50, pageToken: '' };
      return (await call(payments(), payments().listPayments, request)).payments;
    },
    async invoicesOf(subscriptionId) {
      const request = { subscriptionId, customerId: '', pageSize: 50, pageToken: '' };
      return (await call(payments(), payments().listInvoices, request)).invoices;
    },
  };
  return reads;
}

/** What a test does to the emulator (its `/__emulator/…` controls), and what it reads of it. */
export interface PaytikoControls extends ClockAndFaultControls {
  /** Calls an `/__emulator/…` control and returns its JSON. */
  control<T = Record<string, unknown>>(path: string, body?: unknown, method?: string): Promise<T>;
  /** The customer pays (or declines) on the hosted page at `pageUrl` (a checkout session's URL). */
  completeHostedCheckout(pageUrl: string, outcome?: 'pay' | 'decline'): Promise<void>;
  /** The membership as the emulator keeps it (debug control; no token needed). */
  membership(key: string): Promise<MembershipView>;
  /** Every token issued so far is forgotten by the emulator (the next call with one gets 401). */
  revokeTokens(): Promise<void>;
  /** Tokens issued from now on last `seconds`. */
  tokenTtl(seconds: number): Promise<void>;
}

export function paytikoControls(emulator: PaytikoEmulator): PaytikoControls {
  const controls: PaytikoControls = {
    control: <T>(path: string, body?: unknown, method?: string) => paytikoControl<T>(emulator, path, body, method),
    async completeHostedCheckout(pageUrl, outcome = 'pay') {
      await controls.control(`/checkout/${pageUrl.split('/').pop()}/${outcome}`, {});
    },
    membership: (key) => controls.control<MembershipView>(`/memberships/${key}`),
    ...clockAndFaultControls(emulator.url),
    async revokeTokens() {
      await controls.control('/tokens/revoke', {});
    },
    async tokenTtl(seconds) {
      await controls.control('/tokens/ttl', { seconds });
    },
  };
  return controls;
}

/** Where the world's emulator is mounted: the wire contract's `http://127.0.0.1:<port>/paytiko`. */
const MOUNT = '/paytiko';
const API_PREFIX = `${MOUNT}/api/subscriptions/v1`;

/** One API request the emulator received (the test's view of what our adapter sent; no headers kept). */
export interface PaytikoRequest {
  method: string;
  /** Under `/api/subscriptions/v1`, e.g. `/membership`, `/auth`. */
  path: string;
  /** The status it answered. */
  status: number;
}

/** A Paytiko emulator (own port) bound to a running service: one storefront, a monthly plan, one customer. */
export interface PaytikoWorld extends PaytikoControls, SubscriptionReads {
  emulator: PaytikoEmulator;
  storefrontId: string;
  /** 'Basic monthly', EUR 9.99, no trial, grants `basic`. */
  planId: string;
  customerId: string;
  payments: PaymentServiceClient;
  entitlements: EntitlementServiceClient;
  /** Every API request the emulator answered, oldest first (`requests.length = 0` forgets them). */
  requests: PaytikoRequest[];
  /** Every bearer token our adapter sent (to prove none of them reaches a log). */
  bearerTokens: Set<string>;
  /**
   * Runs `action` (e.g. revoking every token) when the next API request matching `method` and `path` arrives, before
   * the emulator sees it: something that happens to Paytiko in the middle of one of our calls.
   */
  beforeNextRequest(method: string, path: string, action: () => Promise<void>): void;
  /** A plan of the storefront (default: monthly, EUR, no trial). */
  createPlan(spec?: PaytikoPlanSpec): Promise<string>;
  /** A subscription-mode CreateCheckoutSession request for the world's customer and plan. */
  checkoutRequest(overrides?: Partial<CreateCheckoutSessionRequest>): CreateCheckoutSessionRequest;
  /** CreateCheckoutSession; remembers its hosted page for pay/decline. */
  checkout(overrides?: Partial<CreateCheckoutSessionRequest>): Promise<CreateCheckoutSessionResponse>;
  /** The customer pays (or declines) on the hosted page of our subscription's checkout. */
  pay(subscriptionId: string, outcome?: 'pay' | 'decline'): Promise<void>;
  /** Checkout, paid, waited for until ACTIVE; our subscription and its membership key. */
  activeSubscription(overrides?: Partial<CreateCheckoutSessionRequest>): Promise<Subscription>;
  close(): Promise<void>;
}

export interface PaytikoWorldOptions {
  storefrontId?: string;
  tenantId?: string;
  /** Binding settings laid over the world's (e.g. `test_charge_emitter_queue`). */
  providerConfig?: Record<string, string>;
  /** The world's customer (default: Ada Lovelace, +4915112345678, DE). */
  customer?: { name?: string; phone?: string; country?: string; email?: string };
}

export async function paytikoWorld(service: TestService, options: PaytikoWorldOptions = {}): Promise<PaytikoWorld> {
  const storefrontId = options.storefrontId ?? 'paytiko-store';
  const server = await startEmulatorServer({});
  const spy: RequestSpy = { requests: [], bearerTokens: new Set(), hooks: [] };
  const emulator = await startPaytiko([PAYTIKO_CREDENTIALS], spying(server, spy));
  const { storefronts, catalog, customers, subscriptions: subs } = service.clients;
  await createPaytikoStorefront(storefronts, emulator, PAYTIKO_CREDENTIALS, {
    storefrontId,
    tenantId: options.tenantId,
    providerConfig: options.providerConfig,
  });
  const createPlan = (spec?: PaytikoPlanSpec) => createPaytikoPlan(catalog, storefrontId, spec);
  const planId = await createPlan();
  const customerId = await createPaytikoCustomer(customers, storefrontId, options.customer);
  const address = `127.0.0.1:${service.grpcPort}`;
  const payments = new PaymentServiceClient(address, grpc.credentials.createInsecure());
  const entitlements = new EntitlementServiceClient(address, grpc.credentials.createInsecure());
  // The hosted page of each checkout, by our subscription id.
  const pages = new Map<string, string>();

  const world: PaytikoWorld = {
    ...paytikoControls(emulator),
    ...subscriptionReads(
      () => subs,
      () => payments,
    ),
    emulator,
    storefrontId,
    planId,
    customerId,
    payments,
    entitlements,
    requests: spy.requests,
    bearerTokens: spy.bearerTokens,
    beforeNextRequest(method, path, action) {
      spy.hooks.push({ method, path, action });
    },
    createPlan,
    checkoutRequest: (overrides = {}) => ({
      ...subscriptionCheckout(storefrontId, customerId, planId),
      ...overrides,
    }),
    async checkout(overrides) {
      const answer = await call(subs, subs.createCheckoutSession, world.checkoutRequest(overrides));
      pages.set(answer.subscription!.id, answer.checkoutSession!.url);
      return answer;
    },
    async pay(subscriptionId, outcome = 'pay') {
      const page = pages.get(subscriptionId);
      if (!page) throw new Error(`no checkout of ${subscriptionId} was opened through this world`);
      await world.completeHostedCheckout(page, outcome);
    },
    async activeSubscription(overrides) {
      const id = (await world.checkout(overrides)).subscription!.id;
      await world.pay(id);
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

/** What the test sees of the requests reaching the emulator, and what it does to them. */
interface RequestSpy {
  requests: PaytikoRequest[];
  bearerTokens: Set<string>;
  hooks: { method: string; path: string; action: () => Promise<void> }[];
}

/**
 * The emulator's mount on `server`, noting every API request (method, path, answer status) and bearer token, and
 * running a hook armed for a request before handing that request on.
 */
function spying(server: EmulatorServer, spy: RequestSpy): EmulatorMount {
  const mount = server.mount(MOUNT);
  return {
    ...mount,
    attach: (handler) =>
      mount.attach((req, res) => {
        const fullPath = (req.url ?? '').split('?')[0]!;
        if (!fullPath.startsWith(`${API_PREFIX}/`)) return handler(req, res);
        const method = req.method ?? 'GET';
        const path = fullPath.slice(API_PREFIX.length);
        const bearer = /^Bearer (.+)$/.exec(req.headers.authorization ?? '')?.[1];
        if (bearer) spy.bearerTokens.add(bearer);
        res.on('finish', () => spy.requests.push({ method, path, status: res.statusCode }));
        const hook = spy.hooks.findIndex((h) => h.method === method && h.path === path);
        if (hook < 0) return handler(req, res);
        // The body waits in the paused request until the emulator reads it.
        const [{ action }] = spy.hooks.splice(hook, 1) as [RequestSpy['hooks'][number]];
        action().then(
          () => handler(req, res),
          () => res.writeHead(500).end(),
        );
      }),
  };
}
