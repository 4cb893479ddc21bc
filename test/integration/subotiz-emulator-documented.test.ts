import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {
  type EmulatorMerchant,
  startSubotizEmulator,
  type SubotizEmulator,
  type SubotizEmulatorOptions,
} from '../../adapters/subotiz/emulator';

const DAY = 86_400;
const MERCHANT: EmulatorMerchant = {
  accessNo: 'acc_doc',
  subMerchantId: 'm-doc',
  apiKey: 'sk_test_doc',
  accessSecret: 'as_doc',
  webhookSecret: 'whsec_doc',
};
const PRICE = {
  priceId: 'p_month',
  amount: '30.00',
  currency: 'USD',
  interval: 'month' as const,
  intervalCount: 1,
  trialDays: 0,
};

type Json = Record<string, unknown>;

/** One emulator and the calls tests make to it (API with the Bearer key, controls without auth). */
async function emulatorFor(options: SubotizEmulatorOptions = {}) {
  const emulator: SubotizEmulator = await startSubotizEmulator({ merchants: [MERCHANT], prices: [PRICE], ...options });
  const api = async (method: 'GET' | 'POST', pathAndQuery: string, body?: unknown) => {
    const response = await fetch(`${emulator.url}${pathAndQuery}`, {
      method,
      headers: {
        'Content-Type': 'application/json',
        'Request-Id': randomUUID(),
        Authorization: `Bearer ${MERCHANT.apiKey}`,
      },
      body: method === 'POST' ? JSON.stringify(body ?? {}) : undefined,
    });
    const json = (await response.json()) as { code: string; message: string; data?: Json };
    return { status: response.status, code: json.code, message: json.message, data: json.data ?? {} };
  };
  const control = async (method: 'GET' | 'POST', controlPath: string, body?: unknown): Promise<Json> => {
    const response = await fetch(`${emulator.url}/__emulator${controlPath}`, {
      method,
      headers: { 'Content-Type': 'application/json' },
      body: method === 'POST' ? JSON.stringify(body ?? {}) : undefined,
    });
    const json = (await response.json()) as Json;
    if (!response.ok) throw new Error(`${controlPath}: ${response.status} ${JSON.stringify(json)}`);
    return json;
  };
  const sessionBody = (overrides: Json = {}): Json => ({
    access_no: MERCHANT.accessNo,
    sub_merchant_id: MERCHANT.subMerchantId,
    order_id: `sub_${randomUUID().slice(0, 8)}`,
    payer_id: 'cus_1',
    line_items: [{ price_id: PRICE.priceId, quantity: '1' }],
    integration_method: 'hosted',
    return_url: 'https://shop.example/ok',
    cancel_url: 'https://shop.example/cancel',
    ...overrides,
  });
  /** A paid subscription checkout: the session, its trade and subscription. */
  const subscribe = async (overrides: Json = {}) => {
    const created = await api('POST', '/api/v1/session', sessionBody(overrides));
    expect(created.code).toBe('success');
    const done = (await control('POST', `/sessions/${String(created.data.id)}/complete`)) as Record<string, Json>;
    return { session: created.data, trade: done.trade!, subscription: done.subscription! };
  };
  const webhookTypes = async () => ((await control('GET', '/webhooks')) as unknown as Json[]).map((e) => e.type);
  return { emulator, api, control, sessionBody, subscribe, webhookTypes };
}

