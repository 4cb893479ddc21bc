import { createHmac } from 'node:crypto';
import { createSubotizClient, deriveRequestId, SubotizClient, SubotizRequest } from '../../adapters/subotiz/client';
import { AmbiguousOutcome, ProviderUnavailable } from '../../adapters/kit/errors';
import { createSubotizOperations } from '../../adapters/subotiz/operations';
import { DomainError } from '../../src/domain/errors';
import type { HttpTransport, ProviderHttpRequest } from '../../src/ports/http-transport.port';
import type { ProviderCallContext } from '../../src/ports/provider-adapter.port';

// No network: a scripted fetch answers each attempt and records what was sent.

interface Sent {
  url: string;
  method: string;
  headers: Record<string, string>;
  body?: string;
}

type Answer = { status: number; body: unknown } | Error | 'hang';

function scriptedFetch(answers: Answer[]): { fetch: typeof fetch; sent: Sent[] } {
  const sent: Sent[] = [];
  const fake = async (input: string | URL | Request, init?: RequestInit): Promise<Response> => {
    sent.push({
      url: String(input),
      method: init?.method ?? 'GET',
      headers: { ...(init?.headers as Record<string, string>) },
      body: init?.body as string | undefined,
    });
    const answer = answers.shift() ?? { status: 500, body: { code: 'internalError', message: 'script ran out' } };
    if (answer === 'hang') {
      return new Promise((_, reject) => init?.signal?.addEventListener('abort', () => reject(init.signal?.reason)));
    }
    if (answer instanceof Error) throw answer;
    const text = typeof answer.body === 'string' ? answer.body : JSON.stringify(answer.body);
    return new Response(text, { status: answer.status, headers: { 'content-type': 'application/json' } });
  };
  return { fetch: fake as typeof fetch, sent };
}

const ctx = (over: Partial<ProviderCallContext> = {}): ProviderCallContext => ({
  storefrontId: 'sf_1',
  config: { base_url: 'http://subotiz.test' },
  secrets: { api_key: 'sk_test_SECRET' },
  signal: new AbortController().signal,
  webhookUrl: 'http://localhost:8080/webhooks/subotiz/sf_1',
  idempotencyKey: 'idem-1',
  ...over,
});

const ok = (data: unknown) => ({ status: 200, body: { code: 'success', message: 'success', data } });
const getSub: SubotizRequest = {
  operation: 'getSubscription',
  method: 'GET',
  route: '/api/v1/subscription/{id}',
  params: { id: '42' },
  resource: "subscription '42'",
};

function client(answers: Answer[]): { client: SubotizClient; sent: Sent[] } {
  const { fetch, sent } = scriptedFetch(answers);
  // The timeout bounds reading instant answers too: generous enough that a busy machine never trips it there.
  return { client: createSubotizClient({ fetch, backoffMs: [1, 1], attemptTimeoutMs: 300 }), sent };
}

async function failure(promise: Promise<unknown>): Promise<DomainError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(DomainError);
  return error as DomainError;
}

