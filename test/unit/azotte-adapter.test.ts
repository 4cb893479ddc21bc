import { createHmac } from 'node:crypto';
import { fromMilpieces, toMilpieces } from '../../adapters/azotte/amounts';
import { preflightCheckout } from '../../adapters/azotte/checkout-checks';
import { createAzotteClient } from '../../adapters/azotte/client';
import { errorFromEnvelope, MESSAGE_CODES, ourField } from '../../adapters/azotte/errors';
import { azotte } from '../../adapters/azotte';
import { followReplacements, orderIdOf, toCheckoutState, toSubscriptionState } from '../../adapters/azotte/mapping';
import { azotteWebhooks } from '../../adapters/azotte/webhooks';
import { DomainError } from '../../src/domain/errors';
import type { CheckoutRequest, ProviderCallContext } from '../../src/ports/provider-adapter.port';
import type { HttpTransport } from '../../src/ports/http-transport.port';

const ctx: ProviderCallContext = {
  storefrontId: 'sf_1',
  config: { base_url: 'http://127.0.0.1:8091/azotte', tenant: 'tn-1', storefront_urn: 'st.00.001' },
  secrets: { api_key: 'sk_live_secret_value', webhook_secret: 'whsec_1' },
  signal: new AbortController().signal,
  idempotencyKey: 'idem-1',
  webhookUrl: 'https://example.test/webhooks/azotte/sf_1',
};

function caught(run: () => unknown): DomainError | Error {
  try {
    run();
  } catch (error) {
    return error as Error;
  }
  throw new Error('expected a throw');
}

describe('Azotte amounts (milpieces = major × 100)', () => {
  it('converts EUR, JPY exactly and refuses KWD fractions', () => {
    expect(toMilpieces(1499n, 'EUR')).toBe(1499n);
    expect(fromMilpieces(1499n, 'EUR')).toBe(1499n);
    expect(toMilpieces(1500n, 'JPY')).toBe(150000n);
    expect(fromMilpieces(150000n, 'JPY')).toBe(1500n);
    expect(toMilpieces(1234n, 'KWD')).toBeUndefined();
    expect(toMilpieces(1230n, 'KWD')).toBe(123n);
    expect(fromMilpieces(150050n, 'JPY')).toBeUndefined();
    expect(toMilpieces(100n, 'XXQ')).toBeUndefined();
  });
});