describe('Subotiz emulator: state on disk and the wall + offset clock', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'subotiz-state-'));
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('remembers sessions, subscriptions, trades, the clock offset and its webhook log across a restart', async () => {
    const stateFile = path.join(dir, 'subotiz.json');
    const first = await emulatorFor({ stateFile });
    const { session, trade, subscription } = await first.subscribe();
    await first.control('POST', '/clock/advance', { seconds: DAY });
    // Opened after the advance: still within its 30 minutes when the next run looks.
    const open = await first.api('POST', '/api/v1/session', first.sessionBody());
    const eventsBefore = await first.webhookTypes();
    await first.emulator.stop();

    const second = await emulatorFor({ stateFile });
    try {
      expect((await second.api('GET', `/api/v1/session/${String(session.id)}`)).data).toMatchObject({
        status: 'complete',
        trade_id: trade.trade_id,
      });
      expect((await second.api('GET', `/api/v1/session/${String(open.data.id)}`)).data.status).toBe('open');
      expect((await second.api('GET', `/api/v1/subscription/${String(subscription.id)}`)).data).toMatchObject({
        status: 'active',
        order_id: session.order_id,
      });
      expect((await second.api('GET', `/api/v1/trade/${String(trade.trade_id)}`)).data.trade_status).toBe('succeeded');
      expect((await second.control('GET', '/clock')).offset_seconds).toBe(DAY);
      expect(await second.webhookTypes()).toEqual(eventsBefore);
      // New ids never repeat the old run's.
      const next = await second.api('POST', '/api/v1/session', second.sessionBody());
      expect(BigInt(String(next.data.id))).toBeGreaterThan(BigInt(String(open.data.id)));
    } finally {
      await second.emulator.stop();
    }
  });

  it('runs on wall time plus the offset; advancing moves the offset, and session expiry follows it', async () => {
    const { emulator, api, control, sessionBody } = await emulatorFor();
    try {
      const before = await control('GET', '/clock');
      expect(before.offset_seconds).toBe(0);
      // Wall time: within a few seconds of this machine's clock (no test controls the wall).
      expect(Math.abs(Date.parse(String(before.now)) - Date.now())).toBeLessThan(5_000);
      const session = await api('POST', '/api/v1/session', sessionBody());
      const advanced = await control('POST', '/clock/advance', { seconds: 1801 });
      expect(advanced.offset_seconds).toBe(1801);
      expect(Math.abs(Date.parse(String(advanced.now)) - (Date.now() + 1_801_000))).toBeLessThan(5_000);
      expect((await api('GET', `/api/v1/session/${String(session.data.id)}`)).data.status).toBe('expire');
    } finally {
      await emulator.stop();
    }
  });
});

describe('Subotiz emulator: the Checkout Session as its document says', () => {
  it('requires integration_method, return_url, and cancel_url for hosted, naming the field', async () => {
    const { emulator, api, control, sessionBody } = await emulatorFor();
    try {
      const cases: [Json, string][] = [
        [{ integration_method: undefined }, 'integration_method: is required'],
        [{ integration_method: 'popup' }, 'integration_method: must be one of hosted, embedded'],
        [{ return_url: undefined }, 'return_url: is required'],
        [{ cancel_url: undefined }, 'cancel_url: is required for a hosted checkout'],
        [{ access_no: undefined }, 'access_no: is required'],
        [{ sub_merchant_id: undefined }, 'sub_merchant_id: is required'],
        [{ redirect_on_completion: 'never' }, 'redirect_on_completion: must be one of always, if_required'],
      ];
      for (const [overrides, message] of cases) {
        const answer = await api('POST', '/api/v1/session', sessionBody(overrides));
        expect({ status: answer.status, code: answer.code }).toEqual({ status: 400, code: 'invalidParameter' });
        expect(answer.message.startsWith(message)).toBe(true);
      }
      expect((await control('GET', '/state')).sessions).toBe(0);
    } finally {
      await emulator.stop();
    }
  });

  it('falls back to the dashboard default return and cancel URLs when the account has them', async () => {
    const merchant = {
      ...MERCHANT,
      dashboardReturnUrl: 'https://shop.example/d-ok',
      dashboardCancelUrl: 'https://shop.example/d-no',
    };
    const { emulator, api, sessionBody } = await emulatorFor({ merchants: [merchant] });
    try {
      const answer = await api(
        'POST',
        '/api/v1/session',
        sessionBody({ return_url: undefined, cancel_url: undefined }),
      );
      expect(answer.data).toMatchObject({
        return_url: 'https://shop.example/d-ok',
        cancel_url: 'https://shop.example/d-no',
      });
    } finally {
      await emulator.stop();
    }
  });

  it('embedded: no cancel_url needed; answers session_id and session_url for the SDK, and redirect_on_completion', async () => {
    const { emulator, api, control, sessionBody } = await emulatorFor();
    try {
      const answer = await api(
        'POST',
        '/api/v1/session',
        sessionBody({ integration_method: 'embedded', redirect_on_completion: 'if_required', cancel_url: undefined }),
      );
      expect(answer.status).toBe(200);
      expect(answer.data).toMatchObject({
        integration_method: 'embedded',
        redirect_on_completion: 'if_required',
        session_id: answer.data.id,
        session_url: `${emulator.url}/checkout/${String(answer.data.id)}`,
        status: 'open',
      });
      const done = (await control('POST', `/sessions/${String(answer.data.id)}/complete`)) as Record<string, Json>;
      expect(done.subscription).toMatchObject({ status: 'active' });
    } finally {
      await emulator.stop();
    }
  });

  it('payment-only: an amount without line_items, a one-time trade, no subscription and no payment token', async () => {
    const { emulator, api, control, sessionBody } = await emulatorFor();
    try {
      const body = sessionBody({ mode: 'payment', line_items: undefined, amount: '12.50', currency: 'USD' });
      const created = await api('POST', '/api/v1/session', body);
      expect(created.data).toMatchObject({ mode: 'payment', total_amount: '12.50', price_id: null });
      const done = (await control('POST', `/sessions/${String(created.data.id)}/complete`)) as Record<string, Json>;
      expect(done.trade).toMatchObject({ payment_mode: 'onetime_payment', payment_token: null, subscription_id: null });
      expect(done.subscription).toBeUndefined();
      const withItems = await api('POST', '/api/v1/session', { ...body, line_items: [{ price_id: PRICE.priceId }] });
      expect(withItems.message).toMatch(/^line_items: must be absent when mode is payment/);
    } finally {
      await emulator.stop();
    }
  });
});