describe('Subotiz client', () => {
  it('sends Bearer auth, a derived Request-Id and JSON, and answers the envelope data', async () => {
    const { client: c, sent } = client([ok({ id: '42' })]);
    await expect(c.call(ctx(), getSub)).resolves.toEqual({ id: '42' });
    expect(sent).toHaveLength(1);
    expect(sent[0]).toMatchObject({
      url: 'http://subotiz.test/api/v1/subscription/42',
      method: 'GET',
      body: undefined,
      headers: {
        Authorization: 'Bearer sk_test_SECRET',
        'Content-Type': 'application/json',
        'Request-Id': deriveRequestId('idem-1', 'getSubscription'),
      },
    });
  });

  it('signs with Hub-* headers over method, path and query, timestamp and body', async () => {
    const { fetch, sent } = scriptedFetch([ok({ list: [] })]);
    const c = createSubotizClient({ fetch, now: () => 1754562236502 });
    const hub = ctx({
      config: { base_url: 'http://subotiz.test/', auth_mode: 'hub_signature' },
      secrets: { access_no: 'acc_1', access_secret: 'shh' },
    });
    await c.call(hub, {
      operation: 'findSubscriptionByOrder',
      method: 'GET',
      route: '/api/v1/subscription',
      query: { order_id: 'sub_1', page: 1 },
    });
    const expected = createHmac('sha256', 'shh')
      .update('GET\n/api/v1/subscription?order_id=sub_1&page=1\n1754562236502\n\n')
      .digest('hex');
    expect(sent[0]?.url).toBe('http://subotiz.test/api/v1/subscription?order_id=sub_1&page=1');
    expect(sent[0]?.headers).toMatchObject({
      'Hub-Access-No': 'acc_1',
      'Hub-Timestamp': '1754562236502',
      'Hub-Signature': expected,
    });
    expect(sent[0]?.headers.Authorization).toBeUndefined();
  });

  it('retries 5xx, timeouts and connection errors with the same Request-Id, then succeeds', async () => {
    const { client: c, sent } = client([
      { status: 503, body: { code: 'serviceUnavailable', message: 'busy' } },
      new TypeError('fetch failed'),
      ok({ id: '42' }),
    ]);
    await expect(c.call(ctx(), { ...getSub, method: 'POST', body: { a: 1 } })).resolves.toEqual({ id: '42' });
    expect(sent).toHaveLength(3);
    expect(new Set(sent.map((s) => s.headers['Request-Id'])).size).toBe(1);
    expect(sent.every((s) => s.body === '{"a":1}')).toBe(true);
  });

  it('gives up after 3 attempts with UNAVAILABLE naming Subotiz and the operation', async () => {
    const { client: c, sent } = client(['hang', { status: 500, body: {} }, { status: 502, body: 'bad gateway' }]);
    const error = await failure(c.call(ctx(), getSub));
    expect(sent).toHaveLength(3);
    expect(error.code).toBe('UNAVAILABLE');
    expect(error).toBeInstanceOf(ProviderUnavailable);
    expect(error.message).toMatch(/^storefront 'sf_1': Subotiz getSubscription failed after 3 attempts: HTTP 502/);
  });

  it.each([
    [400, { code: 'invalidParameter', message: 'order_id: is required' }, 'INVALID_ARGUMENT', 'order_id'],
    [
      400,
      { code: 'invalidParameter', message: 'amount exceeds the refundable balance' },
      'INVALID_ARGUMENT',
      'provider',
    ],
    [422, 'not json', 'INVALID_ARGUMENT', 'provider'],
    [404, { code: 'notFound', message: 'no such subscription' }, 'NOT_FOUND', undefined],
    [409, { code: 'invalidState', message: 'subscription is not paused' }, 'FAILED_PRECONDITION', undefined],
    [401, { code: 'unauthorizedError', message: 'ApiKey authentication is required' }, 'UNAVAILABLE', undefined],
    [403, { code: 'forbidden', message: 'no' }, 'UNAVAILABLE', undefined],
    [200, { code: 'invalidState', message: 'subscription is canceled' }, 'FAILED_PRECONDITION', undefined],
  ])('maps HTTP %s %o to %s without retrying', async (status, body, code, field) => {
    const { client: c, sent } = client([{ status, body }]);
    const error = await failure(c.call(ctx(), getSub));
    expect(sent).toHaveLength(1);
    expect(error.code).toBe(code);
    expect(error.violations[0]?.field).toBe(field);
    expect(error.message).not.toContain('sk_test_SECRET');
  });

  it('says which subscription was not found', async () => {
    const { client: c } = client([{ status: 404, body: { code: 'notFound', message: 'x' } }]);
    await expect(c.call(ctx(), getSub)).rejects.toThrow("Subotiz subscription '42' not found");
  });

  it('reports a missing secret by name, before calling', async () => {
    const { client: c, sent } = client([ok({})]);
    const error = await failure(c.call(ctx({ secrets: {} }), getSub));
    expect(error.code).toBe('UNAVAILABLE');
    expect(error.message).toBe("storefront 'sf_1': Subotiz binding lacks secret 'api_key'");
    const hub = ctx({ config: { auth_mode: 'hub_signature' }, secrets: { access_no: 'a' } });
    await expect(c.call(hub, getSub)).rejects.toThrow("lacks secret 'access_secret'");
    expect(sent).toHaveLength(0);
  });

  it('stops retrying once the caller gives up', async () => {
    const controller = new AbortController();
    const { fetch, sent } = scriptedFetch(['hang', 'hang', 'hang']);
    const c = createSubotizClient({ fetch, attemptTimeoutMs: 10_000 });
    const call = c.call(ctx({ signal: controller.signal }), getSub);
    setTimeout(() => controller.abort(), 20);
    const error = await failure(call);
    expect(error.code).toBe('UNAVAILABLE');
    expect(error.message).toMatch(/abandoned/);
    expect(sent).toHaveLength(1);
  });
});