describe('Azotte messageCode table', () => {
  const subject = { storefrontId: 'sf_1', operation: 'createCheckout', tenant: 'tn-1', customerUrn: 'cu.00.1' };
  const envelope = (messageCode: string, extra: Record<string, unknown> = {}) => ({
    status: { messageCode, ...extra },
  });

  it('maps every non-OK code to one of our codes', () => {
    const expected: Record<string, string> = {
      INVALID_REQUEST: 'INVALID_ARGUMENT',
      CUSTOMER_NOT_FOUND: 'NOT_FOUND',
      CUSTOMER_ALREADY_STORED: 'ALREADY_EXISTS',
      USER_WITH_SAME_EMAIL_EXISTS: 'ALREADY_EXISTS',
      USER_WITH_SAME_PHONE_NUMBER_EXISTS: 'ALREADY_EXISTS',
      SQL_DATABASE_FAILURE: 'UNAVAILABLE',
      INTERNAL_SERVER_ERROR: 'UNAVAILABLE',
      NO_OFFER_FOUND: 'FAILED_PRECONDITION',
      INVALID_PROMOTION_CODE: 'INVALID_ARGUMENT',
      STOREFRONT_NOT_FOUND: 'FAILED_PRECONDITION',
      OFFER_EXPIRED: 'UNAVAILABLE',
      ORDERED_ITEM_NOT_FOUND: 'NOT_FOUND',
      PAYMENT_METHOD_NOT_FOUND: 'FAILED_PRECONDITION',
      CARD_DECLINED: 'FAILED_PRECONDITION',
      INVALID_CARD: 'INVALID_ARGUMENT',
      PSP_UNAVAILABLE: 'UNAVAILABLE',
      SUBSCRIPTION_NOT_FOUND: 'NOT_FOUND',
      SUBSCRIPTION_NOT_CANCELABLE: 'FAILED_PRECONDITION',
      SUBSCRIPTION_NOT_REACTIVATABLE: 'FAILED_PRECONDITION',
    };
    for (const [code, ours] of Object.entries(expected)) {
      const error = errorFromEnvelope(envelope(code), MESSAGE_CODES[code]!.http, subject);
      expect([code, (error as DomainError).code]).toEqual([code, ours]);
    }
    for (const code of ['BAD_REQUEST', 'OFFER_NOT_PURCHASABLE']) {
      const error = errorFromEnvelope(envelope(code), 400, subject);
      expect(error).not.toBeInstanceOf(DomainError);
    }
  });

  it('names the storefront and objects, and the unknown code', () => {
    expect(errorFromEnvelope(envelope('CUSTOMER_NOT_FOUND'), 404, subject).message).toBe(
      "Azotte has no customer 'cu.00.1' in tenant 'tn-1'",
    );
    const unknown = errorFromEnvelope(envelope('WHATEVER'), 418, subject) as DomainError;
    expect(unknown.code).toBe('UNAVAILABLE');
    expect(unknown.message).toContain('unknown messageCode WHATEVER (HTTP 418)');
    expect(unknown.message).toContain("storefront 'sf_1'");
  });

  it('maps INVALID_REQUEST fields to ours', () => {
    const error = errorFromEnvelope(
      envelope('INVALID_REQUEST', {
        errors: [
          { field: 'customer.email', message: 'bad' },
          { field: 'customer.phoneNumber', message: 'bad' },
          { field: 'customer.lastName', message: 'long' },
          { field: 'order.correlationId', message: 'bad' },
          { field: 'context.promotionCode', message: 'bad' },
          { field: 'claimedRegion.countryCode', message: 'bad' },
        ],
      }),
      400,
      subject,
    ) as DomainError;
    expect(error.violations.map((v) => v.field)).toEqual([
      'customer.email',
      'customer.phone',
      'customer.name',
      'payment_method_ref',
      'promotion_code',
      'provider.claimedRegion.countryCode',
    ]);
    expect(ourField('promotionCode')).toBe('promotion_code');
    expect(ourField('paymentMethod.paymentMethodUrn')).toBe('payment_method_ref');
  });
});

describe('Azotte client envelope handling', () => {
  const transport = (status: number, body: string, headers: Record<string, string> = {}): HttpTransport => ({
    send: () => Promise.resolve({ status, body, headers }),
  });
  const call = (t: HttpTransport) =>
    createAzotteClient(t).call(ctx, { operation: 'getCheckout', method: 'GET', route: '/x', subject: {} });

  it('401 with an empty body names the binding, never the key', async () => {
    const error = (await call(transport(401, '')).catch((e: unknown) => e)) as DomainError;
    expect(error.code).toBe('UNAVAILABLE');
    expect(error.message).toContain("storefront 'sf_1': Azotte refused the binding's api_key / tenant");
    expect(error.message).not.toContain('sk_live_secret_value');
  });

  it('an unreadable 2xx is UNAVAILABLE naming the operation and field; Retry-After is read', async () => {
    const error = (await call(transport(200, '{"status":{}}')).catch((e: unknown) => e)) as DomainError;
    expect(error.code).toBe('UNAVAILABLE');
    expect(error.message).toContain('getCheckout');
    expect(error.message).toContain('status.messageCode');
    const ok = await call(transport(200, '{"status":{"messageCode":"CHECK_OUT_PROCESSING"}}', { 'retry-after': '3' }));
    expect(ok).toMatchObject({ messageCode: 'CHECK_OUT_PROCESSING', retryAfterSeconds: 3 });
  });

  it('sends x-api-key (per attempt) and x-tn under /api/v1/c2a', async () => {
    let seen: Record<string, unknown> = {};
    const t: HttpTransport = {
      send: async (request) => {
        seen = {
          url: request.url,
          headers: request.headers,
          auth: await request.authorize!({ method: 'GET', url: '', body: '' }),
        };
        return { status: 200, headers: {}, body: '{"status":{"messageCode":"SUCCESS"}}' };
      },
    };
    await createAzotteClient(t).call(ctx, {
      operation: 'ensureCustomer',
      method: 'GET',
      route: '/customer/info',
      query: { exId: 'cus_1' },
    });
    expect(seen).toEqual({
      url: 'http://127.0.0.1:8091/azotte/api/v1/c2a/customer/info?exId=cus_1',
      headers: { Accept: 'application/json', 'x-tn': 'tn-1' },
      auth: { 'x-api-key': 'sk_live_secret_value' },
    });
  });
});

