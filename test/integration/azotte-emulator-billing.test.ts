import { spawn } from 'node:child_process';
import { createHmac } from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { type AzotteEmulator, startAzotteEmulator } from '../../adapters/azotte/emulator';
import { emulatorControl } from '../support/emulator-control';
import { eventually } from '../support/eventually';

// The emulator's billing rules over HTTP (adapters/azotte/README.md items 17–18, 19, 22–23, 26, 29–33, 38–39,
// 45–47): each test has an emulator of its own, because clock advances and armed charge failures are global.

type Json = any; // eslint-disable-line @typescript-eslint/no-explicit-any

const TENANT = { tenant: 'tn-bill', apiKey: 'key-bill' };
const OTHER = { tenant: 'tn-other', apiKey: 'key-other' };
const STOREFRONT = 'st.00.001';
const MINUTE = 60;
const DAY = 86_400;

/** Item 27's Subscription fields; a `subscription.*` event's data is exactly these plus `previousState`. */
const SUBSCRIPTION_KEYS = [
  'orderIdentifier',
  'originalOrderIdentifier',
  'replacedByOrderIdentifier',
  'correlationId',
  'customerUrn',
  'storefrontUrn',
  'bundleUrn',
  'bundleSku',
  'bundleName',
  'state',
  'startDate',
  'endDate',
  'currentPeriodStart',
  'currentPeriodEnd',
  'trialEndDate',
  'cancelationMethod',
  'canceledAt',
  'quantity',
  'price',
  'paymentMethodUrn',
  'initialAssignmentType',
  'subscriptionChannel',
  'subscriptionChannelName',
  'options',
].sort();
const PAYMENT_KEYS = [
  'paymentUrn',
  'orderIdentifier',
  'customerUrn',
  'paymentMethodUrn',
  'kind',
  'amountMilpieces',
  'currency',
  'state',
  'periodStart',
  'periodEnd',
  'failure',
  'refundedMilpieces',
  'subscription',
  'cycle',
].sort();
const ENTITLEMENT_KEYS = [
  'entitlementUrn',
  'customerUrn',
  'orderIdentifier',
  'featureKey',
  'activeFrom',
  'activeUntil',
  'source',
].sort();
const AUDIT_KEYS = ['entity', 'entityUrn', 'field', 'from', 'to', 'customerUrn'].sort();

interface Envelope {
  id: string;
  type: string;
  groupCode: number;
  sequence: number;
  correlationId: string;
  actor: { type: string; id: string };
  data: Json;
}
interface Received {
  signature: string;
  raw: string;
  envelope: Envelope;
}

