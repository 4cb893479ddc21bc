import { createHmac, timingSafeEqual } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { type AzotteEmulator, startAzotteEmulator } from '../../adapters/azotte/emulator';
import { emulatorControl } from '../support/emulator-control';
import { eventually } from '../support/eventually';

/** Wire JSON, read loosely: the assertions say what each field must be. */
type Json = any; // eslint-disable-line @typescript-eslint/no-explicit-any

const TENANT = { tenant: 'tn-main', apiKey: 'key-main', secrets: ['whsec-new', 'whsec-old'] };
const DLQ_TENANT = { tenant: 'tn-dlq', apiKey: 'key-dlq', secrets: ['whsec-dlq'] };
const STOREFRONT = 'st.00.001';
const MINUTE = 60;
const DAY = 86_400;

interface Received {
  signature: string;
  raw: string;
  envelope: { id: string; type: string; sequence: number; data: Record<string, unknown> };
}

/** A webhook endpoint on node:http: records every POST, answers `status` (200 until told otherwise). */
async function startReceiver() {
  const received: Received[] = [];
  const receiver = { received, status: 200, url: '', close: () => Promise.resolve() };
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const raw = Buffer.concat(chunks).toString('utf8');
      const signature = String(req.headers['azotte-signature'] ?? '');
      if (receiver.status < 300) received.push({ signature, raw, envelope: JSON.parse(raw) as Received['envelope'] });
      res.writeHead(receiver.status).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  receiver.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`;
  receiver.close = () =>
    new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
    });
  return receiver;
}

/** Item 34, computed here independently: every v1 is HMAC-SHA256 of `{t}.{raw body}` with one active secret. */
function signatureMatches(header: string, raw: string, secret: string): boolean {
  const parts = header.split(',').map((p) => p.split('=') as [string, string]);
  const t = parts.find(([k]) => k === 't')?.[1];
  const expected = createHmac('sha256', secret).update(`${t}.${raw}`).digest();
  return parts.some(([k, v]) => k === 'v1' && timingSafeEqual(Buffer.from(v, 'hex'), expected));
}

describe('Azotte emulator over HTTP (wire contract adapters/azotte/README.md)', () => {
  let emulator: AzotteEmulator;
  let receiver: Awaited<ReturnType<typeof startReceiver>>;
  let deadReceiver: Awaited<ReturnType<typeof startReceiver>>;

  const api = async (path: string, body?: unknown, headers: Record<string, string> = {}, key = TENANT) => {
    const response = await fetch(`${emulator.url}/api/v1/c2a${path}`, {
      method: body === undefined ? 'GET' : 'POST',
      headers: {
        'x-api-key': key.apiKey,
        'x-tn': key.tenant,
        accept: 'application/json',
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
        ...headers,
      },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await response.text();
    return {
      status: response.status,
      headers: response.headers,
      text,
      body: (text ? JSON.parse(text) : {}) as Record<string, Json>,
    };
  };
  const control = <T = Record<string, Json>>(path: string, body?: unknown) =>
    emulatorControl<T>(emulator.url, path, body);

  let customers = 0;
  const storeCustomer = async (key = TENANT) => {
    customers += 1;
    const answer = await api(
      '/customer/store',
      {
        customer: {
          externalIdentifier: `cus_${customers}`,
          email: `c${customers}@example.com`,
          legalType: 'Individual',
        },
        claimedRegion: { countryCode: 'DE', languageCode: 'de' },
      },
      {},
      key,
    );
    expect(answer.status).toBe(200);
    return answer.body.result.customerUrn as string;
  };
  const buy = async (customerUrn: string, bundleUrn: string, card: string, key = TENANT) => {
    const offer = await api(
      '/offer/bundles',
      { context: { customerUrn, storefrontUrn: STOREFRONT, interactionType: 'NewAcquisition', channel: 'Azotte' } },
      {},
      key,
    );
    const item = (offer.body.offer.artifactGroups as { bundleUrn: string; itemIdentifier: string }[]).find(
      (g) => g.bundleUrn === bundleUrn,
    )!;
    return api(
      '/offer/checkout',
      {
        order: {
          offerIdentifier: offer.body.offer.offerIdentifier,
          correlationId: `sub_${customerUrn}_${bundleUrn}`,
          items: [{ itemIdentifier: item.itemIdentifier, quantity: 1 }],
          customer: { customerUrn },
        },
        paymentMethod: { paymentChannel: 'CreditCard', useStoredMethod: true, paymentMethodUrn: card },
      },
      {},
      key,
    );
  };
  const status = (trackingNumber: string) => api(`/offer/checkout/${trackingNumber}/status`);

  beforeAll(async () => {
    receiver = await startReceiver();
    deadReceiver = await startReceiver();
    deadReceiver.status = 500;
    emulator = await startAzotteEmulator({ processingDelaySeconds: 0 });
    await control('/tenants', {
      tenant: TENANT.tenant,
      api_key: TENANT.apiKey,
      webhook_url: receiver.url,
      webhook_secrets: TENANT.secrets,
      test_cards: true,
    });
    await control('/tenants', {
      tenant: DLQ_TENANT.tenant,
      api_key: DLQ_TENANT.apiKey,
      webhook_url: deadReceiver.url,
      webhook_secrets: DLQ_TENANT.secrets,
      test_cards: true,
    });
    await control('/catalog', {
      storefronts: [{ storefront_urn: STOREFRONT, currency: 'EUR' }],
      bundles: [
        {
          storefront_urn: STOREFRONT,
          bundle_urn: 'bn.00.1',
          sku: 'BASIC-M',
          name: 'Basic monthly',
          amount_milpieces: 999,
          currency: 'EUR',
          period: { unit: 'Month', count: 1 },
          trial_days: 0,
          entitlements: ['basic'],
        },
      ],
      campaigns: [
        {
          campaign_code: 'WELCOME',
          promotion_code: 'WELCOME10',
          description: '10 %',
          percent_off_basis_points: 1000,
          cycles: 3,
        },
      ],
    });
  });
  afterAll(async () => {
    await emulator.stop();
    await receiver.close();
    await deadReceiver.close();
  });

  it('answers 401 with an empty body to a missing or unknown x-api-key, a missing x-tn or another tenant', async () => {
    const cases: Record<string, string>[] = [
      { 'x-api-key': '' },
      { 'x-api-key': 'nope' },
      { 'x-tn': '' },
      { 'x-tn': DLQ_TENANT.tenant },
    ];
    for (const headers of cases) {
      const answer = await api('/customer/validate', { externalId: 'cus_x' }, headers);
      expect([answer.status, answer.text]).toEqual([401, '']);
    }
  });

  it('stores a customer; a repeat is CUSTOMER_ALREADY_STORED with the customer, a taken email 409', async () => {
    const body = {
      customer: { externalIdentifier: 'cus_dup', email: 'Dup@Example.com', firstName: 'Ada', lastName: 'Lovelace' },
      claimedRegion: { countryCode: 'DE', languageCode: 'de' },
    };
    expect((await api('/customer/validate', { externalId: 'cus_dup' })).body.isAvailable).toBe(true);
    const stored = await api('/customer/store', body);
    expect(stored.status).toBe(200);
    expect(stored.headers.get('content-type')).toBe('application/clientOutput+Json');
    expect(stored.body.result).toMatchObject({ externalIdentifier: 'cus_dup', status: 'Active', phoneNumber: null });
    expect(stored.body.result.customerUrn).toMatch(/^cu\.00\.\d+$/);
    expect((await api('/customer/validate', { externalId: 'cus_dup' })).body.isAvailable).toBe(false);

    const again = await api('/customer/store', body);
    expect(again.status).toBe(409);
    expect(again.body.status.messageCode).toBe('CUSTOMER_ALREADY_STORED');
    expect(again.body.result.customerUrn).toBe(stored.body.result.customerUrn);

    const sameEmail = await api('/customer/store', {
      ...body,
      customer: { ...body.customer, externalIdentifier: 'cus_other', email: 'dup@example.COM' },
    });
    expect([sameEmail.status, sameEmail.body.status.messageCode]).toEqual([409, 'USER_WITH_SAME_EMAIL_EXISTS']);

    const invalid = await api('/customer/store', { ...body, customer: { externalIdentifier: 'cus_bad', email: 'x' } });
    expect(invalid.status).toBe(400);
    expect(invalid.body.status).toMatchObject({
      messageCode: 'INVALID_REQUEST',
      errors: [{ field: 'customer.email' }],
    });
    const methods = await api(`/customer/payment/methods/list?c=${stored.body.result.customerUrn}`);
    expect(methods.body.result.map((m: { paymentMethodUrn: string }) => m.paymentMethodUrn)).toEqual([
      'pm.test.visa',
      'pm.test.visa_3ds',
      'pm.test.declined',
    ]);
  });

  it('takes an offer to checkout: 202, PROCESSING polled with Retry-After, DONE; the same correlationId is deduplicated', async () => {
    await control('/checkout/processing-delay', { seconds: 3 });
    try {
      const customerUrn = await storeCustomer();
      const submitted = await buy(customerUrn, 'bn.00.1', 'pm.test.visa');
      expect(submitted.status).toBe(202);
      expect(submitted.body.status.messageCode).toBe('CHECK_OUT_PROCESSING');
      const trackingNumber = submitted.body.trackingNumber as string;
      expect(trackingNumber).toMatch(/^trk_[0-9A-Z]{26}$/);

      const first = await status(trackingNumber);
      expect(first.body.status.messageCode).toBe('CHECK_OUT_PROCESSING');
      expect(Number(first.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
      expect(first.body.followUpInstructions.retryAfterSeconds).toBe(Number(first.headers.get('retry-after')));

      const done = await eventually(
        () => status(trackingNumber),
        (a) => a.body.status.messageCode !== 'CHECK_OUT_PROCESSING',
        10_000,
      );
      expect(done.body.status.messageCode).toBe('CHECK_OUT_DONE');
      expect(done.headers.get('retry-after')).toBeNull();
      expect(done.body.orderIdentifier).toMatch(/^or_/);

      const repeat = await buy(customerUrn, 'bn.00.1', 'pm.test.declined');
      expect([repeat.status, repeat.body.trackingNumber]).toEqual([202, trackingNumber]);
      const subscriptions = await api(`/subscription/${customerUrn}`);
      expect(subscriptions.body.result).toHaveLength(1);
      expect(subscriptions.body.result[0]).toMatchObject({ state: 'Active', price: { amountMilpieces: 999 } });
    } finally {
      await control('/checkout/processing-delay', { seconds: 0 });
    }
  });

  it('asks for 3-D Secure and follows the page (pass) or the control (fail)', async () => {
    const customerUrn = await storeCustomer();
    const passed = await buy(customerUrn, 'bn.00.1', 'pm.test.visa_3ds');
    const challenged = await eventually(
      () => status(passed.body.trackingNumber as string),
      (a) => a.body.status.messageCode === 'CHECK_OUT_3DS_REQUIRED',
    );
    expect(challenged.headers.get('retry-after')).toBe('5');
    const redirect = challenged.body.redirectInstructions as { redirectUrl: string; threeDIdentifier: string };
    expect(redirect.redirectUrl).toBe(`${emulator.url}/3ds/${redirect.threeDIdentifier}`);
    const page = await fetch(redirect.redirectUrl);
    expect(await page.text()).toContain('Pass');
    const answered = await fetch(redirect.redirectUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: 'outcome=pass',
    });
    expect(answered.status).toBe(200);
    expect((await status(passed.body.trackingNumber as string)).body.status.messageCode).toBe('CHECK_OUT_DONE');
    const again = await fetch(redirect.redirectUrl, { method: 'POST', body: 'outcome=fail' });
    expect(again.status).toBe(409);

    const other = await storeCustomer();
    const failing = await buy(other, 'bn.00.1', 'pm.test.visa_3ds');
    const waiting = await eventually(
      () => status(failing.body.trackingNumber as string),
      (a) => a.body.status.messageCode === 'CHECK_OUT_3DS_REQUIRED',
    );
    await control(`/3ds/${waiting.body.redirectInstructions.threeDIdentifier}`, { outcome: 'fail' });
    const failed = await status(failing.body.trackingNumber as string);
    expect(failed.body.status.messageCode).toBe('CHECK_OUT_FAILED');
    expect(failed.body.failure).toEqual({ code: 'CARD_DECLINED', message: '3-D Secure authentication failed' });
  });

  it('renews on a clock advance and sends signed events, one customer in sequence order', async () => {
    const customerUrn = await storeCustomer();
    const submitted = await buy(customerUrn, 'bn.00.1', 'pm.test.visa');
    await eventually(
      () => status(submitted.body.trackingNumber as string),
      (a) => a.body.status.messageCode === 'CHECK_OUT_DONE',
    );
    await emulator.idle();
    await control('/clock/advance', { seconds: 31 * DAY });
    await emulator.idle();
    const mine = () => receiver.received.filter((r) => r.envelope.data.customerUrn === customerUrn);
    await eventually(
      () => Promise.resolve(mine().map((r) => r.envelope.type)),
      (types) => types.includes('subscription.renewed'),
    );
    expect(mine().map((r) => r.envelope.type)).toEqual([
      'subscription.created',
      'payment.captured',
      'entitlement.granted',
      'audit.state_changed',
      'payment.captured',
      'subscription.renewed',
    ]);
    expect(mine().map((r) => r.envelope.sequence)).toEqual([1, 2, 3, 4, 5, 6]);
    const renewal = mine()[4]!;
    expect(renewal.envelope.data).toMatchObject({ kind: 'Renewal', amountMilpieces: 999, currency: 'EUR' });
    for (const delivery of mine()) {
      // Signed with every active secret, newest first: either verifies.
      expect(signatureMatches(delivery.signature, delivery.raw, 'whsec-new')).toBe(true);
      expect(signatureMatches(delivery.signature, delivery.raw, 'whsec-old')).toBe(true);
      expect(signatureMatches(delivery.signature, delivery.raw, 'whsec-wrong')).toBe(false);
    }
  });

  it('cancels at period end, reactivates, replaces with a promotion code, and answers an armed messageCode', async () => {
    const customerUrn = await storeCustomer();
    const submitted = await buy(customerUrn, 'bn.00.1', 'pm.test.visa');
    const done = await eventually(
      () => status(submitted.body.trackingNumber as string),
      (a) => a.body.status.messageCode === 'CHECK_OUT_DONE',
    );
    const orderIdentifier = done.body.orderIdentifier as string;
    const request = { orderIdentifier, cancelationMethod: 'EndOfPeriod', currentStep: 0 };
    const confirmEarly = await api('/subscription/cancel/confirm', { ...request, currentStep: 1 });
    expect([confirmEarly.status, confirmEarly.body.status.errors[0].field]).toEqual([400, 'cancelationMethod']);
    expect((await api('/subscription/cancel/request', request)).body.responseType).toBe('Processed');
    expect((await api('/subscription/cancel/confirm', { ...request, currentStep: 1 })).status).toBe(200);
    expect((await api('/subscription/cancel/confirm', { ...request, currentStep: 1 })).status).toBe(200);
    let [sub] = (await api(`/subscription/${customerUrn}`)).body.result;
    expect(sub).toMatchObject({ state: 'Canceled', cancelationMethod: 'EndOfPeriod', endDate: sub.currentPeriodEnd });
    expect((await api('/subscription/reactivate', { orderIdentifier })).status).toBe(200);
    [sub] = (await api(`/subscription/${customerUrn}`)).body.result;
    expect(sub).toMatchObject({ state: 'Reactivated', endDate: null, cancelationMethod: null });

    await control('/catalog', {
      bundles: [
        {
          storefront_urn: STOREFRONT,
          bundle_urn: 'bn.00.2',
          sku: 'PRO-M',
          name: 'Pro monthly',
          amount_milpieces: 1999,
          currency: 'EUR',
          period: { unit: 'Month', count: 1 },
          entitlements: ['basic', 'pro'],
        },
      ],
    });
    const bad = await api('/offer/bundles', {
      context: {
        customerUrn,
        storefrontUrn: STOREFRONT,
        interactionType: 'Replace',
        promotionCode: 'NOPE',
        originalSubscriptionIdentifier: orderIdentifier,
      },
    });
    expect([bad.status, bad.body.status.messageCode]).toEqual([400, 'INVALID_PROMOTION_CODE']);
    const offer = await api('/offer/bundles', {
      context: {
        customerUrn,
        storefrontUrn: STOREFRONT,
        interactionType: 'Replace',
        promotionCode: 'WELCOME10',
        originalSubscriptionIdentifier: orderIdentifier,
      },
    });
    expect(offer.body.offer.artifactGroups.map((g: { bundleUrn: string }) => g.bundleUrn)).toEqual(['bn.00.2']);
    const replaced = await api('/offer/checkout', {
      order: {
        offerIdentifier: offer.body.offer.offerIdentifier,
        correlationId: `sub_x.replace.0123456789abcdef`,
        items: [{ itemIdentifier: offer.body.offer.artifactGroups[0].itemIdentifier, quantity: 1 }],
        customer: { customerUrn },
      },
      paymentMethod: { paymentChannel: 'CreditCard', useStoredMethod: true, paymentMethodUrn: 'pm.test.visa' },
    });
    const newOrder = (
      await eventually(
        () => status(replaced.body.trackingNumber as string),
        (a) => a.body.status.messageCode === 'CHECK_OUT_DONE',
      )
    ).body.orderIdentifier as string;
    const [old, current] = (await api(`/subscription/${customerUrn}`)).body.result;
    expect(old).toMatchObject({ state: 'Canceled', replacedByOrderIdentifier: newOrder });
    expect(current).toMatchObject({ originalOrderIdentifier: orderIdentifier, initialAssignmentType: 'Replace' });
    await emulator.idle();
    const types = receiver.received.filter((r) => r.envelope.data.customerUrn === customerUrn).map((r) => r.envelope);
    // The Replace's events follow the reactivation's (its entitlement.updated, then its audit).
    const reactivated = types.findIndex((x) => x.type === 'audit.state_changed' && x.data.to === 'Reactivated');
    const replaceEvents = types.filter((e) => e.sequence > reactivated + 1);
    expect(replaceEvents.map((e) => e.type)).toEqual([
      'subscription.upgraded',
      'subscription.canceled',
      'payment.captured',
      'entitlement.granted',
      'campaign.code_redeemed',
      'campaign.offer_applied',
      'audit.state_changed',
      'audit.state_changed',
    ]);
    expect(replaceEvents.find((e) => e.type === 'payment.captured')!.data).toMatchObject({
      kind: 'Replace',
      amountMilpieces: 1799, // 1999 less 10 %, rounded down
    });

    await control('/faults/message-code', { code: 'SQL_DATABASE_FAILURE', path: '/customer/info' });
    const failed = await api(`/customer/info?urn=${customerUrn}`);
    expect([failed.status, failed.body.status.messageCode]).toEqual([500, 'SQL_DATABASE_FAILURE']);
    expect((await api(`/customer/info?urn=${customerUrn}`)).status).toBe(200);
  });

  it('moves an event to the DLQ after 11 refused attempts (1 … 512 min apart) and replays it', async () => {
    const customerUrn = await storeCustomer(DLQ_TENANT);
    const before = (await control<unknown[]>('/webhooks')).length;
    const submitted = await buy(customerUrn, 'bn.00.1', 'pm.test.visa', DLQ_TENANT);
    expect(submitted.status).toBe(202);
    await eventually(
      () => control<unknown[]>('/webhooks'),
      (events) => events.length >= before + 4,
    );
    await emulator.idle();
    for (let retry = 0; retry < 10; retry += 1) {
      expect(await control<unknown[]>('/dlq')).toEqual([]);
      await control('/clock/advance', { seconds: 2 ** retry * MINUTE });
      await emulator.idle();
    }
    const dead = await control<Record<string, unknown>[]>('/dlq');
    expect(dead.map((d) => [d.type, d.customer_urn, d.sequence, d.attempts, d.last_error])).toEqual([
      ['subscription.created', customerUrn, 1, 11, 'HTTP 500'],
      ['payment.captured', customerUrn, 2, 11, 'HTTP 500'],
      ['entitlement.granted', customerUrn, 3, 11, 'HTTP 500'],
      ['audit.state_changed', customerUrn, 4, 11, 'HTTP 500'],
    ]);

    deadReceiver.status = 200;
    const replayed = await control<{ replayed: string[] }>('/dlq/replay', { event_ids: [dead[0]!.event_id] });
    expect(replayed.replayed).toEqual([dead[0]!.event_id]);
    await emulator.idle();
    expect((await control<unknown[]>('/dlq')).length).toBe(3);
    await control('/dlq/replay', {});
    await emulator.idle();
    expect(await control('/dlq')).toEqual([]);
    expect(deadReceiver.received.map((r) => r.envelope.sequence)).toEqual([1, 2, 3, 4]);
    expect(signatureMatches(deadReceiver.received[0]!.signature, deadReceiver.received[0]!.raw, 'whsec-dlq')).toBe(
      true,
    );
  });
});