describe('Azotte checkout preflight', () => {
  const request = (over: Partial<CheckoutRequest> = {}): CheckoutRequest => ({
    orderId: '',
    mode: 'subscription',
    uiMode: 'hosted',
    customer: { id: 'cus_1', email: 'a@b.de', name: 'Ada Lovelace', phone: '', country: 'DE' },
    plan: {
      id: 'plan_1',
      name: 'Pro',
      price: { currency: 'EUR', amountMinor: 1499n },
      interval: { unit: 'MONTH', count: 1 },
      trialDays: 0,
      ref: 'bn.00.1',
    },
    quantity: 1,
    paymentMethodRef: 'pm.test.visa',
    ...over,
  });

  it('passes a good request and refuses a KWD fraction naming the plan price', () => {
    expect(() => preflightCheckout(ctx, request())).not.toThrow();
    const plan = { ...request().plan!, price: { currency: 'KWD', amountMinor: 1234n } };
    const error = caught(() => preflightCheckout(ctx, request({ plan }))) as DomainError;
    expect(error.code).toBe('FAILED_PRECONDITION');
    expect(error.message).toContain("plan 'plan_1' price 1.234 KWD");
  });

  it('names our fields', () => {
    const error = caught(() =>
      preflightCheckout(
        ctx,
        request({
          paymentMethodRef: '',
          promotionCode: 'no spaces!',
          customer: { id: 'cus_1', email: 'nope', name: 'x', phone: '+4912', country: 'de' },
        }),
      ),
    ) as DomainError;
    expect(error.violations.map((v) => v.field)).toEqual([
      'payment_method_ref',
      'promotion_code',
      'customer.email',
      'customer.phone',
      'customer.country',
    ]);
    expect((caught(() => preflightCheckout(ctx, request({ quantity: 2 }))) as DomainError).code).toBe(
      'FAILED_PRECONDITION',
    );
  });
});

describe('Azotte binding', () => {
  it('requires tenant, storefront_urn, api_key and checks claimed region shapes', () => {
    const fields = azotte.validateBinding!(
      { base_url: 'https://a.azotte.com', claimed_country: 'de', claimed_language: 'DE' },
      {},
    ).map((v) => v.field);
    expect(fields).toEqual([
      'provider_config.tenant',
      'provider_config.storefront_urn',
      'secret_refs.api_key',
      'provider_config.claimed_country',
      'provider_config.claimed_language',
    ]);
    expect(
      azotte.validateBinding!(
        { project: 'acme', tenant: 't', storefront_urn: 'st.00.001', claimed_country: 'DE', claimed_language: 'de' },
        { api_key: 'ref' },
      ),
    ).toEqual([]);
  });
});

const SUB = {
  orderIdentifier: 'or_1',
  originalOrderIdentifier: null,
  replacedByOrderIdentifier: null,
  correlationId: 'sub_A',
  customerUrn: 'cu.00.1',
  storefrontUrn: 'st.00.001',
  bundleUrn: 'bn.00.1',
  state: 'Active',
  startDate: '2026-01-01T00:00:00Z',
  endDate: null,
  currentPeriodStart: '2026-01-01T00:00:00Z',
  currentPeriodEnd: '2026-02-01T00:00:00Z',
  trialEndDate: null,
  cancelationMethod: null,
  canceledAt: null,
  quantity: 1,
  price: { amountMilpieces: 1499, currency: 'EUR' },
  paymentMethodUrn: 'pm.00.1.1',
  initialAssignmentType: 'Purchase',
};
const NOW = new Date('2026-01-15T00:00:00Z');