describe('Subotiz emulator: Flow 4, merchant-initiated renewals by Create Trade', () => {
  it('hands out a payment_token on the first checkout and charges it with recurring_payment, starting the next cycle', async () => {
    const { emulator, api, control, subscribe, webhookTypes } = await emulatorFor({
      merchants: [{ ...MERCHANT, renewals: 'merchant' }],
    });
    try {
      const { session, trade, subscription } = await subscribe();
      const token = String(trade.payment_token);
      expect(token).toMatch(/^pt_/);
      expect((await api('GET', `/api/v1/session/${String(session.id)}`)).data.payment_token).toBe(token);

      // Subotiz charges nothing itself at period end for a merchant that renews.
      await control('POST', '/clock/advance', { seconds: 31 * DAY });
      expect((await control('GET', '/state')).trades).toBe(1);

      const renewal = await api('POST', '/api/v1/trade', {
        order_id: 'sub_renewal_2',
        amount: '30.00',
        currency: 'USD',
        payment_mode: 'recurring_payment',
        payment_token: token,
      });
      expect(renewal.data).toMatchObject({
        trade_status: 'succeeded',
        payment_mode: 'recurring_payment',
        order_id: 'sub_renewal_2',
        subscription_id: subscription.id,
        customer_id: subscription.customer_id,
        amount: '30.00',
      });
      const invoice = await api('GET', `/api/v1/invoice/${String(renewal.data.invoice_id)}`);
      expect(invoice.data).toMatchObject({ invoice_type: 'renewal', status: 'success', cycle_index: '2' });
      const after = await api('GET', `/api/v1/subscription/${String(subscription.id)}`);
      expect(after.data).toMatchObject({
        status: 'active',
        cycle_index: '2',
        current_period_start: subscription.current_period_end,
      });
      expect((await webhookTypes()).slice(-3)).toEqual(['v2.trades.created', 'v2.trades.succeeded', 'v2.invoice.paid']);
    } finally {
      await emulator.stop();
    }
  });

  it('honours "fail the next N charges": a payment_failed trade with last_payment_error, the subscription unchanged', async () => {
    const { emulator, api, control, subscribe, webhookTypes } = await emulatorFor({
      merchants: [{ ...MERCHANT, renewals: 'merchant' }],
    });
    try {
      const { trade, subscription } = await subscribe();
      await control('POST', '/charges/fail-next', { count: 1, code: 'insufficient_funds' });
      const body = {
        order_id: 'r1',
        amount: '30.00',
        currency: 'USD',
        payment_mode: 'recurring_payment',
        payment_token: trade.payment_token,
      };
      const failed = await api('POST', '/api/v1/trade', body);
      expect(failed.status).toBe(200);
      expect(failed.data).toMatchObject({
        trade_status: 'payment_failed',
        last_payment_error: { code: 'insufficient_funds' },
      });
      expect((await webhookTypes()).slice(-2)).toEqual(['v2.trades.created', 'v2.trades.payment_failed']);
      expect((await api('GET', `/api/v1/subscription/${String(subscription.id)}`)).data.cycle_index).toBe('1');
      expect((await api('POST', '/api/v1/trade', body)).data.trade_status).toBe('succeeded');
    } finally {
      await emulator.stop();
    }
  });

  it('refuses an unknown token, another payment mode, and a bad amount, naming the field', async () => {
    const { emulator, api, subscribe } = await emulatorFor();
    try {
      const { trade } = await subscribe();
      const good = {
        order_id: 'r',
        amount: '30.00',
        currency: 'USD',
        payment_mode: 'recurring_payment',
        payment_token: trade.payment_token,
      };
      const cases: [Json, string][] = [
        [{ payment_token: 'pt_nope' }, 'payment_token: '],
        [{ payment_token: undefined }, 'payment_token: is required'],
        [{ payment_mode: 'onetime_payment' }, 'payment_mode: '],
        [{ payment_mode: undefined }, 'payment_mode: is required'],
        [{ amount: '30.001' }, 'amount: '],
        [{ order_id: undefined }, 'order_id: is required'],
      ];
      for (const [overrides, message] of cases) {
        const answer = await api('POST', '/api/v1/trade', { ...good, ...overrides });
        expect({ status: answer.status, code: answer.code }).toEqual({ status: 400, code: 'invalidParameter' });
        expect(answer.message.startsWith(message)).toBe(true);
      }
    } finally {
      await emulator.stop();
    }
  });
});

