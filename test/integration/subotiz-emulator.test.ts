import { createHmac, randomUUID } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { type EmulatorMerchant, startSubotizEmulator, type SubotizEmulator } from '../../adapters/subotiz/emulator';

/** A webhook as our receiver got it. */
interface Received {
  at: number;
  headers: http.IncomingHttpHeaders;
  raw: string;
  event: { id: string; type: string; created: string; data: Record<string, unknown> };
}

/** A tiny webhook endpoint: records every delivery and answers what `respond` says. */
interface Receiver {
  url: string;
  received: Received[];
  respond: (delivery: number) => number;
  close(): Promise<void>;
}

async function startReceiver(): Promise<Receiver> {
  const receiver: Receiver = { url: '', received: [], respond: () => 200, close: async () => undefined };
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const raw = Buffer.concat(chunks).toString('utf8');
      receiver.received.push({
        at: Date.now(),
        headers: req.headers,
        raw,
        event: JSON.parse(raw) as Received['event'],
      });
      res.writeHead(receiver.respond(receiver.received.length)).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  receiver.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/webhooks/subotiz`;
  receiver.close = () =>
    new Promise((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
    });
  return receiver;
}

const DAY = 86_400;

describe('Subotiz emulator speaks the README wire contract', () => {
  let emulator: SubotizEmulator;
  let receiver: Receiver;
  let merchant: EmulatorMerchant;

  beforeAll(async () => {
    receiver = await startReceiver();
    merchant = {
      accessNo: '77d52a21dc032b4',
      subMerchantId: '2816433',
      apiKey: 'sk_test_emulator',
      accessSecret: 'access-secret',
      webhookSecret: 'whsec_test',
      webhookUrl: receiver.url,
    };
    emulator = await startSubotizEmulator({
      merchants: [merchant],
      prices: [
        { priceId: '5001', amount: '30.00', currency: 'USD', interval: 'month', intervalCount: 1, trialDays: 0 },
        { priceId: '5002', amount: '10.00', currency: 'USD', interval: 'month', intervalCount: 1, trialDays: 7 },
        { priceId: '5003', amount: '1500', currency: 'JPY', interval: 'year', intervalCount: 1, trialDays: 0 },
      ],
      webhookRetryBaseMs: 50,
    });
  });

  afterAll(async () => {
    await emulator?.stop();
    await receiver?.close();
  });

  beforeEach(async () => {
    await control('POST', '/reset');
    receiver.received = [];
    receiver.respond = () => 200;
  });

  type Auth = 'bearer' | 'hub' | { bearer: string } | { hubSecret?: string; hubTimestamp?: number } | 'none';

  /** Calls the Subotiz API like an adapter would; answers HTTP status and parsed body. */
  async function api(
    method: 'GET' | 'POST',
    pathAndQuery: string,
    options: { body?: unknown; auth?: Auth; requestId?: string } = {},
  ): Promise<{ status: number; json: { code: string; message: string; data?: Record<string, unknown> } }> {
    const body = method === 'POST' ? JSON.stringify(options.body ?? {}) : undefined;
    const headers: Record<string, string> = {
      'Content-Type': 'application/json',
      'Request-Id': options.requestId ?? randomUUID(),
    };
    const auth = options.auth ?? 'bearer';
    if (auth === 'bearer') headers.Authorization = `Bearer ${merchant.apiKey}`;
    else if (typeof auth === 'object' && 'bearer' in auth) headers.Authorization = `Bearer ${auth.bearer}`;
    else if (auth !== 'none') {
      const hub = auth === 'hub' ? {} : auth;
      const timestamp = String(hub.hubTimestamp ?? Date.now());
      headers['Hub-Access-No'] = merchant.accessNo;
      headers['Hub-Timestamp'] = timestamp;
      headers['Hub-Signature'] = createHmac('sha256', hub.hubSecret ?? merchant.accessSecret)
        .update(`${method}\n${pathAndQuery}\n${timestamp}\n${body ?? ''}\n`)
        .digest('hex');
    }
    const response = await fetch(`${emulator.url}${pathAndQuery}`, { method, headers, body });
    return { status: response.status, json: (await response.json()) as never };
  }

  async function control(method: 'GET' | 'POST', path: string, body?: unknown): Promise<Record<string, unknown>> {
    const response = await fetch(`${emulator.url}/__emulator${path}`, {
      method,
      headers: { 'Content-Type': 'application/json' },
      body: method === 'POST' ? JSON.stringify(body ?? {}) : undefined,
    });
    const json = (await response.json()) as Record<string, unknown>;
    if (!response.ok) throw new Error(`${path}: ${response.status} ${JSON.stringify(json)}`);
    return json;
  }

  const sessionBody = (overrides: Record<string, unknown> = {}) => ({
    access_no: merchant.accessNo,
    sub_merchant_id: merchant.subMerchantId,
    order_id: `sub_${randomUUID().slice(0, 8)}`,
    payer_id: 'cus_01',
    email: 'buyer@example.com',
    line_items: [{ price_id: '5001', quantity: '1' }],
    integration_method: 'hosted',
    return_url: 'https://shop.example/success',
    cancel_url: 'https://shop.example/cancel',
    ...overrides,
  });

  async function createSession(overrides: Record<string, unknown> = {}): Promise<Record<string, unknown>> {
    const { status, json } = await api('POST', '/api/v1/session', { body: sessionBody(overrides) });
    expect({ status, code: json.code }).toEqual({ status: 200, code: 'success' });
    return json.data!;
  }

  /** Checkout completed through the control; resolves once its webhooks were delivered. */
  async function subscribe(overrides: Record<string, unknown> = {}) {
    const session = await createSession(overrides);
    const done = (await control('POST', `/sessions/${String(session.id)}/complete`)) as Record<
      string,
      Record<string, unknown>
    >;
    await emulator.idle();
    return { session, trade: done.trade!, subscription: done.subscription!, invoice: done.invoice! };
  }

  const types = () => receiver.received.map((r) => r.event.type);

  async function advanceDays(days: number): Promise<void> {
    await control('POST', '/clock/advance', { seconds: days * DAY });
    await emulator.idle();
  }

  /** Moves the clock exactly to `iso` (a period end), processing what falls due on the way. */
  async function advanceTo(iso: unknown): Promise<void> {
    const { now } = await control('GET', '/clock');
    await control('POST', '/clock/advance', { seconds: (Date.parse(String(iso)) - Date.parse(String(now))) / 1000 });
    await emulator.idle();
  }

  async function waitFor(condition: () => boolean, timeoutMs = 5000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!condition()) {
      if (Date.now() > deadline) throw new Error('condition not met in time');
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
  }

  describe('auth', () => {
    it('accepts the Bearer key and refuses a wrong one with 401 unauthorizedError', async () => {
      expect((await api('GET', '/api/v1/subscription?page=1&page_size=10')).json).toEqual({
        code: 'success',
        message: 'success',
        data: { list: [], total: 0 },
      });
      const refused = await api('GET', '/api/v1/subscription', { auth: { bearer: 'sk_wrong' } });
      expect(refused).toEqual({
        status: 401,
        json: { code: 'unauthorizedError', message: 'ApiKey authentication is required' },
      });
      expect((await api('GET', '/api/v1/subscription', { auth: 'none' })).status).toBe(401);
    });

    it('accepts a Hub-* signature over method, path and query, timestamp and body', async () => {
      const created = await api('POST', '/api/v1/session', { auth: 'hub', body: sessionBody({ order_id: 'sub_hub' }) });
      expect(created.status).toBe(200);
      const listed = await api('GET', '/api/v1/subscription?order_id=sub_hub&page=1&page_size=5', { auth: 'hub' });
      expect(listed).toEqual({ status: 200, json: expect.objectContaining({ data: { list: [], total: 0 } }) });
    });

    it('refuses a wrong Hub signature and a timestamp more than 300 s off', async () => {
      const bad = await api('GET', '/api/v1/trades?page=1', { auth: { hubSecret: 'not-the-secret' } });
      expect(bad.status).toBe(401);
      expect(bad.json.code).toBe('unauthorizedError');
      expect(bad.json.message).toMatch(/signature mismatch$/);
      const stale = await api('GET', '/api/v1/trades', { auth: { hubTimestamp: Date.now() - 301_000 } });
      expect(stale.status).toBe(401);
      expect(stale.json.message).toMatch(/timestamp out of range$/);
    });
  });

  it('replays a POST with the same Request-Id: the first answer, and one session only', async () => {
    const requestId = randomUUID();
    const body = sessionBody();
    const first = await api('POST', '/api/v1/session', { body, requestId });
    const again = await api('POST', '/api/v1/session', { body, requestId });
    expect(again).toEqual(first);
    expect((await control('GET', '/state')).sessions).toBe(1);
    await api('POST', '/api/v1/session', { body });
    expect((await control('GET', '/state')).sessions).toBe(2);
  });

  it('refuses bad input with 400 invalidParameter naming the field, and creates nothing', async () => {
    const cases: [Record<string, unknown>, string][] = [
      [{ order_id: undefined }, 'order_id: is required'],
      [{ line_items: [{ price_id: 'x', quantity: '1' }] }, "line_items[0].price_id: price 'x' not found"],
      [{ line_items: [{ price_id: '5001', quantity: '0' }] }, 'line_items[0].quantity: must be an integer'],
      [{ payer_id: undefined, email: undefined }, 'payer_id: one of payer_id, customer_id or email is required'],
      [{ mode: 'payment', line_items: undefined, amount: '10.001', currency: 'USD' }, 'amount: '],
      [{ sub_merchant_id: 'someone-else' }, 'sub_merchant_id: '],
    ];
    for (const [overrides, message] of cases) {
      const { status, json } = await api('POST', '/api/v1/session', { body: sessionBody(overrides) });
      expect({ status, code: json.code }).toEqual({ status: 400, code: 'invalidParameter' });
      expect(json.message.startsWith(message)).toBe(true);
    }
    expect((await control('GET', '/state')).sessions).toBe(0);
    expect((await api('GET', '/api/v1/subscription/123')).json).toEqual({
      code: 'notFound',
      message: "id: subscription '123' not found",
    });
  });

  it('writes money with the currency exponent', async () => {
    expect((await createSession({ line_items: [{ price_id: '5001', quantity: '3' }] })).total_amount).toBe('90.00');
    expect((await createSession({ line_items: [{ price_id: '5003', quantity: '1' }] })).total_amount).toBe('1500');
    const kwd = sessionBody({ mode: 'payment', line_items: undefined, amount: '1.234', currency: 'KWD' });
    expect((await api('POST', '/api/v1/session', { body: kwd })).json.data?.total_amount).toBe('1.234');
  });

  it('completes a subscription checkout with the documented signed webhooks, in order', async () => {
    const { session, trade, subscription, invoice } = await subscribe({
      line_items: [{ price_id: '5001', quantity: '2' }],
    });
    expect(types()).toEqual(['v2.trades.created', 'v2.trades.succeeded', 'v2.subscription.first', 'v2.invoice.paid']);
    for (const { headers, raw } of receiver.received) {
      const timestamp = String(headers['x-timestamp']);
      expect(Math.abs(Date.now() - Number(timestamp))).toBeLessThan(300_000);
      expect(headers['x-access-no']).toBe(merchant.accessNo);
      expect(headers['x-signature']).toBe(
        createHmac('sha256', merchant.webhookSecret).update(`${timestamp}.${raw}`).digest('hex'),
      );
    }
    const [, succeeded, first, paid] = receiver.received.map((r) => r.event.data);
    expect(succeeded).toMatchObject({
      trade_status: 'succeeded',
      payment_mode: 'subscription',
      amount: '60.00',
      currency: 'USD',
      order_id: session.order_id,
      subscription_id: subscription.id,
      invoice_id: invoice.id,
      refund_status: 'no_refund',
      total_refunded_amount: '0.00',
    });
    expect(succeeded?.payment_token).toEqual(expect.any(String));
    expect(first).toMatchObject({ status: 'active', order_id: session.order_id, quantity: '2', cycle_index: '1' });
    expect(first?.id).toMatch(/^\d+$/);
    expect(String(first?.current_period_end)).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
    expect(paid).toMatchObject({
      invoice_type: 'initial',
      status: 'success',
      amount: '60.00',
      trade_id: trade.trade_id,
    });
    expect(paid?.order_id).toBe(session.order_id);
    const fetched = await api('GET', `/api/v1/session/${String(session.id)}`);
    expect(fetched.json.data).toMatchObject({ status: 'complete', trade_id: trade.trade_id });
  });

  it('renews at period end when the clock advances', async () => {
    const { subscription } = await subscribe();
    receiver.received = [];
    await advanceTo(subscription.current_period_end);
    expect(types()).toEqual(['v2.trades.succeeded', 'v2.invoice.paid']);
    const [trade, invoice] = receiver.received.map((r) => r.event.data);
    expect(trade).toMatchObject({ payment_mode: 'recurring_payment', subscription_id: subscription.id });
    expect(trade?.order_id).toBe(subscription.order_id);
    expect(invoice).toMatchObject({ invoice_type: 'renewal', cycle_index: '2', amount: '30.00' });
    expect(invoice?.cycle_start).toBe(subscription.current_period_end);
    const after = (await api('GET', `/api/v1/subscription/${String(subscription.id)}`)).json.data;
    expect(after).toMatchObject({ status: 'active', cycle_index: '2', current_period_start: invoice?.cycle_start });
  });

  it('runs a trial: reminder 3 days before its end, then the first renewal charges cycle 1', async () => {
    const { subscription, invoice } = await subscribe({ line_items: [{ price_id: '5002', quantity: '1' }] });
    expect(subscription).toMatchObject({ status: 'trial', cycle_index: '0' });
    expect(invoice).toMatchObject({ invoice_type: 'trial', amount: '0.00', cycle_index: '0' });
    receiver.received = [];
    await advanceDays(4);
    expect(types()).toEqual(['v2.subscription.trial_period_expiring']);
    await advanceDays(3);
    expect(types().slice(1)).toEqual(['v2.trades.succeeded', 'v2.invoice.paid']);
    expect(receiver.received[2]?.event.data).toMatchObject({ invoice_type: 'renewal', cycle_index: '1' });
  });

  it('dunning: a failed renewal goes past_due, retries every 24 h three times, then unpaid', async () => {
    const { subscription } = await subscribe();
    receiver.received = [];
    await control('POST', '/charges/fail-next', { count: 4, code: 'insufficient_funds' });
    await advanceTo(subscription.current_period_end);
    expect(types()).toEqual(['v2.trades.payment_failed', 'v2.subscription.past_due']);
    expect(receiver.received[0]?.event.data.last_payment_error).toEqual(
      expect.objectContaining({ code: 'insufficient_funds' }),
    );
    await advanceDays(2);
    expect(types().slice(2)).toEqual(['v2.trades.payment_failed', 'v2.trades.payment_failed']);
    await advanceDays(1);
    expect(types().slice(4)).toEqual([
      'v2.trades.payment_failed',
      'v2.invoice.payment_failed',
      'v2.subscription.unpaid',
    ]);
    const sub = (await api('GET', `/api/v1/subscription/${String(subscription.id)}`)).json.data;
    expect(sub?.status).toBe('unpaid');
    const tradeId = String(receiver.received[0]?.event.data.trade_id);
    expect((await api('GET', `/api/v1/trade/${tradeId}`)).json.data?.trade_status).toBe('closed');
  });

  it('dunning: a successful retry pays the invoice and the subscription is active again', async () => {
    const { subscription } = await subscribe();
    await control('POST', '/charges/fail-next', { count: 1 });
    await advanceTo(subscription.current_period_end);
    receiver.received = [];
    await advanceDays(1);
    expect(types()).toEqual(['v2.trades.succeeded', 'v2.invoice.paid']);
    const sub = (await api('GET', `/api/v1/subscription/${String(subscription.id)}`)).json.data;
    expect(sub).toMatchObject({
      status: 'active',
      cycle_index: '2',
      current_period_start: subscription.current_period_end,
    });
  });

  it('cancels at period end: cancellation_requested now, canceled when the period ends, no renewal', async () => {
    const { subscription } = await subscribe();
    receiver.received = [];
    const path = `/api/v1/subscription/${String(subscription.id)}/cancel`;
    const canceling = await api('POST', path, { body: { cancel_type: 'end_of_period', cancel_reason: 'too pricey' } });
    expect(canceling.json.data).toMatchObject({
      status: 'active',
      is_canceling: true,
      cancel_at: subscription.current_period_end,
    });
    expect((await api('POST', path, { body: {} })).json.code).toBe('invalidState');
    await advanceDays(31);
    expect(types()).toEqual(['v2.subscription.cancellation_requested', 'v2.subscription.canceled']);
    expect(receiver.received[1]?.event.data).toMatchObject({ status: 'canceled', cancel_reason: 'too pricey' });
    expect((await control('GET', '/state')).invoices).toBe(1);
  });

  it('records usage once per idempotency key', async () => {
    const { subscription } = await subscribe();
    const path = `/api/v1/subscription/${String(subscription.id)}/usage`;
    const first = await api('POST', path, { body: { quantity: 5, idempotency_key: 'u1' } });
    const again = await api('POST', path, { body: { quantity: 5, idempotency_key: 'u1' } });
    expect(again.json.data).toEqual(first.json.data);
    await api('POST', path, { body: { quantity: 2, idempotency_key: 'u2' } });
    expect((await api('GET', path)).json.data).toMatchObject({ total_quantity: 7 });
  });

  it('refunds partially, then fully, and refuses more than the refundable balance', async () => {
    const { trade, invoice } = await subscribe();
    receiver.received = [];
    const refund = (amount: string) => api('POST', '/api/v1/refund', { body: { trade_id: trade.trade_id, amount } });

    const partial = await refund('10.00');
    expect(partial.json.data).toMatchObject({ refund_status: 'pending', refund_amount: '10.00' });
    await emulator.idle();
    expect(types()).toEqual(['v2.refunds.succeeded', 'v2.invoice.refunded']);
    expect(receiver.received[1]?.event.data).toMatchObject({ id: invoice.id, status: 'partially_refunded' });
    const tradePath = `/api/v1/trade/${String(trade.trade_id)}`;
    expect((await api('GET', tradePath)).json.data).toMatchObject({
      refund_status: 'partially_refunded',
      total_refunded_amount: '10.00',
    });

    const over = await refund('20.01');
    expect(over).toEqual({
      status: 400,
      json: { code: 'invalidParameter', message: 'amount: 20.01 exceeds the refundable balance 20.00' },
    });
    expect((await refund('20.00')).status).toBe(200);
    await emulator.idle();
    expect((await api('GET', tradePath)).json.data).toMatchObject({ refund_status: 'refunded' });
    expect(receiver.received.at(-1)?.event.data).toMatchObject({ status: 'refunded' });
    expect((await refund('0.01')).status).toBe(400);
  });

  it('retries a webhook the receiver refuses on the 1, 2, 4 … base schedule without holding later events', async () => {
    receiver.respond = (delivery) => (delivery === 1 || delivery === 3 || delivery === 4 ? 500 : 200);
    const session = await createSession({ mode: 'payment', line_items: undefined, amount: '5.00', currency: 'USD' });
    await control('POST', `/sessions/${String(session.id)}/complete`);
    await waitFor(() => receiver.received.length >= 5);
    const created = receiver.received.filter((r) => r.event.type === 'v2.trades.created');
    // Delivery 2 is trades.succeeded: the refused first event did not hold it back.
    expect(receiver.received[1]?.event.type).toBe('v2.trades.succeeded');
    expect(created).toHaveLength(4);
    expect(new Set(created.map((r) => r.raw)).size).toBe(1);
    const gaps = created.slice(1).map((r, i) => r.at - created[i]!.at);
    expect(gaps[0]).toBeGreaterThanOrEqual(45);
    expect(gaps[1]).toBeGreaterThanOrEqual(95);
    expect(gaps[2]).toBeGreaterThanOrEqual(195);
    // The emulator records an attempt once its response is read, which may be after the receiver has it.
    await emulator.idle();
    const log = (await control('GET', '/webhooks')) as unknown as Record<string, unknown>[];
    expect(log[0]).toMatchObject({ type: 'v2.trades.created', attempts: 4, delivered: true, last_status: 200 });
  });

  it('webhook faults: duplicate sends an event twice, reorder delivers a batch backwards', async () => {
    await control('POST', '/webhooks/faults', { mode: 'reorder', count: 4 });
    await subscribe();
    expect(types()).toEqual(['v2.invoice.paid', 'v2.subscription.first', 'v2.trades.succeeded', 'v2.trades.created']);
    receiver.received = [];
    await control('POST', '/webhooks/faults', { mode: 'duplicate', count: 1 });
    await advanceDays(31);
    expect(types()).toEqual(['v2.trades.succeeded', 'v2.trades.succeeded', 'v2.invoice.paid']);
    expect(receiver.received[0]?.event.id).toBe(receiver.received[1]?.event.id);
  });

  it('API faults: 503 for the next N calls, and after:true does the work but loses the answer', async () => {
    await control('POST', '/faults', { count: 2, status: 503 });
    for (let i = 0; i < 2; i += 1) {
      expect(await api('GET', '/api/v1/trades')).toEqual({
        status: 503,
        json: { code: 'serviceUnavailable', message: expect.any(String) },
      });
    }
    expect((await api('GET', '/api/v1/trades')).status).toBe(200);

    await control('POST', '/faults', { count: 1, after: true, path: '/api/v1/session' });
    const requestId = randomUUID();
    const body = sessionBody();
    expect((await api('POST', '/api/v1/session', { body, requestId })).status).toBe(503);
    expect((await control('GET', '/state')).sessions).toBe(1);
    const retried = await api('POST', '/api/v1/session', { body, requestId });
    expect(retried.status).toBe(200);
    expect(retried.json.data?.order_id).toBe(body.order_id);
    expect((await control('GET', '/state')).sessions).toBe(1);

    await control('POST', '/faults', { count: 1, delay_ms: 300 });
    const started = Date.now();
    expect((await api('GET', '/api/v1/trades')).status).toBe(503);
    expect(Date.now() - started).toBeGreaterThanOrEqual(290);
  });
});