describe('Azotte mapping', () => {
  it('reads our order id from a correlationId', () => {
    expect(orderIdOf('sub_A')).toBe('sub_A');
    expect(orderIdOf('sub_A.replace.0123456789abcdef')).toBe('sub_A');
    expect(orderIdOf(undefined)).toBeUndefined();
  });

  it('maps states (README 28)', () => {
    expect(toSubscriptionState(SUB, 's', NOW)).toMatchObject({
      ref: 'or_1',
      status: 'ACTIVE',
      orderId: 'sub_A',
      planRef: 'bn.00.1',
      customerRef: 'cu.00.1',
    });
    expect(toSubscriptionState({ ...SUB, state: 'Trial' }, 's', NOW).status).toBe('TRIALING');
    expect(toSubscriptionState({ ...SUB, state: 'PastDue' }, 's', NOW).status).toBe('PAST_DUE');
    const scheduled = { ...SUB, state: 'Canceled', cancelationMethod: 'EndOfPeriod', endDate: '2026-02-01T00:00:00Z' };
    expect(toSubscriptionState(scheduled, 's', NOW)).toMatchObject({ status: 'ACTIVE', cancelAtPeriodEnd: true });
    const ended = { ...SUB, state: 'Canceled', cancelationMethod: 'Immediate', endDate: '2026-01-10T00:00:00Z' };
    expect(toSubscriptionState(ended, 's', NOW)).toMatchObject({
      status: 'CANCELED',
      endedAt: new Date('2026-01-10T00:00:00Z'),
    });
    expect(toSubscriptionState({ ...SUB, state: 'Expired', endDate: '2026-01-10T00:00:00Z' }, 's', NOW).status).toBe(
      'CANCELED',
    );
    const replaced = {
      ...SUB,
      orderIdentifier: 'or_2',
      originalOrderIdentifier: 'or_1',
      initialAssignmentType: 'Replace',
      correlationId: 'sub_A.replace.00',
    };
    expect(toSubscriptionState(replaced, 's', NOW)).toMatchObject({ previousRef: 'or_1', orderId: 'sub_A' });
  });

  it('follows replacements to the newest', () => {
    const a = { ...SUB, replacedByOrderIdentifier: 'or_2' };
    const b = { ...SUB, orderIdentifier: 'or_2', replacedByOrderIdentifier: 'or_3' };
    const c = { ...SUB, orderIdentifier: 'or_3' };
    expect(followReplacements([a, b, c], a)).toEqual({ newest: c, previous: b });
    expect(followReplacements([c], c)).toEqual({ newest: c, previous: undefined });
  });

  it('maps checkout results', () => {
    const base = {
      trackingNumber: 'trk_1',
      correlationId: 'sub_A',
      orderIdentifier: null,
      followUpInstructions: { retryAfterSeconds: 2 },
    };
    expect(toCheckoutState(base, 'CHECK_OUT_PROCESSING', NOW)).toEqual({
      ref: 'trk_1',
      status: 'PROCESSING',
      orderId: 'sub_A',
      checkAt: new Date(NOW.getTime() + 2000),
    });
    const tds = { ...base, redirectInstructions: { isRedirectRequired: true, redirectUrl: 'http://x/3ds/1' } };
    expect(toCheckoutState(tds, 'CHECK_OUT_3DS_REQUIRED', NOW, 5).nextAction).toEqual({
      redirectUrl: 'http://x/3ds/1',
    });
    const html = {
      ...base,
      redirectInstructions: { isRedirectRequired: false, showHtmlContent: true, htmlContent: '<p>' },
    };
    expect(toCheckoutState(html, 'CHECK_OUT_3DS_REQUIRED', NOW).nextAction).toEqual({ html: '<p>' });
    expect(toCheckoutState({ ...base, orderIdentifier: 'or_1' }, 'CHECK_OUT_DONE', NOW)).toMatchObject({
      status: 'COMPLETE',
      subscriptionRef: 'or_1',
    });
    expect(
      toCheckoutState({ ...base, failure: { code: 'CARD_DECLINED', message: 'no' } }, 'CHECK_OUT_FAILED', NOW),
    ).toMatchObject({
      status: 'FAILED',
      failure: { code: 'CARD_DECLINED', message: 'no' },
    });
  });
});

