import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { type AzotteEmulator, startAzotteEmulator } from '../../adapters/azotte/emulator';
import { SubscriptionStatus } from '../../src/gen/billing/v1/subscription';
import { azotteGrpcWorld } from '../support/azotte-grpc-world';
import { emulatorControl } from '../support/emulator-control';
import { eventually } from '../support/eventually';
import { brokersFromEnv } from '../support/kafka-collector';
import { createTestDatabase, type TestDatabase } from '../support/test-database';
import { call, startTestService, type TestService } from '../support/test-service';

// A bundle's entitlements tell when access ends (adapters/azotte/README.md items 29, 31, 38): an EndOfPeriod cancel
// sends `entitlement.updated` with `activeUntil` = the subscription's `endDate`, a reactivate `entitlement.updated`
// with `activeUntil: null`; the entitlements end (once) when the subscription expires.

type Json = any; // eslint-disable-line @typescript-eslint/no-explicit-any

const TENANT = { tenant: 'tn-ent', apiKey: 'key-ent' };
const STOREFRONT = 'st.00.001';
const DAY = 86_400;

interface Envelope {
  type: string;
  sequence: number;
  correlationId: string;
  data: Json;
}

/** An emulator of its own whose tenant's webhooks land in `received`, and the C2A calls the tests make. */
async function startEmulatorWorld() {
  const received: Envelope[] = [];
  const receiver = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      received.push(JSON.parse(Buffer.concat(chunks).toString('utf8')) as Envelope);
      res.writeHead(200).end();
    });
  });
  await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
  const emulator: AzotteEmulator = await startAzotteEmulator({
    processingDelaySeconds: 0,
    tenants: [
      {
        ...TENANT,
        webhookUrl: `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hook`,
        webhookSecrets: ['whsec-ent'],
        testCards: true,
      },
    ],
    catalog: {
      storefronts: [{ storefrontUrn: STOREFRONT, currency: 'EUR' }],
      bundles: [
        {
          storefrontUrn: STOREFRONT,
          bundleUrn: 'bn.ent.1',
          sku: 'ENT-M',
          name: 'Basic monthly',
          amountMilpieces: 999n,
          currency: 'EUR',
          period: { unit: 'Month', count: 1 },
          trialDays: 0,
          entitlements: ['basic', 'extra'],
        },
      ],
    },
  });
  const control = <T = Record<string, Json>>(p: string, body?: unknown) => emulatorControl<T>(emulator.url, p, body);
  const api = async (p: string, body?: unknown) => {
    const response = await fetch(`${emulator.url}/api/v1/c2a${p}`, {
      method: body === undefined ? 'GET' : 'POST',
      headers: {
        'x-api-key': TENANT.apiKey,
        'x-tn': TENANT.tenant,
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await response.text();
    return { status: response.status, body: (text ? JSON.parse(text) : {}) as Json };
  };
  /** A customer with a DONE subscription paid by the test card. */
  const subscribed = async () => {
    const stored = await api('/customer/store', {
      customer: { externalIdentifier: `cus_${received.length}_${Date.now()}`, email: 'ent@example.com' },
      claimedRegion: { countryCode: 'DE', languageCode: 'de' },
    });
    const customerUrn = stored.body.result.customerUrn as string;
    const offer = (
      await api('/offer/bundles', {
        context: { customerUrn, storefrontUrn: STOREFRONT, interactionType: 'NewAcquisition', channel: 'Azotte' },
      })
    ).body.offer as Json;
    const submitted = await api('/offer/checkout', {
      order: {
        offerIdentifier: offer.offerIdentifier,
        correlationId: `sub_${customerUrn}`,
        items: [{ itemIdentifier: offer.artifactGroups[0].itemIdentifier, quantity: 1 }],
        customer: { customerUrn },
      },
      paymentMethod: { paymentChannel: 'CreditCard', useStoredMethod: true, paymentMethodUrn: 'pm.test.visa' },
    });
    expect(submitted.status).toBe(202);
    const done = await eventually(
      () => api(`/offer/checkout/${submitted.body.trackingNumber as string}/status`),
      (a) => a.body.status.messageCode !== 'CHECK_OUT_PROCESSING',
    );
    expect(done.body.status.messageCode).toBe('CHECK_OUT_DONE');
    return { customerUrn, orderIdentifier: done.body.orderIdentifier as string };
  };
  const cancel = async (orderIdentifier: string) => {
    const request = { orderIdentifier, cancelationMethod: 'EndOfPeriod', currentStep: 0 };
    expect((await api('/subscription/cancel/request', request)).status).toBe(200);
    expect((await api('/subscription/cancel/confirm', { ...request, currentStep: 1 })).status).toBe(200);
  };
  const advance = async (seconds: number) => {
    await emulator.idle();
    await control('/clock/advance', { seconds });
    await emulator.idle();
  };
  /** The customer's delivered events in sequence order, after every queued delivery. */
  const events = async (customerUrn: string) => {
    await emulator.idle();
    return received.filter((e) => e.data.customerUrn === customerUrn).sort((a, b) => a.sequence - b.sequence);
  };
  const stop = async () => {
    await emulator.stop();
    await new Promise<void>((resolve) => {
      receiver.close(() => resolve());
      receiver.closeAllConnections();
    });
  };
  return { api, control, subscribed, cancel, advance, events, stop };
}

const types = (list: Envelope[]) => list.map((e) => e.type);

describe('Azotte emulator: bundle entitlements follow an EndOfPeriod cancel and its reactivate', () => {
  let world: Awaited<ReturnType<typeof startEmulatorWorld>>;
  beforeEach(async () => {
    world = await startEmulatorWorld();
  });
  afterEach(async () => {
    await world.stop();
  });

  it('cancel at period end: canceled, entitlement.updated to endDate per bundle feature, audit; reactivate clears it', async () => {
    const { api, subscribed, cancel, events } = world;
    const { customerUrn, orderIdentifier } = await subscribed();
    const bought = await events(customerUrn);
    const granted = bought.filter((e) => e.type === 'entitlement.granted');
    expect(granted.map((e) => [e.data.featureKey, e.data.activeUntil])).toEqual([
      ['basic', null],
      ['extra', null],
    ]);

    await cancel(orderIdentifier);
    let list = (await events(customerUrn)).slice(bought.length);
    expect(types(list)).toEqual([
      'subscription.canceled',
      'entitlement.updated',
      'entitlement.updated',
      'audit.state_changed',
    ]);
    const endDate = list[0]!.data.endDate as string;
    expect(endDate).toBe(list[0]!.data.currentPeriodEnd);
    for (const [i, updated] of list.slice(1, 3).entries()) {
      expect(updated.data).toMatchObject({
        entitlementUrn: granted[i]!.data.entitlementUrn,
        featureKey: granted[i]!.data.featureKey,
        orderIdentifier,
        source: 'Bundle',
        activeFrom: granted[i]!.data.activeFrom,
        activeUntil: endDate,
      });
      // One cause: the cancel's events share its correlationId.
      expect(updated.correlationId).toBe(list[0]!.correlationId);
    }
    // A repeated confirm changes nothing and sends nothing.
    const confirm = { orderIdentifier, cancelationMethod: 'EndOfPeriod', currentStep: 1 };
    expect((await api('/subscription/cancel/confirm', confirm)).status).toBe(200);
    expect(await events(customerUrn)).toHaveLength(bought.length + 4);

    expect((await api('/subscription/reactivate', { orderIdentifier })).status).toBe(200);
    list = (await events(customerUrn)).slice(bought.length + 4);
    expect(types(list)).toEqual([
      'subscription.reactivated',
      'entitlement.updated',
      'entitlement.updated',
      'audit.state_changed',
    ]);
    for (const [i, updated] of list.slice(1, 3).entries()) {
      expect(updated.data).toMatchObject({
        entitlementUrn: granted[i]!.data.entitlementUrn,
        orderIdentifier,
        source: 'Bundle',
        activeUntil: null,
      });
    }
    // Reactivating again is a no-op that sends nothing.
    expect((await api('/subscription/reactivate', { orderIdentifier })).status).toBe(200);
    expect(await events(customerUrn)).toHaveLength(bought.length + 8);
  });

  it('a reactivated subscription renews with its entitlements live; a second cancel ends them once, at expiry', async () => {
    const { control, subscribed, cancel, advance, events } = world;
    const { customerUrn, orderIdentifier } = await subscribed();
    await cancel(orderIdentifier);
    expect((await world.api('/subscription/reactivate', { orderIdentifier })).status).toBe(200);
    const before = (await events(customerUrn)).length;

    // Past the period end: it renews (Reactivated → Active); nothing ends its entitlements.
    await advance(32 * DAY);
    let list = (await events(customerUrn)).slice(before);
    expect(types(list)).toEqual(['payment.captured', 'subscription.renewed', 'audit.state_changed']);

    await cancel(orderIdentifier);
    const canceled = await control(`/subscriptions/${orderIdentifier}`);
    list = (await events(customerUrn)).slice(before + 3);
    expect(list.filter((e) => e.type === 'entitlement.updated').map((e) => e.data.activeUntil)).toEqual([
      canceled.endDate,
      canceled.endDate,
    ]);

    // At endDate it expires: each bundle entitlement is revoked exactly once (by the expiry, not by its activeUntil).
    await advance(32 * DAY);
    list = (await events(customerUrn)).slice(before + 3 + 4);
    expect(types(list)).toEqual([
      'entitlement.revoked',
      'entitlement.revoked',
      'subscription.expired',
      'audit.state_changed',
    ]);
    expect(list[0]!.data).toMatchObject({ featureKey: 'basic', activeUntil: canceled.endDate });
    expect(list[1]!.data).toMatchObject({ featureKey: 'extra', activeUntil: canceled.endDate });
    expect(new Set(list.map((e) => e.correlationId)).size).toBe(1);
    await advance(DAY);
    expect((await events(customerUrn)).slice(before + 3 + 4)).toHaveLength(4);
  });
});

describe('Azotte over gRPC: CheckEntitlement shows when access ends after a cancel at period end', () => {
  let db: TestDatabase;
  let service: TestService;

  beforeAll(async () => {
    db = await createTestDatabase();
    service = await startTestService({ DATABASE_URL: db.url, KAFKA_BROKERS: brokersFromEnv().join(',') });
  });
  afterAll(async () => {
    await service?.close();
    await db?.drop();
  });

  it('cancel at period end sets the end date on every bundle feature; RevokeCancellation clears it', async () => {
    const world = await azotteGrpcWorld(service, { storefrontId: 'azotte-ent' });
    try {
      const { subscriptions: subs } = service.clients;
      const check = (featureKey: string) =>
        call(world.entitlements, world.entitlements.checkEntitlement, { customerId: world.customerId, featureKey });
      const subscription = await world.activeSubscription();
      for (const feature of ['basic', 'extra']) {
        const open = await eventually(
          () => check(feature),
          (a) => a.granted,
        );
        expect(open).toMatchObject({ granted: true, subscriptionId: subscription.id });
        expect(open.activeUntil).toBeUndefined();
      }

      const canceled = await call(subs, subs.cancelSubscription, {
        subscriptionId: subscription.id,
        atPeriodEnd: true,
        reason: 'moving away',
      });
      expect(canceled.subscription).toMatchObject({ cancelAtPeriodEnd: true });
      const periodEnd = subscription.currentPeriodEnd!.getTime();
      for (const feature of ['basic', 'extra']) {
        const ending = await eventually(
          () => check(feature),
          (a) => a.activeUntil !== undefined,
        );
        expect(ending).toMatchObject({ granted: true, subscriptionId: subscription.id });
        expect(ending.activeUntil!.getTime()).toBe(periodEnd);
      }

      const revoked = await call(subs, subs.revokeCancellation, { subscriptionId: subscription.id });
      expect(revoked.subscription).toMatchObject({ cancelAtPeriodEnd: false });
      for (const feature of ['basic', 'extra']) {
        const open = await eventually(
          () => check(feature),
          (a) => a.activeUntil === undefined,
        );
        expect(open.granted).toBe(true);
      }
      expect((await world.subscription(subscription.id)).status).toBe(SubscriptionStatus.SUBSCRIPTION_STATUS_ACTIVE);
    } finally {
      await world.close();
    }
  });
});