describe('Subotiz emulator: finding a refund after a lost answer', () => {
  it('lists a trade’s refunds (List Refunds by trade_id, and /trades/{id}/refunds) with the metadata sent', async () => {
    // The refund stays pending for the whole test: settling between the two listings would make them differ.
    const { emulator, api, subscribe } = await emulatorFor({ refundSettleMs: 60_000 });
    try {
      const { trade } = await subscribe();
      const created = await api('POST', '/api/v1/refund', {
        trade_id: trade.trade_id,
        amount: '5.00',
        metadata: { refund_id: 'ref_123' },
      });
      expect(created.data.metadata).toEqual({ refund_id: 'ref_123' });
      const byQuery = await api('GET', `/api/v1/refunds?trade_id=${String(trade.trade_id)}&page=1&page_size=10`);
      expect(byQuery.data).toMatchObject({
        total: 1,
        list: [{ refund_id: created.data.refund_id, metadata: { refund_id: 'ref_123' } }],
      });
      const byTrade = await api('GET', `/api/v1/trades/${String(trade.trade_id)}/refunds`);
      expect(byTrade.data).toEqual(byQuery.data);
      expect((await api('GET', '/api/v1/refunds?trade_id=1')).data).toEqual({ list: [], total: 0 });
      expect((await api('GET', '/api/v1/trades/1/refunds')).status).toBe(404);
    } finally {
      await emulator.stop();
    }
  });
});

describe('Subotiz emulator under a shared server mount', () => {
  it('serves its API, controls and pages below /<provider>, and 405s a wrong method', async () => {
    const { startEmulatorServer } = await import('../../adapters/kit/emulator/server');
    const server = await startEmulatorServer({});
    const { emulator, api, control, sessionBody } = await emulatorFor({ mount: server.mount('/subotiz') });
    try {
      expect(emulator.url).toBe(`${server.url}/subotiz`);
      const created = await api('POST', '/api/v1/session', sessionBody());
      expect(created.data.session_url).toBe(`${server.url}/subotiz/checkout/${String(created.data.id)}`);
      expect((await fetch(String(created.data.session_url))).status).toBe(200);
      expect((await control('GET', '/state')).sessions).toBe(1);
      expect((await fetch(`${server.url}/other/api/v1/trades`)).status).toBe(404);
      const wrong = await fetch(`${emulator.url}/__emulator/clock/advance`);
      expect(wrong.status).toBe(405);
    } finally {
      await emulator.stop();
      await server.close();
    }
  });
});