describe('Azotte webhooks', () => {
  const sign = (secret: string, t: number, body: string) =>
    createHmac('sha256', secret).update(`${t}.${body}`).digest('hex');
  const t = Math.floor(NOW.getTime() / 1000);
  const keys = (current: string, previous?: string) => ({ secrets: { current, previous }, config: {} });
  const delivery = (body: string, header: string) => ({
    headers: { 'azotte-signature': header },
    body: Buffer.from(body),
    remoteAddress: '127.0.0.1',
  });
  const event = (type: string, data: Record<string, unknown>, over: Record<string, unknown> = {}) =>
    JSON.stringify({
      id: 'ev_1',
      type,
      groupCode: 0,
      tenantId: 'tn-1',
      occurredAt: '2026-01-15T00:00:00Z',
      sequence: 17,
      correlationId: 'sub_A',
      actor: { type: 'C2A', id: 'key_01' },
      data,
      ...over,
    });

  it('verifies current, previous (rotation), several v1, and refuses outside 300 s', () => {
    const body = event('subscription.created', SUB);
    expect(azotteWebhooks.verify(delivery(body, `t=${t},v1=${sign('new', t, body)}`), keys('new'), NOW)).toEqual({
      ok: true,
    });
    expect(azotteWebhooks.verify(delivery(body, `t=${t},v1=${sign('old', t, body)}`), keys('new', 'old'), NOW)).toEqual(
      { ok: true },
    );
    expect(
      azotteWebhooks.verify(
        delivery(body, `t=${t},v1=${sign('other', t, body)},v1=${sign('new', t, body)},x=1`),
        keys('new'),
        NOW,
      ),
    ).toEqual({ ok: true });
    expect(
      azotteWebhooks.verify(delivery(body, `t=${t},v1=${sign('other', t, body)}`), keys('new', 'old'), NOW).ok,
    ).toBe(false);
    expect(
      azotteWebhooks.verify(delivery(body, `t=${t - 301},v1=${sign('new', t - 301, body)}`), keys('new'), NOW).ok,
    ).toBe(false);
    expect(
      azotteWebhooks.verify(delivery(body, `t=${t + 300},v1=${sign('new', t + 300, body)}`), keys('new'), NOW),
    ).toEqual({ ok: true });
    expect(azotteWebhooks.verify(delivery(`${body} `, `t=${t},v1=${sign('new', t, body)}`), keys('new'), NOW).ok).toBe(
      false,
    );
  });

  it('signs the body once per secret however many v1 values a sender puts in, and tries at most four', () => {
    const body = event('subscription.created', SUB);
    const bogus = (n: number) => Array.from({ length: n }, (_, i) => `v1=${sign(`x${i}`, t, body)}`).join(',');
    const good = `v1=${sign('new', t, body)}`;
    expect(azotteWebhooks.verify(delivery(body, `t=${t},${bogus(3)},${good}`), keys('new', 'old'), NOW).ok).toBe(true);
    // A rotation has two or three secrets in use: a fifth value is not Azotte's, so it is never tried.
    expect(azotteWebhooks.verify(delivery(body, `t=${t},${bogus(4)},${good}`), keys('new', 'old'), NOW).ok).toBe(false);
  });

  const raw = (body: string) => ({ headers: {}, body: Buffer.from(body) });

  it('reads the envelope: id, type, per-customer ordering', () => {
    expect(azotteWebhooks.envelope(raw(event('subscription.created', SUB)))).toEqual({
      providerEventId: 'ev_1',
      eventType: 'subscription.created',
      orderingKey: 'cu.00.1',
      sequence: '17',
    });
    const error = caught(() =>
      azotteWebhooks.envelope(raw(event('subscription.created', { ...SUB, customerUrn: undefined }))),
    ) as DomainError;
    expect(error.code).toBe('INVALID_ARGUMENT');
    expect(error.violations[0]!.field).toBe('data.customerUrn');
    expect((caught(() => azotteWebhooks.envelope(raw('{'))) as DomainError).code).toBe('INVALID_ARGUMENT');
  });

  const parse = (type: string, data: Record<string, unknown>, over?: Record<string, unknown>) =>
    azotteWebhooks.parse(raw(event(type, data, over)));
  const hintOf = (type: string, data: Record<string, unknown>) =>
    parse(type, data).map((e) => (e.kind === 'subscription' ? e.hint : e.kind));

  it('subscription family', () => {
    expect(hintOf('subscription.created', SUB)).toEqual(['activated']);
    expect(hintOf('subscription.renewed', SUB)).toEqual(['updated']);
    expect(hintOf('subscription.upgraded', SUB)).toEqual(['plan_changed']);
    expect(hintOf('subscription.downgraded', SUB)).toEqual(['plan_changed']);
    expect(hintOf('subscription.paused', { ...SUB, state: 'Paused' })).toEqual(['paused']);
    expect(hintOf('subscription.resumed', SUB)).toEqual(['resumed']);
    expect(hintOf('subscription.reactivated', { ...SUB, state: 'Reactivated' })).toEqual(['cancellation_revoked']);
    const eop = { ...SUB, state: 'Canceled', cancelationMethod: 'EndOfPeriod', endDate: '2026-02-01T00:00:00Z' };
    expect(hintOf('subscription.canceled', eop)).toEqual(['cancellation_scheduled']);
    const now = { ...SUB, state: 'Canceled', cancelationMethod: 'Immediate', endDate: '2026-01-15T00:00:00Z' };
    expect(hintOf('subscription.canceled', now)).toEqual(['canceled']);
    expect(hintOf('subscription.expired', { ...SUB, state: 'Expired', endDate: '2026-01-15T00:00:00Z' })).toEqual([
      'canceled',
    ]);
    expect(hintOf('subscription.canceled', { ...now, replacedByOrderIdentifier: 'or_2' })).toEqual([]);
    expect(hintOf('subscription.teleported', SUB)).toEqual([]);
  });

  const PAYMENT = {
    paymentUrn: 'pa_1',
    orderIdentifier: 'or_1',
    customerUrn: 'cu.00.1',
    paymentMethodUrn: 'pm.00.1.1',
    kind: 'Initial',
    amountMilpieces: 1499,
    currency: 'EUR',
    state: 'Captured',
    failure: null,
    refundedMilpieces: 0,
    subscription: null,
    cycle: 1,
  };

  it('payment family, with past_due after a failed renewal', () => {
    const [captured] = parse('payment.captured', PAYMENT);
    expect(captured).toMatchObject({
      kind: 'payment',
      outcome: 'succeeded',
      payment: {
        ref: 'pa_1',
        kind: 'initial',
        amount: { currency: 'EUR', amountMinor: 1499n },
        orderId: 'sub_A',
        subscriptionRef: 'or_1',
        status: 'SUCCEEDED',
      },
    });
    const failed = parse(
      'payment.failed',
      {
        ...PAYMENT,
        kind: 'Renewal',
        state: 'Failed',
        failure: { code: 'CARD_DECLINED', message: 'declined' },
        subscription: { ...SUB, state: 'PastDue' },
      },
      { correlationId: 'clock_1' },
    );
    expect(failed.map((e) => e.kind)).toEqual(['payment', 'subscription']);
    expect(failed[0]).toMatchObject({
      outcome: 'failed',
      payment: { kind: 'recurring', orderId: 'sub_A', failure: { code: 'CARD_DECLINED' } },
    });
    expect(failed[1]).toMatchObject({ hint: 'past_due', subscription: { status: 'PAST_DUE' } });
    const renewal = parse('payment.captured', { ...PAYMENT, kind: 'Renewal' }, { correlationId: 'clock_1' });
    expect(renewal[0]).toMatchObject({ payment: { orderId: undefined } });
    const refunded = parse('payment.refunded', { ...PAYMENT, state: 'Refunded', refundedMilpieces: 500 });
    expect(refunded[0]).toMatchObject({
      payment: { refundState: 'PARTIALLY_REFUNDED', refundedAmount: { amountMinor: 500n } },
    });
    expect(
      (caught(() => parse('payment.captured', { ...PAYMENT, amountMilpieces: 'x' })) as DomainError).violations[0]!
        .field,
    ).toBe('data.amountMilpieces');
    // Every payment names the period it pays (README 38): without it, or below 1, it is refused naming data.cycle.
    const { cycle: _omitted, ...noCycle } = PAYMENT;
    for (const data of [noCycle, { ...PAYMENT, cycle: 0 }, { ...PAYMENT, cycle: 'one' }]) {
      const error = caught(() => parse('payment.captured', data)) as DomainError;
      expect(error.code).toBe('INVALID_ARGUMENT');
      expect(error.violations[0]!.field).toBe('data.cycle');
    }
  });

  it('derives one invoice per cycle from payments, after the payment and linked both ways', () => {
    const cycle = { periodStart: '2026-02-01T00:00:00Z', periodEnd: '2026-03-01T00:00:00Z' };
    const initial = parse('payment.captured', {
      ...PAYMENT,
      periodStart: '2026-01-01T00:00:00Z',
      periodEnd: cycle.periodStart,
    });
    expect(initial.map((e) => e.kind)).toEqual(['payment', 'invoice']);
    expect(initial[1]).toMatchObject({
      outcome: 'paid',
      invoice: {
        ref: 'inv:or_1:1',
        type: 'INITIAL',
        status: 'PAID',
        cycleIndex: 1,
        amount: { currency: 'EUR', amountMinor: 1499n },
        subscriptionRef: 'or_1',
        orderId: 'sub_A',
        paymentRef: 'pa_1',
      },
    });
    expect(initial[0]).toMatchObject({ payment: { invoiceRef: 'inv:or_1:1' } });
    const renewal = { ...PAYMENT, ...cycle, kind: 'Renewal', cycle: 2 };
    const failed = parse('payment.failed', {
      ...renewal,
      paymentUrn: 'pa_2',
      state: 'Failed',
      subscription: { ...SUB, state: 'PastDue' },
    });
    expect(failed.map((e) => (e.kind === 'invoice' ? `invoice:${e.outcome}` : e.kind))).toEqual([
      'payment',
      'invoice:payment_failed',
      'subscription',
    ]);
    const recovered = parse('payment.recovered', { ...renewal, paymentUrn: 'pa_3' });
    const [failedInvoice, paidInvoice] = [failed[1], recovered[1]].map((e) =>
      e?.kind === 'invoice' ? e.invoice : undefined,
    );
    expect(paidInvoice).toMatchObject({ type: 'RENEWAL', status: 'PAID', paymentRef: 'pa_3', ref: failedInvoice!.ref });
    expect(paidInvoice!.cycleIndex).toBe(failedInvoice!.cycleIndex);
    expect(paidInvoice).toMatchObject({ ref: 'inv:or_1:2', cycleIndex: 2 });
    // A Replace's charge is billed as the UPGRADE of the cycle it names (the lineage's count, README 38).
    const replace = parse('payment.captured', { ...PAYMENT, ...cycle, orderIdentifier: 'or_2', kind: 'Replace' });
    expect(replace[1]).toMatchObject({ invoice: { ref: 'inv:or_2:1', type: 'UPGRADE', cycleIndex: 1 } });
    const refunded = parse('payment.refunded', { ...renewal, state: 'Refunded', refundedMilpieces: 500 });
    expect(refunded[1]).toMatchObject({ outcome: 'refunded', invoice: { status: 'PARTIALLY_REFUNDED' } });
    expect(parse('payment.refunded', { ...renewal, state: 'Refunded', refundedMilpieces: 1499 })[1]).toMatchObject({
      invoice: { status: 'REFUNDED' },
    });
    // A failed first charge bills no cycle; a payment without a period has none to bill.
    expect(parse('payment.failed', { ...PAYMENT, ...cycle, state: 'Failed' }).map((e) => e.kind)).toEqual(['payment']);
    expect(parse('payment.captured', PAYMENT).map((e) => e.kind)).toEqual(['payment']);
  });

  it('entitlement, campaign and audit families; unknown types are nothing', () => {
    const ent = {
      entitlementUrn: 'en_1',
      customerUrn: 'cu.00.1',
      orderIdentifier: 'or_1',
      featureKey: 'pro',
      activeFrom: '2026-01-01T00:00:00Z',
      activeUntil: null,
      source: 'Bundle',
    };
    expect(parse('entitlement.granted', ent)[0]).toMatchObject({
      kind: 'entitlement',
      action: 'granted',
      entitlement: { featureKey: 'pro', subscriptionRef: 'or_1', customerRef: 'cu.00.1' },
    });
    expect(parse('entitlement.updated', { ...ent, activeUntil: '2026-03-01T00:00:00Z' })[0]).toMatchObject({
      action: 'granted',
      entitlement: { activeUntil: new Date('2026-03-01T00:00:00Z') },
    });
    expect(parse('entitlement.revoked', ent)[0]).toMatchObject({ action: 'revoked' });
    const campaign = {
      customerUrn: 'cu.00.1',
      campaignCode: 'SPRING',
      promotionCode: 'SPRING10',
      orderIdentifier: 'or_1',
      description: '10 % off',
      percentOffBasisPoints: 1000,
      cycles: 3,
    };
    expect(parse('campaign.offer_applied', campaign)[0]).toMatchObject({
      kind: 'discount',
      discount: { code: 'SPRING10', percentOffBasisPoints: 1000, cycles: 3, subscriptionRef: 'or_1' },
    });
    expect(
      parse('campaign.offer_applied', {
        ...campaign,
        percentOffBasisPoints: undefined,
        amountOffMilpieces: 200,
        currency: 'EUR',
      })[0],
    ).toMatchObject({ discount: { amountOff: { currency: 'EUR', amountMinor: 200n } } });
    // A share beyond 100 %, a negative or absurd amount: refused naming the field, never applied.
    expect(() => parse('campaign.offer_applied', { ...campaign, percentOffBasisPoints: 10_001 })).toThrow(
      /percentOffBasisPoints/,
    );
    for (const amountOffMilpieces of [-100, 10 ** 15]) {
      expect(() =>
        parse('campaign.offer_applied', {
          ...campaign,
          percentOffBasisPoints: undefined,
          amountOffMilpieces,
          currency: 'EUR',
        }),
      ).toThrow(/amountOffMilpieces/);
    }
    expect(parse('campaign.code_redeemed', campaign)).toEqual([]);
    expect(parse('campaign.trigger_fired', campaign)).toEqual([]);
    const audit = {
      customerUrn: 'cu.00.1',
      entity: 'Subscription',
      entityUrn: 'or_1',
      field: 'state',
      from: 'Active',
      to: 'PastDue',
    };
    expect(parse('audit.state_changed', audit)[0]).toMatchObject({
      kind: 'audit',
      record: {
        entity: 'Subscription',
        entityRef: 'or_1',
        field: 'state',
        from: 'Active',
        to: 'PastDue',
        customerRef: 'cu.00.1',
        actor: 'C2A:key_01',
        correlationId: 'sub_A',
      },
    });
    expect(parse('mystery.thing', { customerUrn: 'cu.00.1' })).toEqual([]);
  });
});
