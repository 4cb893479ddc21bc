import * as grpc from '@grpc/grpc-js';
import { randomBytes } from 'node:crypto';
import { type PaytikoEmulator, startPaytikoEmulator } from '../../adapters/paytiko/emulator';
import { type EmulatorMount, type EmulatorServer, startEmulatorServer } from '../../adapters/kit/emulator/server';
import { tenantEnvPrefix } from '../../src/domain/secret-reference';
import { IntervalUnit } from '../../src/gen/billing/v1/common';
import { EntitlementServiceClient } from '../../src/gen/billing/v1/entitlement';
import { Invoice, Payment, PaymentServiceClient } from '../../src/gen/billing/v1/payment';
import {
  CreateCheckoutSessionRequest,
  CreateCheckoutSessionResponse,
  Subscription,
  SubscriptionStatus,
} from '../../src/gen/billing/v1/subscription';
import { eventually } from './eventually';
import { PAYTIKO_CONFIG, storefrontRequest, subscriptionCheckout } from './fixtures';
import type { MembershipView } from './paytiko-emulator-bed';
import { call, TestService } from './test-service';

/** The emulator's merchant; the password, secret key and user are this process's own (found in no log below). */
export const PAYTIKO_CREDENTIALS = {
  userName: `api_user_${randomBytes(4).toString('hex')}`,
  password: `pw_${randomBytes(12).toString('hex')}`,
  processorKey: PAYTIKO_CONFIG.processor_key,
  secretKey: `sk_${randomBytes(12).toString('hex')}`,
};

/** Where the emulator is mounted: the wire contract's `http://127.0.0.1:<port>/paytiko`. */
const MOUNT = '/paytiko';
const API_PREFIX = `${MOUNT}/api/subscriptions/v1`;
const MINUTE = 60;

/**
 * The Paytiko secret references of a storefront of `tenantId`, with the values set in this process's environment
 * under that tenant's own names (`BILLING_SECRET_<TENANT>_PAYTIKO_*`), as an operator would.
 */
export function paytikoSecrets(tenantId: string): Record<string, string> {
  const values = {
    username: PAYTIKO_CREDENTIALS.userName,
    password: PAYTIKO_CREDENTIALS.password,
    webhook_secret: PAYTIKO_CREDENTIALS.secretKey,
  };
  const refs: Record<string, string> = {};
  for (const [name, value] of Object.entries(values)) {
    const variable = `${tenantEnvPrefix(tenantId)}PAYTIKO_${name.toUpperCase()}`;
    process.env[variable] = value;
    refs[name] = `env:${variable}`;
  }
  return refs;
}

/** One API request the emulator received (the test's view of what our adapter sent; no headers kept). */
export interface PaytikoRequest {
  method: string;
  /** Under `/api/subscriptions/v1`, e.g. `/membership`, `/auth`. */
  path: string;
  /** The status it answered. */
  status: number;
}

/** What a plan of the world is made of. */
export interface PaytikoPlanSpec {
  name?: string;
  /** Decimal text in EUR, e.g. '9.99'. */
  price?: string;
  featureKeys?: string[];
  interval?: { unit: IntervalUnit; count: number };
  trialDays?: number;
}