describe('Subotiz client on the kit transport', () => {
  it('reads a success body whether or not it is wrapped in {code, data}', async () => {
    const { client: c } = client([
      ok({ id: '42' }),
      { status: 200, body: { id: '42', code: 'DISCOUNT10', status: 'active' } },
      { status: 200, body: '' },
      ok(null),
    ]);
    await expect(c.call(ctx(), getSub)).resolves.toEqual({ id: '42' });
    // A bare object may have its own `code` field (a discount's): only the wrapper's keys make a wrapper.
    await expect(c.call(ctx(), getSub)).resolves.toEqual({ id: '42', code: 'DISCOUNT10', status: 'active' });
    await expect(c.call(ctx(), getSub)).resolves.toBeUndefined();
    await expect(c.call(ctx(), getSub)).resolves.toBeUndefined();
  });

  it('sends a non-replayable request once and reports an unknown outcome as AmbiguousOutcome', async () => {
    const { client: c, sent } = client([{ status: 502, body: 'bad gateway' }, ok({ refund_id: 'r1' })]);
    const refund: SubotizRequest = {
      operation: 'refund',
      method: 'POST',
      route: '/api/v1/refund',
      body: { trade_id: 't1', amount: '1.00' },
      replayable: false,
    };
    const error = await failure(c.call(ctx(), refund));
    expect(error).toBeInstanceOf(AmbiguousOutcome);
    expect((error as AmbiguousOutcome).operation).toBe('refund');
    expect(sent).toHaveLength(1);
  });

  it('treats a wrapped 2xx internalError of a non-replayable request as ambiguous too', async () => {
    const { client: c } = client([{ status: 200, body: { code: 'internalError', message: 'oops' } }]);
    const error = await failure(
      c.call(ctx(), { operation: 'refund', method: 'POST', route: '/api/v1/refund', replayable: false }),
    );
    expect(error).toBeInstanceOf(AmbiguousOutcome);
  });

  it('sends through an injected transport, with the auth hook, Request-Id and the binding secrets to scrub', async () => {
    const seen: ProviderHttpRequest[] = [];
    const transport: HttpTransport = {
      send: async (request) => {
        seen.push(request);
        return { status: 200, headers: {}, body: '{"code":"success","data":{"ok":true}}' };
      },
    };
    const c = createSubotizClient({ transport });
    await expect(c.call(ctx(), { ...getSub, method: 'POST', body: { a: 1 } })).resolves.toEqual({ ok: true });
    expect(seen[0]).toMatchObject({
      provider: 'subotiz',
      operation: 'getSubscription',
      method: 'POST',
      url: 'http://subotiz.test/api/v1/subscription/42',
      body: '{"a":1}',
      replayable: true,
      secrets: ['sk_test_SECRET'],
      headers: { 'Request-Id': deriveRequestId('idem-1', 'getSubscription') },
    });
    expect(seen[0]?.authorize?.({ method: 'POST', url: seen[0].url, body: '{"a":1}' })).toEqual({
      Authorization: 'Bearer sk_test_SECRET',
    });
  });

  it('scrubs the binding secrets from a provider message it quotes', async () => {
    const { client: c } = client([
      { status: 400, body: { code: 'invalidParameter', message: 'key sk_test_SECRET bad' } },
    ]);
    const error = await failure(c.call(ctx(), getSub));
    expect(error.code).toBe('INVALID_ARGUMENT');
    expect(JSON.stringify([error.message, error.violations])).not.toContain('sk_test_SECRET');
  });
});

