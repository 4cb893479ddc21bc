import { createHash } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createHttpTransport } from '../../adapters/kit/http-transport';
import { createPaytikoOperations } from '../../adapters/paytiko/operations';
import type { ProviderCallContext } from '../../src/ports/provider-adapter.port';
import { customerBody, membershipBody, PaytikoBed } from '../support/paytiko-emulator-bed';

/** The document's signature formula, computed here independently of the emulator. */
const signature = (secretKey: string, orderId: string) =>
  createHash('sha256').update(`${secretKey}:${orderId}`).digest('hex');

describe('Paytiko emulator: API, tokens, checkout and webhooks (wire contract)', () => {
  let bed: PaytikoBed;

  beforeAll(async () => {
    bed = await PaytikoBed.start();
  });
  afterAll(async () => {
    await bed.stop();
  });

  describe('validation answers 400 problem details naming the camelCase field', () => {
    const customerCases: [string, Record<string, unknown>][] = [
      ['processorKey', { processorKey: '00000000-0000-0000-0000-000000000000' }],
      ['processorKey', { processorKey: '9b2a5c3e-1111-4222-8333-944455556666' }],
      ['firstName', { firstName: 'Ada1' }],
      ['lastName', { lastName: '' }],
      ['email', { email: 'not-an-email' }],
      ['phone', { phone: '+0123456789' }],
      ['phone', { phone: '+44 7700 900123' }],
      ['countryCode', { countryCode: 'XX' }],
      ['taxIds[0]', { taxIds: [''] }],
    ];
    it.each(customerCases)('customer: %s', async (field, overrides) => {
      const answer = await bed.call('POST', '/customer', customerBody(bed.merchant.processorKey, overrides));
      expect(answer.status).toBe(400);
      expect(answer.contentType).toContain('application/problem+json');
      expect(answer.body).toMatchObject({
        type: 'about:blank',
        title: 'One or more validation errors occurred.',
        status: 400,
      });
      expect(Object.keys(answer.body.errors as object)).toEqual([field]);
    });

    const membershipCases: [string, Record<string, unknown>][] = [
      ['subscriptionName', { subscriptionName: '' }],
      ['webhookUrl', { webhookUrl: 'http://merchant.example.com/hook' }],
      ['endDate', { endDate: '2020-01-01T00:00:00Z' }],
      ['productInfo.orderId', { productInfo: { description: 'x' } }],
      ['pricingInfo.currency', { pricingInfo: { currency: 'EUX', totalAmount: '1.00' } }],
      ['pricingInfo.totalAmount', { pricingInfo: { currency: 'EUR', totalAmount: '0.00' } }],
      [
        'pricingInfo.totalAmount',
        { pricingInfo: { currency: 'EUR', totalAmount: '19.97', pricePerUnit: 9.99, quantity: 2 } },
      ],
      ['pricingInfo.totalAmount', { pricingInfo: { currency: 'JPY', totalAmount: '10.5' } }],
      ['billingCycle.intervalType', { billingCycle: { intervalType: 'monthly' } }],
      ['billingCycle.intervalCount', { billingCycle: { intervalType: 'Monthly', intervalCount: 13 } }],
      ['chargeEmitterQueue', { chargeEmitterQueue: [] }],
      [
        'chargeEmitterQueue[1].transactionStatus',
        { chargeEmitterQueue: [{ transactionStatus: 'success' }, { transactionStatus: 'Maybe' }] },
      ],
      ['metadata', { metadata: 'x'.repeat(1001) }],
    ];
    it.each(membershipCases)('membership: %s', async (field, overrides) => {
      const customerKey = await bed.customer();
      const answer = await bed.call('POST', '/membership', membershipBody(customerKey, bed.receiver.url, overrides));
      expect(answer.status).toBe(400);
      expect(Object.keys(answer.body.errors as object)).toEqual([field]);
    });

    it('unknown customer → 404, unknown membership → 404', async () => {
      const created = await bed.call(
        'POST',
        '/membership',
        membershipBody('cstmr_000000000000000000000000', bed.receiver.url),
      );
      expect(created).toMatchObject({ status: 404, body: { title: 'Customer not found', status: 404 } });
      const got = await bed.call('GET', '/membership/mmbrshp_000000000000000000000000');
      expect(got).toMatchObject({ status: 404, body: { title: 'Membership not found' } });
    });

    it('accepts http:// only to a loopback host, and timestamps without Z', async () => {
      const customerKey = await bed.customer();
      const ok = await bed.call(
        'POST',
        '/membership',
        membershipBody(customerKey, 'http://localhost:1/hook', { endDate: '2099-01-01T00:00:00' }),
      );
      expect(ok.status).toBe(200);
    });
  });

  it('customers are idempotent by email (any case) and only the phone changes', async () => {
    const email = `Grace.${Date.now()}@Example.com`;
    const first = await bed.customer({ email });
    const again = await bed.customer({ email: email.toLowerCase(), firstName: 'Other' });
    expect(again).toBe(first);
    expect(first).toMatch(/^cstmr_[a-z0-9]{24}$/);
    const phone = await bed.call('PUT', '/customer/phone', { customerKey: first, phone: '+4915112345678' });
    expect(phone).toMatchObject({ status: 200, body: { customerKey: first } });
    const got = await bed.call('GET', `/customer/${first}`);
    expect(got.body).toMatchObject({ firstName: 'Ada', phone: '+4915112345678', countryCode: 'GB', address1: null });
  });

  it('memberships are idempotent by orderId within the customer and start Incomplete', async () => {
    const customerKey = await bed.customer();
    const body = membershipBody(customerKey, bed.receiver.url);
    const first = await bed.call('POST', '/membership', body);
    const again = await bed.call('POST', '/membership', { ...body, subscriptionName: 'Changed' });
    expect(again.body.membershipKey).toBe(first.body.membershipKey);
    const otherCustomer = await bed.customer();
    const other = await bed.call('POST', '/membership', { ...body, customerKey: otherCustomer });
    expect(other.body.membershipKey).not.toBe(first.body.membershipKey);
    const got = await bed.get(String(first.body.membershipKey));
    expect(got).toMatchObject({
      status: 'Incomplete',
      name: 'Basic monthly',
      totalAmount: '19.98',
      pricePerUnit: 9.99,
    });
  });

  it('reads amounts in the ISO 4217 digits the service writes (HUF 2, IQD 3), from the API and from the adapter', async () => {
    const customerKey = await bed.customer();
    const priced = (currency: string, totalAmount: string, pricePerUnit: number) =>
      bed.call(
        'POST',
        '/membership',
        membershipBody(customerKey, bed.receiver.url, {
          pricingInfo: { currency, totalAmount, pricePerUnit, quantity: 1 },
        }),
      );
    expect((await priced('HUF', '1000.00', 1000)).status).toBe(200);
    expect((await priced('IQD', '1.500', 1.5)).status).toBe(200);
    const tooPrecise = await priced('IQD', '1.5000', 1.5);
    expect(Object.keys(tooPrecise.body.errors as object)).toEqual(['pricingInfo.totalAmount']);

    const ops = createPaytikoOperations({
      transport: createHttpTransport({ backoffMs: [] }),
      clock: { now: () => new Date() },
    });
    const ctx: ProviderCallContext = {
      storefrontId: 'sf_huf',
      config: { base_url: bed.emulator.url, processor_key: bed.merchant.processorKey },
      secrets: { username: bed.merchant.userName, password: bed.merchant.password },
      signal: new AbortController().signal,
      idempotencyKey: 'idem-huf',
      webhookUrl: bed.receiver.url,
    };
    const checkout = await ops.createCheckout(ctx, {
      orderId: `sub_huf${Date.now()}`,
      mode: 'subscription',
      uiMode: 'hosted',
      customer: {
        id: 'cus_huf',
        email: `huf.${Date.now()}@example.com`,
        name: 'Ada Lovelace',
        phone: '+36201234567',
        country: 'HU',
      },
      plan: {
        id: 'plan_huf',
        name: 'Forint monthly',
        price: { currency: 'HUF', amountMinor: 299_000n },
        interval: { unit: 'MONTH', count: 1 },
        trialDays: 0,
      },
      quantity: 2,
      successUrl: 'https://shop.example.com/done',
    });
    expect(await bed.get(checkout.sessionRef)).toMatchObject({
      status: 'Incomplete',
      totalAmount: '5980.00',
      pricePerUnit: 2990,
    });
  });

  describe('tokens', () => {
    it('wrong credentials and a missing token → 401', async () => {
      const wrong = await bed.call('POST', '/auth', { userName: bed.merchant.userName, password: 'nope' }, null);
      expect(wrong).toMatchObject({ status: 401, body: { title: 'Unauthorized', status: 401 } });
      expect((await bed.call('GET', '/customer/cstmr_x', undefined, null)).status).toBe(401);
    });

    it('a token expires after its TTL on the emulator clock', async () => {
      await bed.control('/tokens/ttl', { seconds: 60 });
      const token = await bed.login();
      expect((await bed.call('GET', '/membership/mmbrshp_none', undefined, token)).status).toBe(404);
      await bed.control('/clock/advance', { seconds: 61 });
      expect((await bed.call('GET', '/membership/mmbrshp_none', undefined, token)).status).toBe(401);
      await bed.control('/tokens/ttl', { seconds: 900 });
      await bed.login();
    });

    it('revoked tokens are unknown', async () => {
      const token = await bed.login();
      await bed.control('/tokens/revoke', {});
      expect((await bed.call('GET', '/membership/mmbrshp_none', undefined, token)).status).toBe(401);
      await bed.login();
    });
  });

  describe('checkout', () => {
    it('decline records a Rejected transaction and keeps the Initial invoice Open; pay activates', async () => {
      const customerKey = await bed.customer();
      const key = await bed.membership(customerKey);
      await bed.pay(customerKey, key, 'decline');
      let got = await bed.get(key);
      expect(got.status).toBe('Incomplete');
      expect(got.invoices[0]).toMatchObject({ type: 'Initial', status: 'Open' });
      expect(got.invoices[0]?.transactions[0]).toMatchObject({ transactionStatus: 'Rejected' });
      await bed.pay(customerKey, key);
      got = await bed.get(key);
      expect(got).toMatchObject({ status: 'Active', startDate: got.currentPeriodStart });
      expect(got.invoices[0]).toMatchObject({ type: 'Initial', status: 'Paid', amount: '19.98', cycle: 1 });
      expect(got.invoices[0]?.transactions.map((t) => t.transactionStatus)).toEqual(['Rejected', 'Success']);
      expect(bed.events(key)).toEqual([
        'TRANSACTION:Rejected',
        'TRANSACTION:Success',
        'SUBSCRIPTION_STATUS_CHANGED:Active',
      ]);
      const again = await bed.call('POST', '/checkout/session', { customerKey, membershipKey: key });
      expect(again).toMatchObject({ status: 409, body: { title: 'Membership is not awaiting payment' } });
    });

    it('the hosted page offers pay and decline, and paying redirects to the return link', async () => {
      const customerKey = await bed.customer();
      const key = await bed.membership(customerKey);
      const session = await bed.call('POST', '/checkout/session', {
        customerKey,
        membershipKey: key,
        returnToWebsiteLink: 'https://shop.example.com/done',
      });
      const url = String(session.body.checkoutRedirectUrl);
      expect(url).toMatch(new RegExp(`^${bed.emulator.url}/hosted/checkout/`));
      const html = await (await fetch(url)).text();
      expect(html).toContain('Pay');
      expect(html).toContain('Decline');
      const paid = await fetch(`${url}/pay`, { method: 'POST', redirect: 'manual' });
      expect(paid.status).toBe(303);
      expect(paid.headers.get('location')).toBe('https://shop.example.com/done');
      expect((await bed.get(key)).status).toBe('Active');
    });

    it('a membership of another customer → 400 on membershipKey', async () => {
      const owner = await bed.customer();
      const key = await bed.membership(owner);
      const stranger = await bed.customer();
      const answer = await bed.call('POST', '/checkout/session', { customerKey: stranger, membershipKey: key });
      expect(Object.keys(answer.body.errors as object)).toEqual(['membershipKey']);
    });
  });

  it('cancel is immediate, voids Open invoices, and is safe to retry', async () => {
    const customerKey = await bed.customer();
    const key = await bed.membership(customerKey);
    const first = await bed.call('POST', `/membership/cancel/${key}`);
    expect(first).toMatchObject({ status: 200, body: { membershipKey: key, status: 'Canceled' } });
    const again = await bed.call('POST', `/membership/cancel/${key}`);
    expect(again).toMatchObject({ status: 200, body: { status: 'Canceled' } });
    const got = await bed.get(key);
    expect(got.canceledAt).not.toBeNull();
    expect(got.invoices[0]).toMatchObject({ type: 'Initial', status: 'Void' });
    await bed.emulator.idle();
    expect(bed.events(key)).toEqual(['SUBSCRIPTION_STATUS_CHANGED:Canceled']);
    const update = await bed.call('PUT', '/membership', { membershipKey: key, name: 'New' });
    expect(update.status).toBe(409);
  });

  it('signs webhooks with sha256(secretKey:OrderId) in the header and the body', async () => {
    const customerKey = await bed.customer();
    const key = await bed.membership(customerKey);
    await bed.pay(customerKey, key);
    const delivery = bed.receiver.received.find((d) => (d.body.Membership as { Key: string }).Key === key);
    const expected = signature(bed.merchant.secretKey, delivery?.body.OrderId ?? '');
    expect(delivery?.headers.signature).toBe(expected);
    expect(delivery?.body.Signature).toBe(expected);
    expect(delivery?.body).toMatchObject({
      Action: 'TRANSACTION',
      TransactionType: 'PayIn',
      TransactionStatus: 'Success',
      InitialAmount: '19.98',
      Currency: 'EUR',
      Membership: { Key: key, CustomerKey: customerKey, Status: 'Active', Updates: null },
    });
  });

  it('retries a refused webhook at +5m, +30m, +1h, +2h, +4h, +8h on the emulator clock, then lists it undeliverable', async () => {
    const customerKey = await bed.customer();
    const key = await bed.membership(customerKey);
    const refusing = () => bed.receiver.received.filter((d) => (d.body.Membership as { Key: string }).Key === key);
    const before = bed.receiver.respond;
    const membershipOf = (n: number) => (bed.receiver.received[n - 1]?.body.Membership as { Key: string }).Key;
    bed.receiver.respond = (n) => (membershipOf(n) === key ? 500 : 200);
    await bed.call('POST', `/membership/cancel/${key}`);
    await bed.emulator.idle();
    expect(refusing()).toHaveLength(1);
    const waits = [300, 1800, 3600, 7200, 14_400, 28_800];
    for (const [index, wait] of waits.entries()) {
      await bed.advance(wait - 10);
      expect(refusing()).toHaveLength(index + 1);
      await bed.advance(20);
      expect(refusing()).toHaveLength(index + 2);
    }
    await bed.advance(86_400);
    expect(refusing()).toHaveLength(7);
    expect(new Set(refusing().map((d) => d.body.ActionId)).size).toBe(1);
    const undeliverable = await bed.control<{ event_id: string; attempts: number }[]>('/webhooks/undeliverable');
    expect(undeliverable).toContainEqual(
      expect.objectContaining({ event_id: refusing()[0]?.body.ActionId, attempts: 7 }),
    );
    bed.receiver.respond = before;
  });

  it('keeps customers, memberships, the clock and the webhook log across a restart', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'paytiko-emulator-'));
    const stateFile = path.join(dir, 'paytiko.json');
    const first = await PaytikoBed.start({ stateFile });
    const customerKey = await first.customer();
    const key = await first.membership(customerKey);
    await first.pay(customerKey, key);
    await first.control('/clock/advance', { seconds: 3600 });
    const clockBefore = await first.control<{ offset_seconds: number }>('/clock');
    await first.stop();

    const second = await PaytikoBed.start({ stateFile });
    try {
      expect((await second.get(key)).status).toBe('Active');
      expect((await second.call('POST', '/customer', customerBody(second.merchant.processorKey))).status).toBe(200);
      const clockAfter = await second.control<{ offset_seconds: number }>('/clock');
      expect(clockAfter.offset_seconds).toBe(clockBefore.offset_seconds);
      const log = await second.control<{ type: string }[]>('/webhooks');
      expect(log.map((e) => e.type)).toEqual(['TRANSACTION', 'SUBSCRIPTION_STATUS_CHANGED']);
    } finally {
      await second.stop();
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