async function startReceiver() {
  const received: Received[] = [];
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const raw = Buffer.concat(chunks).toString('utf8');
      received.push({
        signature: String(req.headers['azotte-signature'] ?? ''),
        raw,
        envelope: JSON.parse(raw) as Envelope,
      });
      res.writeHead(200).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    received,
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

const BASIC = {
  storefront_urn: STOREFRONT,
  bundle_urn: 'bn.00.1',
  sku: 'BASIC-M',
  name: 'Basic monthly',
  amount_milpieces: 999,
  currency: 'EUR',
  period: { unit: 'Month', count: 1 },
  trial_days: 0,
  entitlements: ['basic', 'extra'],
};
const TRIAL = { ...BASIC, bundle_urn: 'bn.00.7', sku: 'TRIAL-M', name: 'Trial monthly', trial_days: 7 };

/** One emulator, one receiver, one tenant with test cards, and the C2A calls the tests make. */
async function startWorld(stateFile?: string) {
  const receiver = await startReceiver();
  const emulator: AzotteEmulator = await startAzotteEmulator({ processingDelaySeconds: 0, stateFile });
  const control = <T = Record<string, Json>>(p: string, body?: unknown) => emulatorControl<T>(emulator.url, p, body);
  for (const t of [TENANT, OTHER]) {
    await control('/tenants', {
      tenant: t.tenant,
      api_key: t.apiKey,
      webhook_url: receiver.url,
      webhook_secrets: ['whsec-1'],
      test_cards: true,
    });
  }
  await control('/catalog', {
    storefronts: [{ storefront_urn: STOREFRONT, currency: 'EUR' }],
    bundles: [BASIC, TRIAL],
    campaigns: [
      {
        campaign_code: 'WELCOME',
        promotion_code: 'WELCOME10',
        description: '10 %',
        percent_off_basis_points: 1000,
        cycles: 2,
      },
    ],
  });
  const api = async (p: string, body?: unknown, key = TENANT) => {
    const response = await fetch(`${emulator.url}/api/v1/c2a${p}`, {
      method: body === undefined ? 'GET' : 'POST',
      headers: {
        'x-api-key': key.apiKey,
        'x-tn': key.tenant,
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await response.text();
    return { status: response.status, body: (text ? JSON.parse(text) : {}) as Json };
  };
  let customers = 0;
  const storeCustomer = async (key = TENANT): Promise<string> => {
    customers += 1;
    const answer = await api(
      '/customer/store',
      {
        customer: { externalIdentifier: `cus_${key.tenant}_${customers}`, email: `c${customers}@${key.tenant}.test` },
        claimedRegion: { countryCode: 'DE', languageCode: 'de' },
      },
      key,
    );
    expect(answer.status).toBe(200);
    return answer.body.result.customerUrn as string;
  };
  const offer = async (customerUrn: string) =>
    (
      await api('/offer/bundles', {
        context: { customerUrn, storefrontUrn: STOREFRONT, interactionType: 'NewAcquisition', channel: 'Azotte' },
      })
    ).body.offer as Json;
  const checkout = (customerUrn: string, of: Json, bundleUrn: string, card: string, correlationId: string) =>
    api('/offer/checkout', {
      order: {
        offerIdentifier: of.offerIdentifier,
        correlationId,
        items: [
          {
            itemIdentifier: (of.artifactGroups as Json[]).find((g) => g.bundleUrn === bundleUrn)?.itemIdentifier,
            quantity: 1,
          },
        ],
        customer: { customerUrn },
      },
      paymentMethod: { paymentChannel: 'CreditCard', useStoredMethod: true, paymentMethodUrn: card },
    });
  const status = (trackingNumber: string) => api(`/offer/checkout/${trackingNumber}/status`);
  /** A customer with a DONE subscription to `bundleUrn`; answers its urn and orderIdentifier. */
  const subscribed = async (bundleUrn = 'bn.00.1') => {
    const customerUrn = await storeCustomer();
    const submitted = await checkout(
      customerUrn,
      await offer(customerUrn),
      bundleUrn,
      'pm.test.visa',
      `sub_${customerUrn}`,
    );
    expect(submitted.status).toBe(202);
    const done = await eventually(
      () => status(submitted.body.trackingNumber as string),
      (a) => a.body.status.messageCode !== 'CHECK_OUT_PROCESSING',
    );
    expect(done.body.status.messageCode).toBe('CHECK_OUT_DONE');
    return { customerUrn, orderIdentifier: done.body.orderIdentifier as string };
  };
  const advance = async (seconds: number) => {
    await emulator.idle();
    await control('/clock/advance', { seconds });
    await emulator.idle();
  };
  /** Moves the clock just past the subscription's `currentPeriodEnd` (months are 28–31 days). */
  const toPeriodEnd = async (orderIdentifier: string) => {
    const s = await control(`/subscriptions/${orderIdentifier}`);
    const now = Date.parse((await control('/clock')).now as string);
    await advance(Math.ceil((Date.parse(s.currentPeriodEnd as string) - now) / 1000) + 1);
  };
  /** The customer's delivered events in sequence order, after every queued delivery. */
  const events = async (customerUrn: string): Promise<Envelope[]> => {
    await emulator.idle();
    return receiver.received
      .map((r) => r.envelope)
      .filter((e) => e.data.customerUrn === customerUrn)
      .sort((a, b) => a.sequence - b.sequence);
  };
  const stop = async () => {
    await emulator.stop();
    await receiver.close();
  };
  return {
    emulator,
    receiver,
    control,
    api,
    storeCustomer,
    offer,
    checkout,
    status,
    subscribed,
    advance,
    toPeriodEnd,
    events,
    stop,
  };
}

type World = Awaited<ReturnType<typeof startWorld>>;

const types = (list: Envelope[]) => list.map((e) => e.type);
const keys = (data: Json) => Object.keys(data as object).sort();

/** Checks every event's `data` carries exactly the fields of item 38 for its family. */
function expectContractData(list: Envelope[]): void {
  for (const e of list) {
    const family = e.type.split('.')[0];
    if (family === 'subscription') expect(keys(e.data)).toEqual([...SUBSCRIPTION_KEYS, 'previousState'].sort());
    if (family === 'payment') {
      expect(keys(e.data)).toEqual(PAYMENT_KEYS);
      if (e.data.subscription !== null) expect(keys(e.data.subscription)).toEqual(SUBSCRIPTION_KEYS);
    }
    if (family === 'entitlement') expect(keys(e.data)).toEqual(ENTITLEMENT_KEYS);
    if (family === 'audit') expect(keys(e.data)).toEqual(AUDIT_KEYS);
    expect(e.groupCode).toBe({ subscription: 0, campaign: 0, payment: 20, entitlement: 30, audit: 40 }[family ?? '']);
  }
  expect(list.map((e) => e.sequence)).toEqual(list.map((_e, i) => i + 1));
}

const PURCHASE = [
  'subscription.created',
  'payment.captured',
  'entitlement.granted',
  'entitlement.granted',
  'audit.state_changed',
];

describe('Azotte emulator billing rules over HTTP', () => {
  let world: World;
  beforeEach(async () => {
    world = await startWorld();
  });
  afterEach(async () => {
    await world.stop();
  });

  it('updates a customer partially (null untouched), refuses a taken email, and finds one by exId', async () => {
    const { api, storeCustomer } = world;
    const urn = await storeCustomer();
    const other = await storeCustomer();
    const updated = await api('/customer/update', {
      customer: { customerUrn: urn, phoneNumber: '+4915112345678', firstName: 'Ada', email: null },
      claimedRegion: { countryCode: 'FR', languageCode: 'fr' },
    });
    expect(updated.status).toBe(200);
    expect(updated.body.result).toMatchObject({
      customerUrn: urn,
      phoneNumber: '+4915112345678',
      firstName: 'Ada',
      lastName: null,
      claimedRegion: { countryCode: 'FR', languageCode: 'fr' },
    });
    expect(updated.body.result.email).toMatch(/@tn-bill\.test$/);
    const taken = await api('/customer/update', { customer: { customerUrn: other, phoneNumber: '+4915112345678' } });
    expect([taken.status, taken.body.status.messageCode]).toEqual([409, 'USER_WITH_SAME_PHONE_NUMBER_EXISTS']);
    const bad = await api('/customer/update', { customer: { customerUrn: urn, phoneNumber: '0151' } });
    expect([bad.status, bad.body.status.errors]).toEqual([
      400,
      [expect.objectContaining({ field: 'customer.phoneNumber' })],
    ]);
    const unknown = await api('/customer/update', { customer: { customerUrn: 'cu.00.9999', firstName: 'X' } });
    expect([unknown.status, unknown.body.status.messageCode]).toEqual([404, 'CUSTOMER_NOT_FOUND']);

    const byExId = await api(
      `/customer/info?exId=${encodeURIComponent(updated.body.result.externalIdentifier as string)}`,
    );
    expect(byExId.status).toBe(200);
    expect(byExId.body.result).toMatchObject({
      customerUrn: urn,
      firstName: 'Ada',
      options: { availableChannels: ['CARD'], canSavePaymentMethod: true },
    });
    // `urn` wins over `exId`.
    expect((await api(`/customer/info?urn=${other}&exId=cus_nope`)).body.result.customerUrn).toBe(other);
    expect((await api('/customer/info?exId=cus_nope')).body.status.messageCode).toBe('CUSTOMER_NOT_FOUND');
    const neither = await api('/customer/info');
    expect([neither.status, neither.body.status.errors[0].field]).toEqual([400, 'urn']);
    // Another tenant's customer does not exist here.
    expect((await api(`/customer/info?urn=${urn}`, undefined, OTHER)).status).toBe(404);
  });

  it('answers payment method info for a test card only with c=, for a stored card with or without it', async () => {
    const { api, control, storeCustomer } = world;
    const urn = await storeCustomer();
    const other = await storeCustomer();
    const noCustomer = await api('/customer/payment/methods/info?p=pm.test.visa');
    expect([noCustomer.status, noCustomer.body.status.messageCode, noCustomer.body.status.errors[0].field]).toEqual([
      400,
      'INVALID_REQUEST',
      'c',
    ]);
    const mine = await api(`/customer/payment/methods/info?p=pm.test.visa&c=${other}`);
    expect(mine.body.result).toMatchObject({ paymentMethodUrn: 'pm.test.visa', customerUrn: other, state: 'Active' });
    const stored = await control('/payment-methods', { customer_urn: urn, last4: '4242' });
    const found = await api(`/customer/payment/methods/info?p=${stored.paymentMethodUrn}`);
    expect(found.body.result).toMatchObject({ customerUrn: urn, maskedCardNumber: '411111******4242' });
    expect((await api(`/customer/payment/methods/info?p=${stored.paymentMethodUrn}&c=${urn}`)).status).toBe(200);
    const notTheirs = await api(`/customer/payment/methods/info?p=${stored.paymentMethodUrn}&c=${other}`);
    expect([notTheirs.status, notTheirs.body.status.messageCode]).toEqual([404, 'PAYMENT_METHOD_NOT_FOUND']);
    const unknownCustomer = await api('/customer/payment/methods/info?p=pm.test.visa&c=cu.00.9999');
    expect([unknownCustomer.status, unknownCustomer.body.status.messageCode]).toEqual([404, 'CUSTOMER_NOT_FOUND']);
  });

  it('refuses an offer older than 15 minutes (OFFER_EXPIRED) and a showcase offer (OFFER_NOT_PURCHASABLE)', async () => {
    const { api, advance, offer, checkout, storeCustomer } = world;
    const urn = await storeCustomer();
    const fresh = await offer(urn);
    expect(
      Date.parse(fresh.expiresAt as string) - Date.parse((await world.control('/clock')).now as string),
    ).toBeLessThanOrEqual(15 * MINUTE * 1000);
    await advance(15 * MINUTE + 1);
    const expired = await checkout(urn, fresh, 'bn.00.1', 'pm.test.visa', 'sub_expired');
    expect([expired.status, expired.body.status.messageCode]).toEqual([409, 'OFFER_EXPIRED']);
    // Refused before anything was kept: the same correlationId goes through with a fresh offer.
    const again = await checkout(urn, await offer(urn), 'bn.00.1', 'pm.test.visa', 'sub_expired');
    expect(again.status).toBe(202);

    const showcase = await checkout(
      urn,
      { ...(await offer(urn)), offerIdentifier: 'sh_01JC0000000000000000000000' },
      'bn.00.1',
      'pm.test.visa',
      'sub_showcase',
    );
    expect([showcase.status, showcase.body.status.messageCode]).toEqual([409, 'OFFER_NOT_PURCHASABLE']);
    expect((await api(`/subscription/${urn}`)).body.result).toHaveLength(1);
  });

  it('answers a replayed correlationId with the first trackingNumber and never charges twice', async () => {
    const { api, offer, checkout, status, subscribed, events } = world;
    const { customerUrn, orderIdentifier } = await subscribed();
    const first = (await events(customerUrn)).length;
    const replay = await checkout(
      customerUrn,
      await offer(customerUrn),
      'bn.00.1',
      'pm.test.declined',
      `sub_${customerUrn}`,
    );
    expect(replay.status).toBe(202);
    expect(replay.body).toMatchObject({ orderIdentifier, status: { messageCode: 'CHECK_OUT_DONE' } });
    const tracked = await status(replay.body.trackingNumber as string);
    expect(tracked.body.orderIdentifier).toBe(orderIdentifier);
    // Even a body naming nothing valid answers the first submission.
    const garbage = await api('/offer/checkout', {
      order: { offerIdentifier: 'of_x', correlationId: `sub_${customerUrn}`, items: [], customer: { customerUrn } },
      paymentMethod: { paymentChannel: 'CreditCard', useStoredMethod: true, paymentMethodUrn: 'pm.nope' },
    });
    expect([garbage.status, garbage.body.trackingNumber]).toEqual([202, replay.body.trackingNumber]);
    const list = await events(customerUrn);
    expect(list).toHaveLength(first);
    expect(types(list).filter((t) => t === 'payment.captured')).toHaveLength(1);
    expect((await api(`/subscription/${customerUrn}`)).body.result).toHaveLength(1);
  });

  it('dunning: a failed renewal is PastDue, retried every 24 h 3 times, then Expired with entitlements revoked', async () => {
    const { control, advance, toPeriodEnd, subscribed, events, api } = world;
    const { customerUrn, orderIdentifier } = await subscribed();
    await control('/charges/fail-next', { count: 4 });
    await toPeriodEnd(orderIdentifier);
    let list = await events(customerUrn);
    expect(types(list).slice(5)).toEqual(['payment.failed', 'audit.state_changed']);
    const failed = list[5]!.data;
    expect(failed).toMatchObject({
      kind: 'Renewal',
      state: 'Failed',
      orderIdentifier,
      amountMilpieces: 999,
      failure: { code: 'CARD_DECLINED' },
      subscription: { orderIdentifier, state: 'PastDue' },
    });
    expect(list[6]!.data).toMatchObject({ entity: 'Subscription', field: 'state', from: 'Active', to: 'PastDue' });
    for (let retry = 1; retry <= 3; retry += 1) await advance(DAY);
    list = await events(customerUrn);
    expect(types(list)).toEqual([
      ...PURCHASE,
      'payment.failed',
      'audit.state_changed',
      'payment.failed',
      'payment.failed',
      'payment.failed',
      'entitlement.revoked',
      'entitlement.revoked',
      'subscription.expired',
      'audit.state_changed',
    ]);
    expectContractData(list);
    // The checkout's charge paid period 1; every attempt of the failed renewal is for period 2.
    expect(list.filter((e) => e.type.startsWith('payment.')).map((e) => [e.data.kind, e.data.cycle])).toEqual([
      ['Initial', 1],
      ['Renewal', 2],
      ['Renewal', 2],
      ['Renewal', 2],
      ['Renewal', 2],
    ]);
    const expired = list.find((e) => e.type === 'subscription.expired')!;
    expect(expired.data).toMatchObject({ state: 'Expired', previousState: 'PastDue', orderIdentifier });
    expect(list.filter((e) => e.type === 'entitlement.revoked').map((e) => e.data.featureKey)).toEqual([
      'basic',
      'extra',
    ]);
    expect(list.at(-1)!.data).toMatchObject({ from: 'PastDue', to: 'Expired' });
    expect(list.at(-1)!.actor).toEqual({ type: 'System', id: 'scheduler' });
    expect((await api(`/subscription/${customerUrn}`)).body.result[0].state).toBe('Expired');
    // Nothing more happens to an expired subscription.
    await advance(40 * DAY);
    expect(await events(customerUrn)).toHaveLength(list.length);
  });

  it('recovers within dunning: payment.recovered, then subscription.renewed back to Active', async () => {
    const { control, advance, subscribed, events } = world;
    const { customerUrn, orderIdentifier } = await subscribed();
    await control('/charges/fail-next', { count: 1 });
    await world.toPeriodEnd(orderIdentifier);
    await advance(DAY);
    const list = await events(customerUrn);
    expect(types(list)).toEqual([
      ...PURCHASE,
      'payment.failed',
      'audit.state_changed',
      'payment.recovered',
      'subscription.renewed',
      'audit.state_changed',
    ]);
    expectContractData(list);
    const [recovered, renewed, audit] = list.slice(-3);
    expect(recovered!.data).toMatchObject({ kind: 'Renewal', state: 'Captured', failure: null, subscription: null });
    expect(renewed!.data).toMatchObject({ orderIdentifier, state: 'Active', previousState: 'PastDue' });
    expect(renewed!.data.currentPeriodStart).toBe(recovered!.data.periodStart);
    expect(audit!.data).toMatchObject({ from: 'PastDue', to: 'Active' });
    expect(recovered!.correlationId).toBe(renewed!.correlationId);
    // The failed attempt and its recovery pay period 2; the renewal after it pays period 3.
    await world.toPeriodEnd(orderIdentifier);
    const cycles = (await events(customerUrn)).filter((e) => e.type.startsWith('payment.'));
    expect(cycles.map((e) => [e.type, e.data.cycle])).toEqual([
      ['payment.captured', 1],
      ['payment.failed', 2],
      ['payment.recovered', 2],
      ['payment.captured', 3],
    ]);
  });

  it('starts a trial without a charge and charges first at trial end', async () => {
    const { advance, subscribed, events } = world;
    const { customerUrn, orderIdentifier } = await subscribed('bn.00.7');
    let list = await events(customerUrn);
    expect(types(list)).toEqual([
      'subscription.created',
      'entitlement.granted',
      'entitlement.granted',
      'audit.state_changed',
    ]);
    expect(list[0]!.data).toMatchObject({ state: 'Trial', previousState: null, correlationId: `sub_${customerUrn}` });
    expect(list[0]!.data.trialEndDate).toBe(list[0]!.data.currentPeriodEnd);
    await advance(6 * DAY);
    expect(await events(customerUrn)).toHaveLength(4);
    await advance(DAY + 1);
    list = await events(customerUrn);
    expect(types(list).slice(4)).toEqual(['payment.captured', 'subscription.renewed', 'audit.state_changed']);
    expectContractData(list);
    // The first charge after a trial pays period 1 (the trial is no paid period).
    expect(list[4]!.data).toMatchObject({ kind: 'Renewal', amountMilpieces: 999, orderIdentifier, cycle: 1 });
    expect(list[4]!.data.periodStart).toBe(list[0]!.data.trialEndDate);
    expect(list[5]!.data).toMatchObject({ state: 'Active', previousState: 'Trial' });
  });

  it('cancels Immediate: canceled, every entitlement revoked at once, audit; then not cancelable again', async () => {
    const { api, subscribed, events } = world;
    const { customerUrn, orderIdentifier } = await subscribed();
    const request = { orderIdentifier, cancelationMethod: 'Immediate', currentStep: 0 };
    expect((await api('/subscription/cancel/request', request)).body.responseType).toBe('Processed');
    const mismatch = await api('/subscription/cancel/confirm', {
      ...request,
      cancelationMethod: 'EndOfPeriod',
      currentStep: 1,
    });
    expect([mismatch.status, mismatch.body.status.errors[0].field]).toEqual([400, 'cancelationMethod']);
    expect((await api('/subscription/cancel/confirm', { ...request, currentStep: 1, survey: '{}' })).status).toBe(200);
    const list = await events(customerUrn);
    expect(types(list).slice(5)).toEqual([
      'subscription.canceled',
      'entitlement.revoked',
      'entitlement.revoked',
      'audit.state_changed',
    ]);
    expectContractData(list);
    const canceled = list[5]!.data;
    expect(canceled).toMatchObject({ state: 'Canceled', cancelationMethod: 'Immediate', previousState: 'Active' });
    expect(canceled.endDate).toBe(canceled.canceledAt);
    for (const revoked of list.slice(6, 8)) {
      expect(revoked.data).toMatchObject({ orderIdentifier, source: 'Bundle', activeUntil: canceled.endDate });
      expect(revoked.correlationId).toBe(list[5]!.correlationId);
    }
    const again = await api('/subscription/cancel/request', request);
    expect([again.status, again.body.status.messageCode]).toEqual([409, 'SUBSCRIPTION_NOT_CANCELABLE']);
    const react = await api('/subscription/reactivate', { orderIdentifier });
    expect([react.status, react.body.status.messageCode]).toEqual([409, 'SUBSCRIPTION_NOT_REACTIVATABLE']);
  });

  it('makes a subscription of another channel: no payment, not cancelable here, renews without a charge', async () => {
    const { api, control, advance, storeCustomer, events } = world;
    const customerUrn = await storeCustomer();
    const made = await control('/subscriptions', {
      customer_urn: customerUrn,
      bundle_urn: 'bn.00.1',
      channel: 'AppStore',
    });
    expect(made).toMatchObject({ subscriptionChannel: 'AppStore', correlationId: null, paymentMethodUrn: null });
    let list = await events(customerUrn);
    expect(types(list)).toEqual([
      'subscription.created',
      'entitlement.granted',
      'entitlement.granted',
      'audit.state_changed',
    ]);
    expect(list[0]!.actor).toEqual({ type: 'System', id: 'AppStore' });
    const cancel = await api('/subscription/cancel/request', {
      orderIdentifier: made.orderIdentifier,
      cancelationMethod: 'EndOfPeriod',
      currentStep: 0,
    });
    expect([cancel.status, cancel.body.status.messageCode]).toEqual([409, 'SUBSCRIPTION_NOT_CANCELABLE']);
    await advance(32 * DAY);
    list = await events(customerUrn);
    expect(types(list).slice(4)).toEqual(['subscription.renewed']);
    expectContractData(list);
  });

  it('pauses and resumes by the portal (P2A): a paused one does not renew; resume starts a fresh period', async () => {
    const { control, advance, subscribed, events } = world;
    const { customerUrn, orderIdentifier } = await subscribed();
    const paused = await control(`/subscriptions/${orderIdentifier}/pause`, {});
    expect(paused.state).toBe('Paused');
    await expect(control(`/subscriptions/${orderIdentifier}/pause`, {})).rejects.toThrow(/409/);
    await advance(40 * DAY);
    const before = Date.parse((await control('/clock')).now as string);
    const resumed = await control(`/subscriptions/${orderIdentifier}/resume`, {});
    const after = Date.parse((await control('/clock')).now as string);
    expect(resumed.state).toBe('Active');
    // The emulator's clock runs on in real time (whole seconds): the new period starts at the resume, between the two.
    const start = Date.parse(resumed.currentPeriodStart as string);
    expect([start >= before, start <= after]).toEqual([true, true]);
    const list = await events(customerUrn);
    expect(types(list).slice(5)).toEqual([
      'subscription.paused',
      'audit.state_changed',
      'subscription.resumed',
      'audit.state_changed',
    ]);
    expectContractData(list);
    expect(list[5]!.data).toMatchObject({ state: 'Paused', previousState: 'Active' });
    expect(list[7]!.data).toMatchObject({ state: 'Active', previousState: 'Paused' });
    for (const e of list.slice(5)) expect(e.actor.type).toBe('P2A');
  });

  it('refunds a payment in parts, then in full; nothing left is a 409', async () => {
    const { control, subscribed, events } = world;
    const { customerUrn } = await subscribed();
    const captured = (await events(customerUrn)).find((e) => e.type === 'payment.captured')!.data;
    const part = await control(`/payments/${captured.paymentUrn}/refund`, { amount_milpieces: 300 });
    expect(part).toEqual({ payment_urn: captured.paymentUrn, state: 'Captured', refunded_milpieces: 300 });
    await expect(control(`/payments/${captured.paymentUrn}/refund`, { amount_milpieces: 700 })).rejects.toThrow(/400/);
    expect((await control(`/payments/${captured.paymentUrn}/refund`, {})).state).toBe('Refunded');
    await expect(control(`/payments/${captured.paymentUrn}/refund`, {})).rejects.toThrow(/409/);
    const list = await events(customerUrn);
    const refunds = list.filter((e) => e.type === 'payment.refunded');
    expect(refunds.map((e) => [e.data.state, e.data.refundedMilpieces, e.data.amountMilpieces, e.data.cycle])).toEqual([
      ['Captured', 300, 999, 1],
      ['Refunded', 999, 999, 1],
    ]);
    expect(refunds.map((e) => e.actor.type)).toEqual(['P2A', 'P2A']);
    expectContractData(list);
  });

  it('grants and revokes by control; a grant with active_until is revoked then on the emulator clock', async () => {
    const { control, advance, storeCustomer, events } = world;
    const customerUrn = await storeCustomer();
    const now = Date.parse((await control('/clock')).now as string);
    const until = new Date(now + 2 * DAY * 1000).toISOString();
    const timed = await control('/entitlements/grant', {
      customer_urn: customerUrn,
      feature_key: 'beta',
      active_until: until,
    });
    expect(timed).toMatchObject({ source: 'Grant', orderIdentifier: null, activeUntil: until });
    const open = await control('/entitlements/grant', { customer_urn: customerUrn, feature_key: 'vip' });
    await expect(
      control('/entitlements/grant', {
        customer_urn: customerUrn,
        feature_key: 'late',
        active_until: new Date(now - 1000).toISOString(),
      }),
    ).rejects.toThrow(/400/);
    await control('/entitlements/revoke', { entitlement_urn: open.entitlementUrn });
    await expect(control('/entitlements/revoke', { entitlement_urn: open.entitlementUrn })).rejects.toThrow(/409/);
    await advance(DAY);
    expect(types(await events(customerUrn))).toEqual([
      'entitlement.granted',
      'entitlement.granted',
      'entitlement.revoked',
    ]);
    await advance(DAY);
    const list = await events(customerUrn);
    expect(types(list)).toEqual([
      'entitlement.granted',
      'entitlement.granted',
      'entitlement.revoked',
      'entitlement.revoked',
    ]);
    expectContractData(list);
    expect(list[3]!.data).toMatchObject({ entitlementUrn: timed.entitlementUrn, activeUntil: until, source: 'Grant' });
    expect(list[3]!.actor).toEqual({ type: 'System', id: 'scheduler' });
    expect(list[0]!.actor.type).toBe('P2A');
    // Not revoked twice.
    await advance(10 * DAY);
    expect(await events(customerUrn)).toHaveLength(4);
  });

  it('fires a campaign: trigger_fired + offer_applied, and the next renewals are discounted for its cycles', async () => {
    const { control, advance, subscribed, events } = world;
    const { customerUrn, orderIdentifier } = await subscribed();
    await control('/campaigns/WELCOME/trigger', { customer_urn: customerUrn, order_identifier: orderIdentifier });
    await expect(
      control('/campaigns/NOPE/trigger', { customer_urn: customerUrn, order_identifier: orderIdentifier }),
    ).rejects.toThrow(/404/);
    let list = await events(customerUrn);
    expect(types(list).slice(5)).toEqual(['campaign.trigger_fired', 'campaign.offer_applied']);
    for (const e of list.slice(5)) {
      expect(e.data).toMatchObject({
        campaignCode: 'WELCOME',
        promotionCode: 'WELCOME10',
        orderIdentifier,
        description: '10 %',
        percentOffBasisPoints: 1000,
        cycles: 2,
      });
      expect(e.groupCode).toBe(0);
    }
    for (let month = 0; month < 3; month += 1) await advance(32 * DAY);
    list = await events(customerUrn);
    const renewals = list.filter((e) => e.type === 'payment.captured' && e.data.kind === 'Renewal');
    expect(renewals.map((e) => e.data.amountMilpieces)).toEqual([899, 899, 999]);
  });

  it('signs with every secret after a rotation, newest first', async () => {
    const { control, storeCustomer, receiver } = world;
    await control('/tenants', {
      tenant: TENANT.tenant,
      api_key: TENANT.apiKey,
      webhook_url: receiver.url,
      webhook_secrets: ['whsec-2', 'whsec-1'],
    });
    const customerUrn = await storeCustomer();
    await control('/entitlements/grant', { customer_urn: customerUrn, feature_key: 'beta' });
    await world.emulator.idle();
    const delivery = receiver.received.find((r) => r.envelope.data.customerUrn === customerUrn)!;
    const parts = delivery.signature.split(',').map((p) => p.split('='));
    const t = parts.find(([k]) => k === 't')![1];
    const hmac = (secret: string) => createHmac('sha256', secret).update(`${t}.${delivery.raw}`).digest('hex');
    expect(parts.filter(([k]) => k === 'v1').map(([, v]) => v)).toEqual([hmac('whsec-2'), hmac('whsec-1')]);
    expect(Math.abs(Number(t) - Date.now() / 1000)).toBeLessThan(300);
  });
});

describe('Azotte emulator state file and stop', () => {
  let dir: string;
  beforeAll(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'azotte-emulator-'));
  });
  afterAll(() => {
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('round-trips every record type through its state file', async () => {
    const file = path.join(dir, 'state.json');
    const world = await startWorld(file);
    let customerUrn = '';
    let saved = '';
    try {
      ({ customerUrn } = await world.subscribed());
      await world.subscribed('bn.00.7');
      await world.control('/payment-methods', { customer_urn: customerUrn, last4: '4242', card_alias: 'work' });
      await world.control('/entitlements/grant', {
        customer_urn: customerUrn,
        feature_key: 'beta',
        active_until: new Date(Date.now() + 365 * DAY * 1000).toISOString(),
      });
      await world.offer(customerUrn);
      await world.control('/checkout/processing-delay', { seconds: 3 });
      await world.emulator.idle();
    } finally {
      await world.stop();
    }
    saved = fs.readFileSync(file, 'utf8');
    const state = (JSON.parse(saved) as { azotte: Record<string, unknown[]> }).azotte;
    for (const kind of [
      'tenants',
      'customers',
      'methods',
      'offers',
      'checkouts',
      'subscriptions',
      'payments',
      'entitlements',
      'sequences',
    ]) {
      expect([kind, state[kind]!.length > 0]).toEqual([kind, true]);
    }
    expect(saved).toContain('"$bigint":"999"');

    // A second run restores it and writes back exactly what it read (no field lost, bigint kept).
    const again = await startAzotteEmulator({ stateFile: file });
    await again.stop();
    const rewritten = JSON.parse(fs.readFileSync(file, 'utf8')) as { azotte: Record<string, unknown> };
    const before = JSON.parse(saved) as { azotte: Record<string, unknown> };
    expect({ ...rewritten.azotte, clockOffsetMs: 0 }).toEqual({ ...before.azotte, clockOffsetMs: 0 });

    // And it works on the restored records: the renewal charges the restored bigint price.
    const third = await startWorld(file);
    try {
      const before = (await third.api(`/subscription/${customerUrn}`)).body.result as Json[];
      expect(before).toHaveLength(1);
      expect((await third.control('/clock')).now).toEqual(expect.any(String));
      expect((await third.api(`/customer/payment/methods/list?c=${customerUrn}`)).body.result).toHaveLength(4);
      await third.advance(32 * DAY);
      const renewed = (await third.api(`/subscription/${customerUrn}`)).body.result[0];
      expect(Date.parse(renewed.currentPeriodStart as string)).toBe(Date.parse(before[0].currentPeriodEnd as string));
      const renewal = third.receiver.received.find(
        (r) => r.envelope.type === 'payment.captured' && r.envelope.data.customerUrn === customerUrn,
      );
      expect(renewal?.envelope.data).toMatchObject({ kind: 'Renewal', amountMilpieces: 999 });
      // The sequence goes on from the saved one (5 purchase events and the grant, then the renewal).
      expect(renewal?.envelope.sequence).toBe(7);
    } finally {
      await third.stop();
    }
  });

  it('does not hold the process open after stop(), with retries, a checkout and a grant still due', async () => {
    const script = `
      // The project is CommonJS: tsx hands an ES module its exports as the default.
      const loaded = await import('./adapters/azotte/emulator/index.ts');
      const { startAzotteEmulator } = loaded.default ?? loaded;
      const emulator = await startAzotteEmulator({
        stateFile: ${JSON.stringify(path.join(dir, 'exit.json'))},
        tenants: [{ tenant: 't', apiKey: 'k', webhookUrl: 'http://127.0.0.1:9/dead', webhookSecrets: ['s'], testCards: true }],
        catalog: { storefronts: [{ storefrontUrn: 'st.00.001', currency: 'EUR' }] },
        processingDelaySeconds: 60,
      });
      const res = await fetch(emulator.url + '/api/v1/c2a/customer/store', {
        method: 'POST',
        headers: { 'x-api-key': 'k', 'x-tn': 't', 'content-type': 'application/json' },
        body: JSON.stringify({ customer: { externalIdentifier: 'x' }, claimedRegion: { countryCode: 'DE', languageCode: 'de' } }),
      });
      const urn = (await res.json()).result.customerUrn;
      await fetch(emulator.url + '/__emulator/entitlements/grant', {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ customer_urn: urn, feature_key: 'f', active_until: new Date(Date.now() + 3600e3).toISOString() }),
      });
      await new Promise((r) => setTimeout(r, 300));
      await emulator.stop();
      console.log('stopped');
    `;
    const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
      cwd: path.resolve(__dirname, '../..'),
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (c: Buffer) => (output += c.toString()));
    child.stderr.on('data', (c: Buffer) => (output += c.toString()));
    const code = await new Promise<number | null>((resolve) => {
      const killer = setTimeout(() => {
        child.kill('SIGKILL');
        resolve(-1);
      }, 20_000);
      child.on('exit', (c) => {
        clearTimeout(killer);
        resolve(c);
      });
    });
    expect([code, output.trim()]).toEqual([0, 'stopped']);
  }, 30_000);
});