describe('Subotiz operations', () => {
  function recording(answers: unknown[]): { client: SubotizClient; calls: SubotizRequest[] } {
    const calls: SubotizRequest[] = [];
    return {
      calls,
      client: {
        call: async (_ctx, request) => {
          calls.push(request);
          return answers.shift();
        },
      },
    };
  }
  const clock = () => new Date('2025-10-28T07:00:00Z');
  const subscription = { id: '42', status: 'active', order_id: 'sub_1', updated_at: '2025-10-28T06:54:56Z' };

  it('opens a subscription checkout for one price and keeps the order Subotiz recorded', async () => {
    const { client: c, calls } = recording([
      {
        id: 7,
        session_id: '7',
        session_url: 'https://pay/7',
        order_id: 'sub_1',
        expire_time: 1800,
        created_at: '2025-10-28T07:00:00Z',
      },
    ]);
    const ops = createSubotizOperations({ client: c, clock });
    const checkout = await ops.createCheckout(
      ctx({ config: { sub_merchant_id: 'm1' }, secrets: { api_key: 'k', access_no: 'acc' } }),
      {
        orderId: 'sub_1',
        mode: 'subscription',
        uiMode: 'hosted',
        customer: { id: 'cus_1', email: 'a@b.c', name: 'A', phone: '', country: '', providerRef: '5477' },
        plan: {
          id: 'plan_1',
          name: 'Pro',
          price: { currency: 'USD', amountMinor: 999n },
          interval: { unit: 'MONTH', count: 1 },
          trialDays: 0,
          ref: 'price_9',
        },
        quantity: 2,
        successUrl: 'https://ok',
        cancelUrl: 'https://no',
      },
    );
    expect(calls[0]).toMatchObject({ method: 'POST', route: '/api/v1/session' });
    expect(calls[0]?.body).toEqual({
      access_no: 'acc',
      sub_merchant_id: 'm1',
      order_id: 'sub_1',
      payer_id: 'cus_1',
      email: 'a@b.c',
      customer_id: '5477',
      integration_method: 'hosted',
      return_url: 'https://ok',
      cancel_url: 'https://no',
      mode: 'checkout',
      line_items: [{ price_id: 'price_9', quantity: '2' }],
    });
    expect(checkout).toEqual({
      sessionRef: '7',
      status: 'OPEN',
      nextAction: { redirectUrl: 'https://pay/7' },
      orderId: 'sub_1',
      expireTime: new Date('2025-10-28T07:30:00Z'),
    });
  });

  it('opens a payment checkout for an amount in major units', async () => {
    const { client: c, calls } = recording([{ id: '8', session_url: 'https://pay/8', order_id: 'pay_1' }]);
    const ops = createSubotizOperations({ client: c, clock });
    await ops.createCheckout(ctx(), {
      orderId: 'pay_1',
      mode: 'payment',
      uiMode: 'hosted',
      customer: { id: 'cus_1', email: 'a@b.c', name: 'A', phone: '', country: '' },
      amount: { currency: 'JPY', amountMinor: 1500n },
      successUrl: 'https://ok',
      cancelUrl: 'https://no',
    });
    expect(calls[0]?.body).toMatchObject({ mode: 'payment', amount: '1500', currency: 'JPY', order_id: 'pay_1' });
    expect(calls[0]?.body).not.toHaveProperty('line_items');
  });

  it('refuses a checkout with no return or cancel URL anywhere, naming success_url and cancel_url, before calling', async () => {
    const { client: c, calls } = recording([]);
    const ops = createSubotizOperations({ client: c, clock });
    const checkout = ops.createCheckout(ctx(), {
      orderId: 'pay_2',
      mode: 'payment',
      uiMode: 'hosted',
      customer: { id: 'cus_1', email: 'a@b.c', name: 'A', phone: '', country: '' },
      amount: { currency: 'EUR', amountMinor: 100n },
    });
    await expect(checkout).rejects.toMatchObject({
      code: 'INVALID_ARGUMENT',
      violations: [{ field: 'success_url' }, { field: 'cancel_url' }],
    });
    expect(calls).toHaveLength(0);
  });

  it('cancels at period end, and reads the subscription when Subotiz answers with empty data', async () => {
    const { client: c, calls } = recording([{}, { ...subscription, is_canceling: true }]);
    const ops = createSubotizOperations({ client: c, clock });
    const outcome = await ops.cancelSubscription(
      ctx(),
      { id: 'sub_1', providerRef: '42' },
      {
        atPeriodEnd: true,
        reason: 'too dear',
      },
    );
    expect(calls.map((call) => [call.method, call.route, call.params?.id])).toEqual([
      ['POST', '/api/v1/subscription/{id}/cancel', '42'],
      ['GET', '/api/v1/subscription/{id}', '42'],
    ]);
    expect(calls[0]?.body).toEqual({ cancel_type: 'end_of_period', cancel_reason: 'too dear' });
    expect(outcome).toMatchObject({ kind: 'applied', state: { ref: '42', status: 'ACTIVE', cancelAtPeriodEnd: true } });
  });

  it('records usage with an idempotency key derived from ours', async () => {
    const { client: c, calls } = recording([{ id: 'u1', subscription_id: '42', quantity: '5', timestamp: 1761634496 }]);
    const ops = createSubotizOperations({ client: c, clock });
    const record = await ops.recordUsage(
      ctx(),
      { id: 'sub_1', providerRef: '42' },
      { quantity: 5n, timestamp: new Date(1761634496_500) },
    );
    expect(calls[0]?.body).toEqual({
      quantity: 5,
      timestamp: 1761634496,
      idempotency_key: deriveRequestId('idem-1', 'recordUsage:usage'),
    });
    expect(record).toEqual({ ref: 'u1', quantity: 5n, timestamp: new Date(1761634496_000) });
  });

  it('finds a subscription by our order id before it has a reference, or nothing', async () => {
    const { client: c, calls } = recording([
      { list: [subscription], total: 1 },
      { list: [], total: 0 },
      { list: [subscription], total: 1 },
    ]);
    const ops = createSubotizOperations({ client: c, clock });
    await expect(ops.getSubscription(ctx(), { id: 'sub_1' })).resolves.toMatchObject({ ref: '42', orderId: 'sub_1' });
    await expect(ops.getSubscription(ctx(), { id: 'sub_2' })).resolves.toBeUndefined();
    expect(calls[0]?.query).toMatchObject({ order_id: 'sub_1' });
    // A listed subscription must carry the order asked for: another order's is never taken for ours.
    await expect(ops.getSubscription(ctx(), { id: 'sub_3' })).rejects.toThrow("with order 'sub_1'");
  });

  /** Answers in order; an Error answer is thrown (e.g. the kit's AmbiguousOutcome). */
  function scripted(answers: unknown[]): { client: SubotizClient; calls: SubotizRequest[] } {
    const calls: SubotizRequest[] = [];
    return {
      calls,
      client: {
        call: async (_ctx, request) => {
          calls.push(request);
          const answer = answers.shift();
          if (answer instanceof Error) throw answer;
          return answer;
        },
      },
    };
  }
  const lost = () => new AmbiguousOutcome({ provider: 'subotiz', operation: 'x' }, 'answer lost');
  const trade = (status: string, orderId = 'sub_1-c2') => ({
    trade_id: 't9',
    order_id: orderId,
    subscription_id: '42',
    amount: '19.99',
    currency: 'EUR',
    trade_status: status,
    payment_mode: 'recurring_payment',
  });
  const renewal = {
    handle: { id: 'sub_1', providerRef: '42', customerRef: '5477' },
    orderId: 'sub_1-c2',
    amount: { currency: 'EUR', amountMinor: 1999n },
    paymentMethodRef: 'pt_1',
    cycleIndex: 2,
  };

  it('charges a renewal with Create Trade (Flow 4), sent once', async () => {
    const { client: c, calls } = scripted([trade('succeeded')]);
    const payment = await createSubotizOperations({ client: c, clock }).chargeRenewal(ctx(), renewal);
    expect(calls[0]).toMatchObject({ method: 'POST', route: '/api/v1/trade', replayable: false });
    expect(calls[0]?.body).toMatchObject({
      order_id: 'sub_1-c2',
      payment_mode: 'recurring_payment',
      payment_token: 'pt_1',
      amount: '19.99',
      currency: 'EUR',
      customer_id: '5477',
    });
    expect(payment).toMatchObject({ ref: 't9', status: 'SUCCEEDED', subscriptionRef: '42' });
  });

  it('answers the trade Subotiz made when Create Trade’s answer was lost, without sending it again', async () => {
    const { client: c, calls } = scripted([
      lost(),
      { list: [trade('succeeded', 'other'), trade('succeeded')], total: 2 },
    ]);
    const payment = await createSubotizOperations({ client: c, clock }).chargeRenewal(ctx(), renewal);
    expect(calls.map((r) => [r.method, r.route, r.query?.order_id])).toEqual([
      ['POST', '/api/v1/trade', undefined],
      ['GET', '/api/v1/trades', 'sub_1-c2'],
    ]);
    expect(payment.ref).toBe('t9');
  });

  it('sends a refund once more when Subotiz has none with our refund id', async () => {
    const refundJson = {
      refund_id: 'r1',
      trade_id: 't1',
      refund_amount: '1.00',
      currency: 'USD',
      refund_status: 'pending',
      metadata: null,
    };
    const { client: c, calls } = scripted([
      lost(),
      { list: [{ ...refundJson, refund_id: 'r0', metadata: { refund_id: 'ref_other' } }], total: 1 },
      { ...refundJson, metadata: { refund_id: 'ref_1' } },
    ]);
    const refund = await createSubotizOperations({ client: c, clock }).refund(ctx(), {
      refundId: 'ref_1',
      payment: { ref: 't1', orderId: 'pay_1' },
      amount: { currency: 'USD', amountMinor: 100n },
      reason: '',
    });
    expect(calls.map((r) => [r.method, r.route])).toEqual([
      ['POST', '/api/v1/refund'],
      ['GET', '/api/v1/refunds'],
      ['POST', '/api/v1/refund'],
    ]);
    expect(refund.ref).toBe('r1');
  });

  it('refunds in major units and opens a portal link valid 30 minutes', async () => {
    const { client: c, calls } = recording([
      { refund_id: 'r1', trade_id: 't1', refund_amount: '15.57', currency: 'USD', refund_status: 'pending' },
      { customer_portal_link: 'https://portal/1' },
    ]);
    const ops = createSubotizOperations({ client: c, clock });
    const refund = await ops.refund(ctx(), {
      refundId: 'ref_1',
      payment: { ref: 't1', orderId: 'pay_1' },
      amount: { currency: 'USD', amountMinor: 1557n },
      reason: 'asked',
    });
    expect(calls[0]?.body).toEqual({
      trade_id: 't1',
      amount: '15.57',
      reason: 'asked',
      metadata: { refund_id: 'ref_1' },
    });
    expect(calls[0]?.replayable).toBe(false);
    expect(refund).toMatchObject({ ref: 'r1', paymentRef: 't1', status: 'PENDING', amount: { amountMinor: 1557n } });
    await expect(ops.createPortalSession(ctx(), '5477', 'https://back')).resolves.toEqual({
      url: 'https://portal/1',
      expireTime: new Date('2025-10-28T07:30:00Z'),
    });
  });
});
