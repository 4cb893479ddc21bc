import { paytiko } from '../../adapters/paytiko';
import { DomainError } from '../../src/domain/errors';
import type { HttpTransport, ProviderHttpRequest } from '../../src/ports/http-transport.port';
import type { CheckoutRequest, ProviderCallContext } from '../../src/ports/provider-adapter.port';

// The preflight is pure: these tests give the adapter a transport that records every request, and expect none.

const sent: ProviderHttpRequest[] = [];
const recordingTransport: HttpTransport = {
  send: (request) => {
    sent.push(request);
    return Promise.reject(new Error('no HTTP call was expected'));
  },
};
const logger = { info: () => undefined, warn: () => undefined, error: () => undefined, debug: () => undefined };
const adapter = paytiko.create!({ clock: { now: () => new Date() }, logger, http: recordingTransport });
const preflight = (ctx: ProviderCallContext, request: CheckoutRequest) => adapter.preflight!.checkout!(ctx, request);

const ctx = (over: Partial<ProviderCallContext> = {}): ProviderCallContext => ({
  storefrontId: 'sf_1',
  config: { base_url: 'https://core.paytiko.com', processor_key: '3f2a1c9e-8b7d-4e6f-9a1b-2c3d4e5f6a7b' },
  secrets: { username: 'merchant', password: 'pw' },
  signal: new AbortController().signal,
  idempotencyKey: 'idem-1',
  webhookUrl: 'https://billing.example.com/webhooks/paytiko/sf_1',
  ...over,
});

/** As the core asks: the order id is not chosen yet. */
const request = (over: Partial<CheckoutRequest> = {}): CheckoutRequest => ({
  orderId: '',
  mode: 'subscription',
  uiMode: 'hosted',
  customer: { id: 'cus_1', email: 'ada@example.com', name: 'Ada Lovelace', phone: '+4915112345678', country: 'DE' },
  plan: {
    id: 'plan_basic',
    name: 'Basic monthly',
    price: { currency: 'EUR', amountMinor: 999n },
    interval: { unit: 'MONTH', count: 1 },
    trialDays: 0,
  },
  quantity: 2,
  successUrl: 'https://shop.example.com/done',
  ...over,
});

function errorOf(run: () => unknown): DomainError {
  try {
    run();
  } catch (error) {
    expect(error).toBeInstanceOf(DomainError);
    return error as DomainError;
  }
  throw new Error('expected a DomainError');
}

describe('Paytiko checkout preflight (before anything is written or sent)', () => {
  afterEach(() => {
    expect(sent).toEqual([]);
  });

  it('passes a checkout Paytiko would take, before the order id is chosen', () => {
    expect(() => preflight(ctx(), request())).not.toThrow();
    // A customer Paytiko knows already is not checked again (their details were taken when created).
    const known = request({
      customer: {
        id: 'cus_1',
        email: '',
        name: '',
        phone: '',
        country: '',
        providerRef: 'cstmr_0123456789abcdef01234567',
      },
    });
    expect(() => preflight(ctx({ config: { base_url: 'https://core.paytiko.com' } }), known)).not.toThrow();
  });

  it('names every bad field of the customer, the plan terms and the return link at once', () => {
    const error = errorOf(() =>
      preflight(
        ctx(),
        request({
          customer: { id: 'cus_1', email: 'not-an-email', name: 'Madonna', phone: '0151', country: 'XX' },
          plan: {
            id: 'plan_x',
            name: '',
            price: { currency: 'EUR', amountMinor: 0n },
            interval: { unit: 'MONTH', count: 13 },
            trialDays: 0,
          },
          successUrl: 'http://shop.example.com/done',
        }),
      ),
    );
    expect(error.code).toBe('INVALID_ARGUMENT');
    expect(error.violations.map((v) => v.field).sort()).toEqual(
      [
        'customer.country',
        'customer.email',
        'customer.name',
        'customer.phone',
        'plan.interval.count',
        'plan.name',
        'plan.price',
        'success_url',
      ].sort(),
    );
  });

  it('judges the metadata length with an order id as long as the one the core will choose', () => {
    // {"subscription_id":"sub_<26>","plan_id":"…","change":"chg_<24>"} is 105 characters + the plan id (≤ 1000).
    const plan = request().plan!;
    expect(() => preflight(ctx(), request({ plan: { ...plan, id: 'p'.repeat(895) } }))).not.toThrow();
    const error = errorOf(() => preflight(ctx(), request({ plan: { ...plan, id: 'p'.repeat(896) } })));
    expect(error.violations).toEqual([
      { field: 'plan.id', rule: expect.stringContaining('metadata longer than 1000') },
    ]);
  });

  it('does not judge cancel_url: Paytiko has one return link and it is not sent', () => {
    expect(() => preflight(ctx(), request({ cancelUrl: 'http://shop.example.com/cancel' }))).not.toThrow();
  });

  it('refuses what Paytiko cannot do, or a binding that cannot call it, as FAILED_PRECONDITION', () => {
    const cases: [string, ProviderCallContext, CheckoutRequest, RegExp][] = [
      ['payment mode', ctx(), request({ mode: 'payment', plan: undefined }), /memberships only/],
      ['embedded', ctx(), request({ uiMode: 'embedded' }), /hosted checkout page only/],
      [
        'trial',
        ctx(),
        request({ plan: { ...request().plan!, trialDays: 14 } }),
        /14-day trial, and Paytiko memberships have no trial/,
      ],
      ['base_url', ctx({ config: { processor_key: '3f2a1c9e-8b7d-4e6f-9a1b-2c3d4e5f6a7b' } }), request(), /base_url/],
      ['credentials', ctx({ secrets: { username: 'merchant' } }), request(), /lacks secret 'password'/],
      ['processor_key', ctx({ config: { base_url: 'https://core.paytiko.com' } }), request(), /processor_key/],
      ['webhook URL', ctx({ webhookUrl: 'http://billing.example.com/webhooks' }), request(), /PUBLIC_BASE_URL/],
      [
        'emitter queue',
        ctx({ config: { ...ctx().config, test_charge_emitter_queue: 'Success,Maybe' } }),
        request(),
        /test_charge_emitter_queue item 2/,
      ],
      [
        'stored customer reference',
        ctx(),
        request({
          customer: { id: 'cus_1', email: '', name: '', phone: '', country: '', providerRef: 'cus_elsewhere' },
        }),
        /not a Paytiko key/,
      ],
    ];
    for (const [name, context, checkout, message] of cases) {
      const error = errorOf(() => preflight(context, checkout));
      expect({ name, code: error.code }).toEqual({ name, code: 'FAILED_PRECONDITION' });
      expect(error.message).toMatch(message);
    }
  });

  it('createCheckout runs the same checks first: a refused checkout sends nothing, not even the customer', async () => {
    const bad = request({ orderId: 'sub_01jabcdefghjkmnpqrstvwxyz0', successUrl: 'ftp://x' });
    const error = (await adapter.operations.createCheckout!(ctx(), bad).catch((e: unknown) => e)) as DomainError;
    expect(error.code).toBe('INVALID_ARGUMENT');
    expect(error.violations).toEqual([
      { field: 'success_url', rule: 'must be an https URL (Paytiko accepts plain http only to a loopback host)' },
    ]);
  });
});
