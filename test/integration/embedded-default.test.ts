import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { ChildProcess, spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { CatalogServiceClient } from '../../src/gen/billing/v1/catalog';
import { CustomerServiceClient } from '../../src/gen/billing/v1/customer';
import { EventServiceClient } from '../../src/gen/billing/v1/event';
import { EntitlementServiceClient } from '../../src/gen/billing/v1/entitlement';
import { CapabilitySupport, StorefrontServiceClient } from '../../src/gen/billing/v1/storefront';
import {
  CheckoutSessionStatus,
  SubscriptionServiceClient,
  SubscriptionStatus,
} from '../../src/gen/billing/v1/subscription';
import { eventually } from '../support/eventually';
import { call as callAs, callError } from '../support/test-service';
import { healthStatus } from '../support/health-check';
import { freePort } from '../support/free-port';

const ROOT = path.resolve(__dirname, '../..');

/** The embedded default accepts only the documented demo key; every call here is made with it. */
const DEMO_KEY = { authorization: 'Bearer demo_admin_key' };
const call: typeof callAs = (client, method, request, metadata = {}) =>
  callAs(client, method, request, { ...DEMO_KEY, ...metadata });

/** The customer a newcomer creates on a demo storefront (twice: before and after a restart). */
const NEWCOMER = {
  storefrontId: 'demo-subotiz',
  externalRef: 'newcomer',
  email: 'new@example.com',
  name: 'New',
  phone: '',
  country: 'DE',
  address: undefined,
};

/** The README's Paytiko customer: Paytiko needs a first and a last name, an E.164 phone and a country. */
const PAYTIKO_CUSTOMER = {
  storefrontId: 'demo-paytiko',
  externalRef: '',
  email: 'grace@example.com',
  name: 'Grace Hopper',
  phone: '+14155550123',
  country: 'US',
  address: undefined,
};

/** `npm start` as a newcomer runs it: no DATABASE_URL, no KAFKA_BROKERS — embedded PGlite, events in the outbox. */
describe('the embedded default (npm start with no configuration)', () => {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'billing-embedded-'));
  let grpcPort: number;
  let httpPort: number;
  let emulatorPort: number;
  let child: ChildProcess;
  let output = '';
  /** The checkout paid on the emulator (by the sale test), looked for again after a restart. */
  let paidSessionId = '';
  /** The Paytiko membership paid by the demo-paytiko test, looked for again after a restart. */
  let paidMembership = '';
  /** Every billing.v1 client a sale test uses, on the service's gRPC port; `close` closes them all. */
  const clients = () => {
    const address = `127.0.0.1:${grpcPort}`;
    const credentials = grpc.credentials.createInsecure();
    const opened = {
      storefronts: new StorefrontServiceClient(address, credentials),
      catalog: new CatalogServiceClient(address, credentials),
      customers: new CustomerServiceClient(address, credentials),
      subscriptions: new SubscriptionServiceClient(address, credentials),
      entitlements: new EntitlementServiceClient(address, credentials),
      events: new EventServiceClient(address, credentials),
    };
    return { ...opened, close: () => Object.values(opened).forEach((client) => client.close()) };
  };
  /** The types of the events ListEvents serves for `aggregateId`, oldest first. */
  const eventTypes = async (events: EventServiceClient, aggregateId: string) =>
    (
      await call(events, events.listEvents, {
        storefrontId: '',
        aggregateId,
        types: [],
        since: undefined,
        until: undefined,
        pageSize: 50,
        pageToken: '',
      })
    ).events.map((e) => e.type);

  beforeAll(async () => {
    [grpcPort, httpPort, emulatorPort] = [await freePort(), await freePort(), await freePort()];
    child = start();
  });

  afterAll(async () => {
    // tsx runs the service in a child process and relays SIGTERM to it; SIGKILL would orphan that child.
    if (child.exitCode === null) {
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGTERM');
      await Promise.race([exited, new Promise((r) => setTimeout(r, 15_000))]);
      if (child.exitCode === null) child.kill('SIGKILL');
    }
    fs.rmSync(dataDir, { recursive: true, force: true });
  });

  function start(): ChildProcess {
    const env: NodeJS.ProcessEnv = {
      ...process.env,
      DATA_DIR: dataDir,
      GRPC_PORT: String(grpcPort),
      HTTP_PORT: String(httpPort),
      EMULATOR_PORT: String(emulatorPort),
      HOST: '127.0.0.1',
    };
    delete env.DATABASE_URL;
    delete env.KAFKA_BROKERS;
    delete env.API_KEYS_FILE;
    delete env.AUTH_JWKS_URL;
    delete env.NODE_OPTIONS;
    // `npm start`'s command (node itself, tsx as a loader). Not the tsx CLI: that wrapper SIGKILLs its child when the
    // child does not confirm a signal within 30 ms, which a busy embedded database (PGlite runs on the event loop)
    // can miss, and then exits 143 although the service would have shut down cleanly.
    const proc = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts'], {
      cwd: ROOT,
      env,
    });
    proc.stdout!.on('data', (d) => (output += d));
    proc.stderr!.on('data', (d) => (output += d));
    return proc;
  }

  it('reports SERVING on grpc.health.v1 and ready on /readyz', async () => {
    const status = await waitForHealth(grpcPort);
    // On a failed start, what the process said is the diagnosis.
    if (status !== 'SERVING') throw new Error(`health ${status}; service output:\n${output.slice(-3000)}`);
    const ready = await fetch(`http://127.0.0.1:${httpPort}/readyz`);
    expect(ready.status).toBe(200);
    const metrics = await (await fetch(`http://127.0.0.1:${httpPort}/metrics`)).text();
    expect(metrics).toContain('billing_grpc_server_duration_seconds');
    // Without Kafka the demo seed's events wait in the outbox, and the gauge says so.
    expect(metrics).toMatch(/^billing_outbox_backlog [1-9]\d*$/m);
  });

  it('accepts only the documented demo key, and says so at start-up', async () => {
    expect(output).toContain('demo_admin_key');
    const storefronts = new StorefrontServiceClient(`127.0.0.1:${grpcPort}`, grpc.credentials.createInsecure());
    try {
      const request = { tenantId: '', pageSize: 0, pageToken: '' };
      for (const authorization of ['', 'Bearer test_admin_key', 'Bearer demo_admin_key2']) {
        const error = await callError(storefronts, storefronts.listStorefronts, request, { authorization });
        expect(error.code).toBe(grpc.status.UNAUTHENTICATED);
      }
      expect((await call(storefronts, storefronts.listStorefronts, request)).storefronts.length).toBeGreaterThan(0);
    } finally {
      storefronts.close();
    }
  });

  it('lists every billing.v1 service through server reflection (what grpcurl uses)', async () => {
    const services = await listServicesByReflection(grpcPort);
    expect(services).toEqual(
      expect.arrayContaining([
        'billing.v1.StorefrontService',
        'billing.v1.CatalogService',
        'billing.v1.CustomerService',
        'billing.v1.SubscriptionService',
        'billing.v1.PaymentService',
        'billing.v1.EntitlementService',
        'billing.v1.EventService',
        'grpc.health.v1.Health',
      ]),
    );
  });

  it('has the demo storefronts, and keeps events in the outbox where ListEvents serves them', async () => {
    const address = `127.0.0.1:${grpcPort}`;
    const credentials = grpc.credentials.createInsecure();
    const storefronts = new StorefrontServiceClient(address, credentials);
    const customers = new CustomerServiceClient(address, credentials);
    const events = new EventServiceClient(address, credentials);
    try {
      const { storefronts: list } = await call(storefronts, storefronts.listStorefronts, {
        tenantId: '',
        pageSize: 0,
        pageToken: '',
      });
      expect(list.map((s) => s.id)).toEqual(['demo-azotte', 'demo-paytiko', 'demo-subotiz']);

      const { customer } = await call(customers, customers.createCustomer, NEWCOMER);
      const listed = await call(events, events.listEvents, {
        storefrontId: '',
        aggregateId: customer!.id,
        types: [],
        since: undefined,
        until: undefined,
        pageSize: 10,
        pageToken: '',
      });
      expect(listed.events.map((e) => e.type)).toEqual(['billing.customer.created']);
    } finally {
      storefronts.close();
      customers.close();
      events.close();
    }
  });

  it('sells a demo subscription: checkout, pay on the in-process Subotiz emulator, ACTIVE with its events', async () => {
    const opened = clients();
    const { catalog, customers, subscriptions, events } = opened;
    try {
      const { plans } = await call(catalog, catalog.listPlans, {
        storefrontId: 'demo-subotiz',
        includeArchived: false,
        pageSize: 0,
        pageToken: '',
      });
      const basic = plans.find((p) => p.name === 'Basic monthly')!;
      const { customer } = await call(customers, customers.createCustomer, { ...NEWCOMER, email: 'buyer@example.com' });
      const checkout = await call(subscriptions, subscriptions.createCheckoutSession, {
        storefrontId: 'demo-subotiz',
        customerId: customer!.id,
        mode: 0,
        planId: basic.id,
        quantity: 1,
        amount: undefined,
        description: '',
        successUrl: '',
        cancelUrl: '',
        paymentMethodRef: '',
        uiMode: 0,
        promotionCode: '',
      });
      // One port for every emulator, each under /<provider>.
      expect(checkout.checkoutSession!.url).toContain(`127.0.0.1:${emulatorPort}/subotiz/`);
      paidSessionId = checkout.checkoutSession!.providerRef;
      const paid = await fetch(
        `http://127.0.0.1:${emulatorPort}/subotiz/__emulator/sessions/${checkout.checkoutSession!.providerRef}/complete`,
        { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' },
      );
      expect(paid.status).toBe(200);
      const id = checkout.subscription!.id;
      const types = await eventually(
        () => eventTypes(events, id),
        (seen) => seen.includes('billing.subscription.activated'),
        30_000,
      );
      expect(types).toEqual(['billing.subscription.created', 'billing.subscription.activated']);
      const { subscription } = await call(subscriptions, subscriptions.getSubscription, { subscriptionId: id });
      expect(subscription!.status).toBe(SubscriptionStatus.SUBSCRIPTION_STATUS_ACTIVE);
    } finally {
      opened.close();
    }
  });

  it('sells on demo-paytiko as the README walks it: checkout, pay on the hosted page, ACTIVE, renewal, emulated cancel', async () => {
    const opened = clients();
    const { storefronts, catalog, customers, subscriptions, entitlements, events } = opened;
    const emulator = `http://127.0.0.1:${emulatorPort}/paytiko`;
    const typesOf = (aggregateId: string) => eventTypes(events, aggregateId);
    try {
      const { storefront } = await call(storefronts, storefronts.getStorefront, { storefrontId: 'demo-paytiko' });
      expect(storefront!.binding!.config.base_url).toBe(emulator);
      expect(storefront!.capabilities).toContainEqual({
        operation: 'CancelSubscription.at_period_end',
        support: CapabilitySupport.CAPABILITY_SUPPORT_EMULATED,
      });
      const { plans } = await call(catalog, catalog.listPlans, {
        storefrontId: 'demo-paytiko',
        includeArchived: false,
        pageSize: 0,
        pageToken: '',
      });
      // Paytiko has no trials: the demo sells both plans there without one.
      expect(plans.map((p) => p.trialDays)).toEqual([0, 0]);
      const basic = plans.find((p) => p.name === 'Basic monthly')!;
      const { customer } = await call(customers, customers.createCustomer, PAYTIKO_CUSTOMER);
      const checkout = await call(
        subscriptions,
        subscriptions.createCheckoutSession,
        {
          storefrontId: 'demo-paytiko',
          customerId: customer!.id,
          mode: 0,
          planId: basic.id,
          quantity: 1,
          amount: undefined,
          description: '',
          successUrl: '',
          cancelUrl: '',
          paymentMethodRef: '',
          uiMode: 0,
          promotionCode: '',
        },
        { 'idempotency-key': 'checkout-grace-1' },
      );
      expect(checkout.subscription).toMatchObject({
        provider: 'paytiko',
        status: SubscriptionStatus.SUBSCRIPTION_STATUS_INCOMPLETE,
      });
      const page = checkout.checkoutSession!.nextAction!.redirectUrl ?? '';
      expect(page.startsWith(`${emulator}/hosted/checkout/`)).toBe(true);
      // What the hosted page's Pay button posts; the emulator then sends the buyer back to the binding's return page.
      const paid = await fetch(`${page}/pay`, { method: 'POST', redirect: 'manual' });
      expect(paid.status).toBe(303);
      expect(paid.headers.get('location')).toBe(`${emulator}/merchant/return`);

      const id = checkout.subscription!.id;
      const active = await eventually(
        () => call(subscriptions, subscriptions.getSubscription, { subscriptionId: id }).then((r) => r.subscription!),
        (s) => s.status === SubscriptionStatus.SUBSCRIPTION_STATUS_ACTIVE,
        30_000,
      );
      expect(await typesOf(id)).toEqual(['billing.subscription.created', 'billing.subscription.activated']);
      const session = await call(subscriptions, subscriptions.getCheckoutSession, {
        checkoutSessionId: checkout.checkoutSession!.id,
      });
      expect(session.checkoutSession!.status).toBe(CheckoutSessionStatus.CHECKOUT_SESSION_STATUS_COMPLETE);
      const entitlement = { customerId: customer!.id, featureKey: 'basic' };
      expect((await call(entitlements, entitlements.checkEntitlement, entitlement)).granted).toBe(true);

      // A month on the emulator's clock: Paytiko charges the renewal, the period moves on.
      const advanced = await fetch(`${emulator}/__emulator/clock/advance`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ seconds: 2_678_400 }),
      });
      expect(advanced.status).toBe(200);
      const renewed = await eventually(
        () => call(subscriptions, subscriptions.getSubscription, { subscriptionId: id }).then((r) => r.subscription!),
        (s) => s.currentPeriodEnd!.getTime() > active.currentPeriodEnd!.getTime(),
        30_000,
      );
      expect(renewed.status).toBe(SubscriptionStatus.SUBSCRIPTION_STATUS_ACTIVE);

      // Cancel at the period end, emulated: still ACTIVE and entitled until then.
      const canceled = await call(subscriptions, subscriptions.cancelSubscription, {
        subscriptionId: id,
        atPeriodEnd: true,
        reason: '',
      });
      expect(canceled.subscription).toMatchObject({
        status: SubscriptionStatus.SUBSCRIPTION_STATUS_ACTIVE,
        cancelAtPeriodEnd: true,
      });
      const until = await call(entitlements, entitlements.checkEntitlement, entitlement);
      expect(until.granted).toBe(true);
      expect(until.activeUntil).toEqual(renewed.currentPeriodEnd);
      expect(await typesOf(id)).toEqual([
        'billing.subscription.created',
        'billing.subscription.activated',
        'billing.subscription.renewed',
        'billing.subscription.cancellation_scheduled',
      ]);
      paidMembership = checkout.subscription!.providerRef;
    } finally {
      opened.close();
    }
  });

  it('sells on demo-azotte as the README walks it: stored card, PROCESSING then COMPLETE, renewal, cancel; 3-D Secure', async () => {
    const opened = clients();
    const { storefronts, catalog, customers, subscriptions, entitlements, events } = opened;
    const emulator = `http://127.0.0.1:${emulatorPort}/azotte`;
    const typesOf = (aggregateId: string) => eventTypes(events, aggregateId);
    const checkout = (customerId: string, planId: string, paymentMethodRef: string, key: string) =>
      call(
        subscriptions,
        subscriptions.createCheckoutSession,
        {
          storefrontId: 'demo-azotte',
          customerId,
          mode: 0,
          planId,
          quantity: 1,
          amount: undefined,
          description: '',
          successUrl: '',
          cancelUrl: '',
          paymentMethodRef,
          uiMode: 0,
          promotionCode: '',
        },
        { 'idempotency-key': key },
      );
    const session = (checkoutSessionId: string) =>
      call(subscriptions, subscriptions.getCheckoutSession, { checkoutSessionId });
    const buyer = (email: string, name: string) =>
      call(customers, customers.createCustomer, {
        storefrontId: 'demo-azotte',
        externalRef: '',
        email,
        name,
        phone: '',
        country: '',
        address: undefined,
      }).then((r) => r.customer!);
    try {
      const { storefront } = await call(storefronts, storefronts.getStorefront, { storefrontId: 'demo-azotte' });
      expect(storefront!.binding!.config.base_url).toBe(emulator);
      const { plans } = await call(catalog, catalog.listPlans, {
        storefrontId: 'demo-azotte',
        includeArchived: false,
        pageSize: 0,
        pageToken: '',
      });
      const basic = plans.find((p) => p.name === 'Basic monthly')!;
      const ada = await buyer('ada@example.com', 'Ada Lovelace');

      // A stored card, charged server to server: no page, the session PROCESSING until Azotte decides.
      const sold = await checkout(ada.id, basic.id, 'pm.test.visa', 'checkout-ada-azotte-1');
      expect(sold.checkoutSession).toMatchObject({
        status: CheckoutSessionStatus.CHECKOUT_SESSION_STATUS_PROCESSING,
        provider: 'azotte',
        nextAction: undefined,
      });
      expect(sold.checkoutSession!.providerRef).toMatch(/^trk_/);
      expect(sold.subscription).toMatchObject({
        provider: 'azotte',
        status: SubscriptionStatus.SUBSCRIPTION_STATUS_INCOMPLETE,
      });
      const done = await eventually(
        () => session(sold.checkoutSession!.id),
        (r) => r.checkoutSession!.status === CheckoutSessionStatus.CHECKOUT_SESSION_STATUS_COMPLETE,
        30_000,
      );
      expect(done.checkoutSession!.subscriptionId).toBe(sold.subscription!.id);

      // ACTIVE once Azotte's webhooks are applied, which may be a moment after the session says COMPLETE.
      const id = sold.subscription!.id;
      const read = () =>
        call(subscriptions, subscriptions.getSubscription, { subscriptionId: id }).then((r) => r.subscription!);
      const active = await eventually(read, (s) => s.status === SubscriptionStatus.SUBSCRIPTION_STATUS_ACTIVE, 30_000);
      const entitlement = { customerId: ada.id, featureKey: 'basic' };
      // Azotte grants the bundle's features with its own events, a moment after the subscription's.
      await eventually(
        () => call(entitlements, entitlements.checkEntitlement, entitlement),
        (r) => r.granted,
        30_000,
      );
      expect(await typesOf(id)).toEqual(['billing.subscription.created', 'billing.subscription.activated']);

      const advanced = await fetch(`${emulator}/__emulator/clock/advance`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ seconds: 2_678_400 }),
      });
      expect(advanced.status).toBe(200);
      await eventually(read, (s) => s.currentPeriodEnd!.getTime() > active.currentPeriodEnd!.getTime(), 30_000);

      const canceled = await call(subscriptions, subscriptions.cancelSubscription, {
        subscriptionId: id,
        atPeriodEnd: true,
        reason: '',
      });
      expect(canceled.subscription).toMatchObject({
        status: SubscriptionStatus.SUBSCRIPTION_STATUS_ACTIVE,
        cancelAtPeriodEnd: true,
      });
      expect((await call(entitlements, entitlements.checkEntitlement, entitlement)).granted).toBe(true);
      await eventually(
        () => typesOf(id),
        (types) => types.includes('billing.subscription.cancellation_scheduled'),
        30_000,
      );
      expect(await typesOf(id)).toEqual([
        'billing.subscription.created',
        'billing.subscription.activated',
        'billing.subscription.renewed',
        'billing.subscription.cancellation_scheduled',
      ]);

      // 3-D Secure: the session waits for the buyer on the page in next_action, and completes once it is passed.
      const alan = await buyer('alan@example.com', 'Alan Turing');
      const secure = await checkout(alan.id, basic.id, 'pm.test.visa_3ds', 'checkout-alan-azotte-1');
      const waiting = await eventually(
        () => session(secure.checkoutSession!.id),
        (r) => r.checkoutSession!.status !== CheckoutSessionStatus.CHECKOUT_SESSION_STATUS_PROCESSING,
        30_000,
      );
      expect(waiting.checkoutSession!.status).toBe(CheckoutSessionStatus.CHECKOUT_SESSION_STATUS_ACTION_REQUIRED);
      const page = waiting.checkoutSession!.nextAction!.redirectUrl ?? '';
      expect(page.startsWith(`${emulator}/3ds/`)).toBe(true);
      expect(await (await fetch(page)).text()).toContain('value="pass"');
      // What the page's Pass button posts.
      const passed = await fetch(page, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: 'outcome=pass',
      });
      expect(passed.status).toBe(200);
      const complete = await eventually(
        () => session(secure.checkoutSession!.id),
        (r) => r.checkoutSession!.status === CheckoutSessionStatus.CHECKOUT_SESSION_STATUS_COMPLETE,
        30_000,
      );
      await eventually(
        () =>
          call(subscriptions, subscriptions.getSubscription, {
            subscriptionId: complete.checkoutSession!.subscriptionId,
          }),
        (r) => r.subscription!.status === SubscriptionStatus.SUBSCRIPTION_STATUS_ACTIVE,
        30_000,
      );
    } finally {
      opened.close();
    }
  });

  it('shuts down cleanly on SIGTERM and keeps its data for the next start', async () => {
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    child.kill('SIGTERM');
    expect(await exited).toBe(0);
    expect(output).toContain('stopped');

    child = start();
    expect(await waitForHealth(grpcPort)).toBe('SERVING');
    const customers = new CustomerServiceClient(`127.0.0.1:${grpcPort}`, grpc.credentials.createInsecure());
    const again = await call(customers, customers.createCustomer, NEWCOMER);
    customers.close();
    expect(again.created).toBe(false);
  });

  it("keeps the emulator's state across the restart: the paid session and its subscription are still there", async () => {
    expect(paidSessionId).not.toBe('');
    expect(fs.existsSync(path.join(dataDir, 'emulators', 'subotiz.json'))).toBe(true);
    const emulator = `http://127.0.0.1:${emulatorPort}/subotiz`;
    const counts = (await (await fetch(`${emulator}/__emulator/state`)).json()) as Record<string, number>;
    expect(counts).toMatchObject({ sessions: 1, subscriptions: 1, invoices: 1 });
    const page = await fetch(`${emulator}/checkout/${paidSessionId}`);
    expect(page.status).toBe(200);
    expect(await page.text()).toContain('status <strong>complete</strong>');

    // The Paytiko emulator kept its membership too.
    expect(paidMembership).toMatch(/^mmbrshp_/);
    const membership = await fetch(`http://127.0.0.1:${emulatorPort}/paytiko/__emulator/memberships/${paidMembership}`);
    expect(((await membership.json()) as { status: string }).status).toBe('Active');
  });
});

/** Polls gRPC health until SERVING. PGlite's start and migrations take most of it, slower on a busy machine. */
async function waitForHealth(port: number, timeoutMs = 90_000): Promise<string> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const status = await healthStatus(port);
    if (status === 'SERVING' || Date.now() > deadline) return status;
    await new Promise((r) => setTimeout(r, 200));
  }
}

async function listServicesByReflection(port: number): Promise<string[]> {
  const definition = protoLoader.loadSync(
    path.join(ROOT, 'node_modules/@grpc/reflection/build/proto/grpc/reflection/v1/reflection.proto'),
  );
  const pkg = grpc.loadPackageDefinition(definition) as any; // eslint-disable-line @typescript-eslint/no-explicit-any
  const client = new pkg.grpc.reflection.v1.ServerReflection(`127.0.0.1:${port}`, grpc.credentials.createInsecure());
  return new Promise((resolve, reject) => {
    const stream = client.ServerReflectionInfo();
    stream.on('data', (response: { listServicesResponse?: { service: { name: string }[] } }) => {
      resolve(response.listServicesResponse!.service.map((s) => s.name));
      stream.end();
      client.close();
    });
    stream.on('error', reject);
    stream.write({ listServices: '' });
  });
}