/** A Paytiko emulator (own port) bound to a running service: one storefront, a monthly plan, one customer. */
export interface PaytikoWorld {
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
  /** CreateCheckoutSession; remembers its hosted-page token for pay/decline. */
  checkout(overrides?: Partial<CreateCheckoutSessionRequest>): Promise<CreateCheckoutSessionResponse>;
  /** The customer pays (or declines) on the hosted page of our subscription's checkout. */
  pay(subscriptionId: string, outcome?: 'pay' | 'decline'): Promise<void>;
  /** Checkout, paid, waited for until ACTIVE; our subscription and its membership key. */
  activeSubscription(overrides?: Partial<CreateCheckoutSessionRequest>): Promise<Subscription>;
  subscription(id: string): Promise<Subscription>;
  /** Waits until GetSubscription satisfies `done`. */
  waitFor(id: string, done: (s: Subscription) => boolean): Promise<Subscription>;
  paymentsOf(subscriptionId: string): Promise<Payment[]>;
  invoicesOf(subscriptionId: string): Promise<Invoice[]>;
  /** The membership as the emulator keeps it (debug control; no token needed). */
  membership(key: string): Promise<MembershipView>;
  /** The emulator's clock. */
  now(): Promise<Date>;
  advanceClock(seconds: number): Promise<void>;
  /** Moves the emulator's clock to `date` plus `extraSeconds` (default a minute). */
  advancePast(date: Date, extraSeconds?: number): Promise<void>;
  failNextCharges(count: number): Promise<void>;
  dropNextWebhooks(count: number): Promise<void>;
  /** Every token issued so far is forgotten by the emulator (the next call with one gets 401). */
  revokeTokens(): Promise<void>;
  /** Tokens issued from now on last `seconds`. */
  tokenTtl(seconds: number): Promise<void>;
  /** Calls an `/__emulator/…` control and returns its JSON. */
  control<T = Record<string, unknown>>(path: string, body?: unknown, method?: string): Promise<T>;
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
  const tenantId = options.tenantId ?? 'tenant-a';
  const server = await startEmulatorServer({});
  const spy: RequestSpy = { requests: [], bearerTokens: new Set(), hooks: [] };
  const emulator = await startPaytikoEmulator({
    mount: spying(server, spy),
    merchants: [PAYTIKO_CREDENTIALS],
  });
  const { storefronts, catalog, customers, subscriptions: subs } = service.clients;
  await call(
    storefronts,
    storefronts.createStorefront,
    storefrontRequest(storefrontId, {
      tenantId,
      provider: 'paytiko',
      providerConfig: {
        base_url: emulator.url,
        processor_key: PAYTIKO_CREDENTIALS.processorKey,
        return_url: 'https://shop.example/thanks',
        ...options.providerConfig,
      },
      secretRefs: paytikoSecrets(tenantId),
    }),
  );
  const createPlan = async (spec: PaytikoPlanSpec = {}) =>
    (
      await call(catalog, catalog.createPlan, {
        storefrontId,
        name: spec.name ?? 'Basic monthly',
        price: { currencyCode: 'EUR', amountMinor: 0n, amountDecimal: spec.price ?? '9.99' },
        interval: spec.interval ?? { unit: IntervalUnit.INTERVAL_UNIT_MONTH, count: 1 },
        trialDays: spec.trialDays ?? 0,
        featureKeys: spec.featureKeys ?? ['basic'],
        // Paytiko takes prices inline: no provider reference.
        providerRefs: {},
      })
    ).plan!.id;
  const planId = await createPlan();
  const { customer } = await call(customers, customers.createCustomer, {
    storefrontId,
    externalRef: 'user-1',
    email: options.customer?.email ?? `ada+${randomBytes(3).toString('hex')}@example.com`,
    name: options.customer?.name ?? 'Ada Lovelace',
    phone: options.customer?.phone ?? '+4915112345678',
    country: options.customer?.country ?? 'DE',
    address: undefined,
  });
  const address = `127.0.0.1:${service.grpcPort}`;
  const payments = new PaymentServiceClient(address, grpc.credentials.createInsecure());
  const entitlements = new EntitlementServiceClient(address, grpc.credentials.createInsecure());
  // The hosted page's token of each checkout (the last segment of its redirect URL), by our subscription id.
  const pageTokens = new Map<string, string>();

  const world: PaytikoWorld = {
    emulator,
    storefrontId,
    planId,
    customerId: customer!.id,
    payments,
    entitlements,
    requests: spy.requests,
    bearerTokens: spy.bearerTokens,
    beforeNextRequest(method, path, action) {
      spy.hooks.push({ method, path, action });
    },
    createPlan,
    checkoutRequest: (overrides = {}) => ({
      ...subscriptionCheckout(storefrontId, customer!.id, planId),
      ...overrides,
    }),
    async checkout(overrides) {
      const answer = await call(subs, subs.createCheckoutSession, world.checkoutRequest(overrides));
      pageTokens.set(answer.subscription!.id, answer.checkoutSession!.url.split('/').pop()!);
      return answer;
    },
    async pay(subscriptionId, outcome = 'pay') {
      const token = pageTokens.get(subscriptionId);
      if (!token) throw new Error(`no checkout of ${subscriptionId} was opened through this world`);
      await world.control(`/checkout/${token}/${outcome}`, {});
    },
    async activeSubscription(overrides) {
      const id = (await world.checkout(overrides)).subscription!.id;
      await world.pay(id);
      return world.waitFor(id, (s) => s.status === SubscriptionStatus.SUBSCRIPTION_STATUS_ACTIVE);
    },
    async subscription(id) {
      return (await call(subs, subs.getSubscription, { subscriptionId: id })).subscription!;
    },
    waitFor: (id, done) => eventually(() => world.subscription(id), done),
    async paymentsOf(subscriptionId) {
      const request = { storefrontId: '', customerId: '', subscriptionId, pageSize: 50, pageToken: '' };
      return (await call(payments, payments.listPayments, request)).payments;
    },
    async invoicesOf(subscriptionId) {
      const request = { subscriptionId, customerId: '', pageSize: 50, pageToken: '' };
      return (await call(payments, payments.listInvoices, request)).invoices;
    },
    membership: (key) => world.control<MembershipView>(`/memberships/${key}`),
    async now() {
      return new Date((await world.control<{ now: string }>('/clock')).now);
    },
    async advanceClock(seconds) {
      await world.control('/clock/advance', { seconds });
    },
    async advancePast(date, extraSeconds = MINUTE) {
      const now = await world.now();
      await world.advanceClock(Math.max(0, Math.ceil((date.getTime() - now.getTime()) / 1000)) + extraSeconds);
    },
    async failNextCharges(count) {
      await world.control('/charges/fail-next', { count });
    },
    async dropNextWebhooks(count) {
      await world.control('/webhooks/faults', { mode: 'drop', count });
    },
    async revokeTokens() {
      await world.control('/tokens/revoke', {});
    },
    async tokenTtl(seconds) {
      await world.control('/tokens/ttl', { seconds });
    },
    async control(path, body, method = body === undefined ? 'GET' : 'POST') {
      const response = await fetch(`${emulator.url}/__emulator${path}`, {
        method,
        headers: { 'content-type': 'application/json' },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
      const text = await response.text();
      if (!response.ok) throw new Error(`emulator ${method} ${path} → ${response.status}: ${text}`);
      return (text ? JSON.parse(text) : {}) as never;
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
